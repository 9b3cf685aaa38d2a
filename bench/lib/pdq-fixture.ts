/**
 * Data set (c): the PDQ reference lists from ThreatExchange in `fixtures/pdq/` — 1350 haystack
 * hashes, 100 needles, and every needle–haystack pair within distance 31 (250 pairs, checked
 * upstream against the C++ `mih-query`). Haystack line n is id n.
 */
import { readFileSync } from 'node:fs';

export interface PdqFixture {
  readonly haystack: readonly string[];
  readonly needles: readonly string[];
  /** `"needleLine:haystackLine:distance"`, sorted. */
  readonly pairs: readonly string[];
}

function lines(file: string): string[] {
  return readFileSync(new URL(`../../fixtures/pdq/${file}`, import.meta.url), 'utf8').trim().split('\n');
}

export function loadPdqFixture(): PdqFixture {
  const pairs = lines('needles-haystack-matches-d31.csv')
    .slice(1)
    .map((row) => row.split(','))
    .map(([needle, , haystackLine, , distance]) => `${needle}:${haystackLine}:${distance}`)
    .sort();
  return { haystack: lines('haystack.txt'), needles: lines('needles.txt'), pairs };
}

/** The packed bytes of hex hashes. */
export function packHex(hashes: readonly string[]): Uint8Array {
  const packed = new Uint8Array(hashes.length * 32);
  hashes.forEach((hash, i) => packed.set(Buffer.from(hash, 'hex'), i * 32));
  return packed;
}
