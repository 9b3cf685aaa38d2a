/**
 * The public library (`import … from "signalbank"`, SPEC §7): signal types and hash helpers,
 * the error hierarchy, and — as the parts land — local hashing, the Hamming index and the
 * request-signing client.
 */
export * from './errors.js';
export type { SignalType, SignalTypeName } from './signals/signal-type.js';
export { getSignalType, isSignalTypeName, SIGNAL_TYPES, SIGNAL_TYPE_NAMES } from './signals/registry.js';
export { hammingDistanceHex } from './signals/hex.js';
export { signRequest, signingKeyFromJwk, loadSigningKey } from './client/sign-request.js';
export type { SigningKey, RequestToSign, SignOptions } from './client/sign-request.js';
export { SignalbankClient, errorFromAnswer, withQuery } from './client/signalbank-client.js';
export type { ClientOptions, SubmitItem, MatchRequestQuery, MatchHit, SubmitAnswer, MatchAnswer } from './client/signalbank-client.js';
export { generateMemberKeyPair } from './auth/member-keys.js';
