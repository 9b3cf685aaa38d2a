/**
 * The public library (`import … from "signalbank"`, SPEC §7): local hashing (`hashImage`), signal
 * types and hash helpers, the Hamming index, the error hierarchy, the request signer and the API client.
 */
export * from './errors.js';
export type { SignalType, SignalTypeName } from './signals/signal-type.js';
export { getSignalType, isSignalTypeName, SIGNAL_TYPES, SIGNAL_TYPE_NAMES } from './signals/registry.js';
export { hammingDistanceHex } from './signals/hex.js';
export { hashImage } from './hashing/hash-image.js';
export type { HashImageOptions, HashType } from './hashing/hash-options.js';
export type { ImageHashes } from './hashing/image-hasher.js';
export type { PdqDihedralHashes, PdqResult } from './hashing/pdq/pdq-hasher.js';
export { signRequest, signingKeyFromJwk, loadSigningKey } from './client/sign-request.js';
export type { SigningKey, RequestToSign, SignOptions } from './client/sign-request.js';
export { SignalbankClient, errorFromAnswer, withQuery } from './client/signalbank-client.js';
export type { ClientOptions, SubmitItem, MatchRequestQuery, MatchHit, SubmitAnswer, MatchAnswer, JobStatus } from './client/signalbank-client.js';
export type { JobInput, JobQueryInput } from './client/spooled-body.js';
export { generateMemberKeyPair } from './auth/member-keys.js';
export type { Hash256, HammingIndex, IndexMatch, SearchOptions } from './index/hamming-index.js';
export { createHammingIndex, type CreateHammingIndexOptions } from './index/create-hamming-index.js';
export { LinearScanIndex } from './index/linear-scan-index.js';
export { MultiIndexHashingIndex, type MultiIndexOptions } from './index/multi-index-hashing-index.js';
