/**
 * The `SignalType` contract: everything the bank knows about one kind of hash (SPEC §2) — how
 * to parse and normalise its value, how far apart two values are, the default and maximum
 * match distance, and which submission quality it requires. Routes, the store and the index
 * ask the signal type rather than hard-coding per-type rules.
 */

export type SignalTypeName = 'pdq' | 'blockhash' | 'md5' | 'sha256';

export interface SignalType {
  readonly name: SignalTypeName;
  /** `perceptual` types match within a Hamming radius; `exact` types only on equality. */
  readonly kind: 'perceptual' | 'exact';
  /** Length of the normalised hex value. */
  readonly hexLength: number;
  readonly bits: number;
  readonly defaultMaxDistance: number;
  readonly maxMaxDistance: number;
  /** Whether submissions must carry a quality score (0–100). */
  readonly requiresQuality: boolean;
  /** Lowest quality accepted when `requiresQuality`; 0 otherwise. */
  readonly minQuality: number;
  /** Parses a hash string in any case; answers it lower case or throws `InputError`. */
  parseHash(value: string): string;
  /** Distance between two normalised values of this type. */
  distance(a: string, b: string): number;
  /** Checks a match radius; answers it or throws `ERR_INVALID_DISTANCE`. */
  parseMaxDistance(value: number | undefined): number;
  /** Checks a submission's quality; answers it (undefined for types without one) or throws. */
  parseQuality(value: number | undefined): number | undefined;
}
