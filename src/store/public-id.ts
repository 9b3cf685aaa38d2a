/**
 * Public ids of signals and jobs: 120 random bits as 20 base64url characters. The first character
 * is always a letter or digit, so an id never reads as a command-line option (`-x…`) when a
 * member passes it to the CLI; the other 19 characters keep the full alphabet (≥ 119 bits).
 */
import { randomBytes } from 'node:crypto';

const STARTS_WITH_LETTER_OR_DIGIT = /^[A-Za-z0-9]/;

export function newPublicId(): string {
  for (;;) {
    const id = randomBytes(15).toString('base64url');
    if (STARTS_WITH_LETTER_OR_DIGIT.test(id)) return id;
  }
}
