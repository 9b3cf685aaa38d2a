// Public ids: 20 base64url characters, never starting with '-' or '_' (which a CLI would read as
// an option), and distinct.
import { describe, expect, it } from 'vitest';
import { newPublicId } from '../../src/store/public-id.js';

describe('newPublicId', () => {
  it('answers 20 base64url characters starting with a letter or digit, all distinct', () => {
    const ids = Array.from({ length: 20_000 }, newPublicId);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9][A-Za-z0-9_-]{19}$/);
    expect(new Set(ids).size).toBe(ids.length);
    // With 20,000 draws, '-' and '_' still appear inside ids: only the first character is constrained.
    expect(ids.some((id) => /[-_]/.test(id.slice(1)))).toBe(true);
  });
});
