// Public ids: 20 base64url characters, never starting with '-' or '_' (which a CLI would read as
// an option), distinct, and prefixed by their creation second so that inserts land together in the index.
import { describe, expect, it } from 'vitest';
import { newPublicId } from '../../src/store/public-id.js';

const ID_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{19}$/;

describe('newPublicId', () => {
  it('answers 20 base64url characters starting with a letter or digit, all distinct', () => {
    const ids = Array.from({ length: 20_000 }, () => newPublicId());
    for (const id of ids) expect(id).toMatch(ID_RE);
    expect(new Set(ids).size).toBe(ids.length);
    // With 20,000 draws, '-' and '_' still appear inside ids: only the first character is constrained.
    expect(ids.some((id) => /[-_]/.test(id.slice(1)))).toBe(true);
  });

  it('starts with the creation second, so ids made within seconds of each other share a prefix', () => {
    const at = Date.UTC(2026, 11, 6, 12, 0, 0);
    const id = newPublicId(at);
    expect(Buffer.from(id, 'base64url').readUInt32BE(0)).toBe(at / 1000);
    // 30 of the 32 time bits are the first five characters: the same for 4 s (these 4 s start on a multiple of 4).
    const nearby = Array.from({ length: 400 }, (_, i) => newPublicId(at + 10 * i));
    for (const other of nearby) expect(other.slice(0, 5)).toBe(id.slice(0, 5));
    expect(newPublicId(at + 3600_000).slice(0, 5)).not.toBe(id.slice(0, 5));
  });

  it('draws a random id under the same rule when the clock would make it start with - or _', () => {
    // From 2101 on, the top six bits of the seconds are 62 ('-') and then 63 ('_').
    const dash = 62 * 2 ** 26 * 1000;
    for (let i = 0; i < 200; i++) expect(newPublicId(dash)).toMatch(ID_RE);
  });
});
