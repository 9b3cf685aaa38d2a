/**
 * The public library (`import … from "signalbank"`, SPEC §7): signal types and hash helpers,
 * the error hierarchy, and — as the parts land — local hashing, the Hamming index and the
 * request-signing client.
 */
export * from './errors.js';
export type { SignalType, SignalTypeName } from './signals/signal-type.js';
export { getSignalType, isSignalTypeName, SIGNAL_TYPES, SIGNAL_TYPE_NAMES } from './signals/registry.js';
export { hammingDistanceHex } from './signals/hex.js';
export type { Hash256, HammingIndex, IndexMatch, SearchOptions } from './index/hamming-index.js';
export { createHammingIndex, type CreateHammingIndexOptions } from './index/create-hamming-index.js';
export { LinearScanIndex } from './index/linear-scan-index.js';
export { MultiIndexHashingIndex, type MultiIndexOptions } from './index/multi-index-hashing-index.js';
