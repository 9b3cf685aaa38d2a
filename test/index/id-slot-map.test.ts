// The open-addressing id → slot map against a Map, through random inserts, replacements and
// deletions (backward-shift deletion is where such tables usually break).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IdSlotMap } from '../../src/index/id-slot-map.js';

describe('IdSlotMap', () => {
  it('agrees with a Map through random sets and deletes', () => {
    const op = fc.record({ remove: fc.boolean(), id: fc.oneof(fc.integer({ min: 0, max: 300 }), fc.constantFrom(0, 2 ** 32 - 1, 2 ** 31)) });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 400 }), (ops) => {
        const ids = new Uint32Array(ops.length);
        const map = new IdSlotMap();
        const model = new Map<number, number>();
        ops.forEach(({ remove, id }, slot) => {
          if (remove) {
            expect(map.delete(id, ids)).toBe(model.get(id) ?? -1);
            model.delete(id);
          } else {
            ids[slot] = id;
            expect(map.set(id, slot, ids)).toBe(model.get(id) ?? -1);
            model.set(id, slot);
          }
          expect(map.size).toBe(model.size);
        });
        for (let id = 0; id <= 300; id++) expect(map.get(id, ids)).toBe(model.get(id) ?? -1);
        for (const id of [2 ** 32 - 1, 2 ** 31]) expect(map.get(id, ids)).toBe(model.get(id) ?? -1);
      }),
      { seed: 7, numRuns: 200 },
    );
  });

  it('reserves room for a bulk insert', () => {
    const ids = Uint32Array.from({ length: 10_000 }, (_, i) => i * 7919);
    const map = new IdSlotMap();
    map.reserve(ids.length, ids);
    const bytes = map.bytes;
    ids.forEach((id, slot) => map.set(id, slot, ids));
    expect(map.bytes).toBe(bytes);
    expect(map.get(7919 * 9999, ids)).toBe(9999);
  });
});
