/**
 * The WebAssembly popcount kernels that every Hamming comparison of the index goes through: a
 * linear scan of a slot range against one query or against a block of queries, and the
 * verification of a gathered list of candidate slots. Each compares 32-byte hashes as four
 * `i64` words with `xor` + `i64.popcnt` and writes the hits to an output area as pairs of u32.
 * The module is assembled by `runtime/wasm/wasm-assembler.ts` and compiled once; each shared memory gets its
 * own instance (the main thread's and every worker's).
 *
 * Memory conventions (all byte addresses into the shared memory): slot `s` lives at
 * `hashes + 32 s`; a hit is written as `[slot, distance]`, or `[slot, queryIndex << 8 | distance]`
 * by the block scan, `[slot, tag << 8 | distance]` by the verification of `[slot, tag]` pairs. Callers size each call so that every hit fits the output area.
 */
import { assembleModule, FunctionAssembler, I32, I64 } from '../../runtime/wasm/wasm-assembler.js';
import { compileModule, type SharedWasmMemory } from '../../runtime/wasm/webassembly-api.js';

export const MAX_MEMORY_PAGES = 65536;

/** Pushes the distance between the hash at `pointer` and the four query words onto the stack. */
function pushDistance(f: FunctionAssembler, pointer: number, query: readonly number[]): void {
  for (let word = 0; word < 4; word++) {
    f.get(pointer).loadI64(word * 8).get(query[word]!).i64Xor().i64Popcnt();
    if (word > 0) f.i64Add();
  }
  f.i32WrapI64();
}

/** Loads the four i64 words at `pointer` into fresh locals. */
function loadWords(f: FunctionAssembler, pointer: number): number[] {
  const words = [0, 1, 2, 3].map(() => f.local(I64));
  words.forEach((local, word) => f.get(pointer).loadI64(word * 8).set(local));
  return words;
}

/** Pushes `base + (index << shift)`. */
function address(f: FunctionAssembler, base: number, index: number, shift: number): FunctionAssembler {
  return f.get(base).get(index).i32Const(shift).i32Shl().i32Add();
}

/** When the distance on the stack is within `maxDistance`, writes `[first, second]` at `out + 8 n` and increments `n`. */
function emitHitWithin(f: FunctionAssembler, maxDistance: number, distance: number, out: number, n: number, hit: number, pushFirst: () => void, pushSecond: () => void): void {
  f.tee(distance).get(maxDistance).i32LeU().when(() => {
    address(f, out, n, 3).tee(hit);
    pushFirst();
    f.storeI32(0);
    f.get(hit);
    pushSecond();
    f.storeI32(4);
    f.advance(n, 1);
  });
}

/** scanOne(query, hashes, from, to, maxDistance, out) → hits, as [slot, distance]. */
function scanOne(): FunctionAssembler {
  const [query, hashes, from, to, maxDistance, out] = [0, 1, 2, 3, 4, 5];
  const f = new FunctionAssembler('scanOne', [I32, I32, I32, I32, I32, I32], [I32]);
  const q = loadWords(f, query);
  const [pointer, end, n, distance, slot, hit] = Array.from({ length: 6 }, () => f.local(I32)) as [number, number, number, number, number, number];
  address(f, hashes, from, 5).set(pointer);
  address(f, hashes, to, 5).set(end);
  f.get(from).set(slot);
  f.loopUntil(
    () => f.get(pointer).get(end).i32GeU(),
    () => {
      pushDistance(f, pointer, q);
      emitHitWithin(f, maxDistance, distance, out, n, hit, () => f.get(slot), () => f.get(distance));
      f.advance(pointer, 32).advance(slot, 1);
    },
  );
  f.get(n);
  return f;
}

/** scanBlock(queries, queryCount, hashes, from, to, maxDistance, out) → hits, as [slot, query << 8 | distance]. */
function scanBlock(): FunctionAssembler {
  const [queries, queryCount, hashes, from, to, maxDistance, out] = [0, 1, 2, 3, 4, 5, 6];
  const f = new FunctionAssembler('scanBlock', [I32, I32, I32, I32, I32, I32, I32], [I32]);
  const words = [0, 1, 2, 3].map(() => f.local(I64));
  const [pointer, end, n, distance, slot, queryPointer, queriesEnd, queryIndex, hit] = Array.from({ length: 9 }, () => f.local(I32)) as [
    number, number, number, number, number, number, number, number, number,
  ];
  address(f, hashes, from, 5).set(pointer);
  address(f, hashes, to, 5).set(end);
  address(f, queries, queryCount, 5).set(queriesEnd);
  f.get(from).set(slot);
  f.loopUntil(
    () => f.get(pointer).get(end).i32GeU(),
    () => {
      words.forEach((local, word) => f.get(pointer).loadI64(word * 8).set(local));
      f.get(queries).set(queryPointer);
      f.i32Const(0).set(queryIndex);
      f.loopUntil(
        () => f.get(queryPointer).get(queriesEnd).i32GeU(),
        () => {
          pushDistance(f, queryPointer, words);
          const pushQueryAndDistance = () => f.get(queryIndex).i32Const(8).i32Shl().get(distance).i32Or();
          emitHitWithin(f, maxDistance, distance, out, n, hit, () => f.get(slot), pushQueryAndDistance);
          f.advance(queryPointer, 32).advance(queryIndex, 1);
        },
      );
      f.advance(pointer, 32).advance(slot, 1);
    },
  );
  f.get(n);
  return f;
}

/** verify(query, hashes, candidates, count, maxDistance, out) → hits, as [slot, distance]. */
function verify(): FunctionAssembler {
  const [query, hashes, candidates, count, maxDistance, out] = [0, 1, 2, 3, 4, 5];
  const f = new FunctionAssembler('verify', [I32, I32, I32, I32, I32, I32], [I32]);
  const q = loadWords(f, query);
  const [cursor, end, n, distance, slot, pointer, hit] = Array.from({ length: 7 }, () => f.local(I32)) as [
    number, number, number, number, number, number, number,
  ];
  f.get(candidates).set(cursor);
  address(f, candidates, count, 2).set(end);
  f.loopUntil(
    () => f.get(cursor).get(end).i32GeU(),
    () => {
      f.get(cursor).loadI32(0).tee(slot);
      f.i32Const(5).i32Shl().get(hashes).i32Add().set(pointer);
      pushDistance(f, pointer, q);
      emitHitWithin(f, maxDistance, distance, out, n, hit, () => f.get(slot), () => f.get(distance));
      f.advance(cursor, 4);
    },
  );
  f.get(n);
  return f;
}

/**
 * verifyPairs(queries, hashes, pairs, count, maxDistance, out) → hits, as [slot, tag << 8 | distance].
 * Each pair is `[slot, tag]`; the low 16 bits of the tag are the query's index in the block at `queries`.
 */
function verifyPairs(): FunctionAssembler {
  const [queries, hashes, pairs, count, maxDistance, out] = [0, 1, 2, 3, 4, 5];
  const f = new FunctionAssembler('verifyPairs', [I32, I32, I32, I32, I32, I32], [I32]);
  const [cursor, end, n, distance, slot, tag, pointer, queryPointer, hit] = Array.from({ length: 9 }, () => f.local(I32)) as [
    number, number, number, number, number, number, number, number, number,
  ];
  f.get(pairs).set(cursor);
  address(f, pairs, count, 3).set(end);
  f.loopUntil(
    () => f.get(cursor).get(end).i32GeU(),
    () => {
      f.get(cursor).loadI32(0).tee(slot);
      f.i32Const(5).i32Shl().get(hashes).i32Add().set(pointer);
      // queryPointer = queries + 32 · (tag mod 2^16)
      f.get(cursor).loadI32(4).tee(tag);
      f.get(tag).i32Const(16).i32ShrU().i32Const(16).i32Shl().i32Sub();
      f.i32Const(5).i32Shl().get(queries).i32Add().set(queryPointer);
      for (let word = 0; word < 4; word++) {
        f.get(pointer).loadI64(word * 8).get(queryPointer).loadI64(word * 8).i64Xor().i64Popcnt();
        if (word > 0) f.i64Add();
      }
      f.i32WrapI64();
      const pushTagAndDistance = () => f.get(tag).i32Const(8).i32Shl().get(distance).i32Or();
      emitHitWithin(f, maxDistance, distance, out, n, hit, () => f.get(slot), pushTagAndDistance);
      f.advance(cursor, 8);
    },
  );
  f.get(n);
  return f;
}

export interface PopcountKernel {
  /** Hits of one query among slots [from, to): `[slot, distance]` pairs at `out`; answers their number. */
  scanOne(query: number, hashes: number, from: number, to: number, maxDistance: number, out: number): number;
  /** Hits of `queryCount` queries among slots [from, to): `[slot, queryIndex << 8 | distance]` pairs. */
  scanBlock(queries: number, queryCount: number, hashes: number, from: number, to: number, maxDistance: number, out: number): number;
  /** Hits among the `count` u32 slots listed at `candidates`: `[slot, distance]` pairs at `out`. */
  verify(query: number, hashes: number, candidates: number, count: number, maxDistance: number, out: number): number;
  /**
   * Hits among the `count` u32 pairs `[slot, tag]` listed at `pairs`, each against the query of
   * the block at `queries` whose index is the tag's low 16 bits (tag < 2^24): `[slot, tag << 8 | distance]` pairs at `out`.
   */
  verifyPairs(queries: number, hashes: number, pairs: number, count: number, maxDistance: number, out: number): number;
}

function popcountModuleBytes(): Uint8Array {
  return assembleModule([scanOne(), scanBlock(), verify(), verifyPairs()], { importedShared: { maximumPages: MAX_MEMORY_PAGES } });
}

const instantiate = compileModule<PopcountKernel>(popcountModuleBytes);

/** Instantiates the kernels over `memory` (a shared memory of at most `MAX_MEMORY_PAGES`). */
export function instantiatePopcountKernel(memory: SharedWasmMemory): PopcountKernel {
  return instantiate({ env: { memory } });
}
