/**
 * The public library (`import … from "signalbank"`, SPEC §7): signal types and hash helpers,
 * the error hierarchy, and — as the parts land — local hashing, the Hamming index and the
 * request-signing client.
 */
export * from './errors.js';
export type { SignalType, SignalTypeName } from './signals/signal-type.js';
export { getSignalType, isSignalTypeName, SIGNAL_TYPES, SIGNAL_TYPE_NAMES } from './signals/registry.js';
export { hammingDistanceHex } from './signals/hex.js';
export { hashImage } from './hashing/hash-image.js';
export type { HashImageOptions, HashType } from './hashing/hash-options.js';
export type { ImageHashes } from './hashing/image-hasher.js';
export type { PdqDihedralHashes, PdqResult } from './hashing/pdq/pdq-hasher.js';
