/**
 * The project's one WebAssembly assembler: function bodies written instruction by instruction
 * through `FunctionAssembler`, and `assembleModule` wrapping them into a module that either
 * defines and exports its own memory (the hashing kernels) or imports one shared memory (the
 * index's popcount kernels, shared by every search thread), exporting every function by name.
 * It knows only the instructions those kernels need (i32 control and arithmetic, i64 xor and
 * popcount, f32 and f64 arithmetic, loads and stores, a few 128-bit SIMD f32x4 operations), so
 * the kernels are plain TypeScript with no compiler toolchain and no binary blob in the
 * repository.
 */

export const I32 = 0x7f;
export const I64 = 0x7e;
export const F32 = 0x7d;
export const F64 = 0x7c;
export const V128 = 0x7b;
export type ValueType = typeof I32 | typeof I64 | typeof F32 | typeof F64 | typeof V128;

const EMPTY_BLOCK = 0x40;
const SIMD_PREFIX = 0xfd;

export function unsignedLeb(value: number): number[] {
  const out: number[] = [];
  let rest = value >>> 0;
  do {
    const low = rest & 0x7f;
    rest >>>= 7;
    out.push(rest === 0 ? low : low | 0x80);
  } while (rest !== 0);
  return out;
}

export function signedLeb(value: number): number[] {
  const out: number[] = [];
  let rest = value | 0;
  for (;;) {
    const low = rest & 0x7f;
    rest >>= 7;
    const last = (rest === 0 && (low & 0x40) === 0) || (rest === -1 && (low & 0x40) !== 0);
    out.push(last ? low : low | 0x80);
    if (last) return out;
  }
}

function encodeName(text: string): number[] {
  const bytes = [...new TextEncoder().encode(text)];
  return [...unsignedLeb(bytes.length), ...bytes];
}

/** One function body. Parameters are locals 0…n-1; `local` declares more after them. */
export class FunctionAssembler {
  private readonly code: number[] = [];
  private readonly locals: ValueType[] = [];

  constructor(
    readonly name: string,
    readonly params: readonly ValueType[],
    readonly results: readonly ValueType[] = [],
  ) {}

  local(type: ValueType): number {
    this.locals.push(type);
    return this.params.length + this.locals.length - 1;
  }

  get(index: number): this {
    return this.emit(0x20, ...unsignedLeb(index));
  }

  set(index: number): this {
    return this.emit(0x21, ...unsignedLeb(index));
  }

  /** `local.tee`: sets the local and keeps the value on the stack. */
  tee(index: number): this {
    return this.emit(0x22, ...unsignedLeb(index));
  }

  i32Const(value: number): this {
    return this.emit(0x41, ...signedLeb(value));
  }

  f32Const(value: number): this {
    const bytes = new Uint8Array(new Float32Array([value]).buffer);
    return this.emit(0x43, ...bytes);
  }

  f64Const(value: number): this {
    const bytes = new Uint8Array(new Float64Array([value]).buffer);
    return this.emit(0x44, ...bytes);
  }

  i32Add(): this {
    return this.emit(0x6a);
  }

  i32Sub(): this {
    return this.emit(0x6b);
  }

  i32Mul(): this {
    return this.emit(0x6c);
  }

  i32Shl(): this {
    return this.emit(0x74);
  }

  i32Or(): this {
    return this.emit(0x72);
  }

  i32LeU(): this {
    return this.emit(0x4d);
  }

  i32WrapI64(): this {
    return this.emit(0xa7);
  }

  i64Xor(): this {
    return this.emit(0x85);
  }

  i64Add(): this {
    return this.emit(0x7c);
  }

  i64Popcnt(): this {
    return this.emit(0x7b);
  }

  loadI64(offset = 0): this {
    return this.emit(0x29, 3, ...unsignedLeb(offset));
  }

  storeI32(offset = 0): this {
    return this.emit(0x36, 2, ...unsignedLeb(offset));
  }

  i32Eq(): this {
    return this.emit(0x46);
  }

  /** `select`: the first operand if the condition (top) is non-zero, else the second. */
  select(): this {
    return this.emit(0x1b);
  }

  f64Add(): this {
    return this.emit(0xa0);
  }

  f64Mul(): this {
    return this.emit(0xa2);
  }

  f64Div(): this {
    return this.emit(0xa3);
  }

  f64PromoteF32(): this {
    return this.emit(0xbb);
  }

  f32DemoteF64(): this {
    return this.emit(0xb6);
  }

  f64ConvertI32S(): this {
    return this.emit(0xb7);
  }

  loadI32(offset = 0): this {
    return this.emit(0x28, 2, ...unsignedLeb(offset));
  }

  loadF64(offset = 0): this {
    return this.emit(0x2b, 3, ...unsignedLeb(offset));
  }

  storeF64(offset = 0): this {
    return this.emit(0x39, 3, ...unsignedLeb(offset));
  }

  /** Runs `body` when the i32 on top of the stack is non-zero. */
  when(body: () => void): this {
    this.emit(0x04, EMPTY_BLOCK);
    body();
    return this.emit(0x0b);
  }

  i32ShrU(): this {
    return this.emit(0x76);
  }

  i32Eqz(): this {
    return this.emit(0x45);
  }

  i32GeU(): this {
    return this.emit(0x4f);
  }

  f32Add(): this {
    return this.emit(0x92);
  }

  f32Sub(): this {
    return this.emit(0x93);
  }

  f32Mul(): this {
    return this.emit(0x94);
  }

  f32Div(): this {
    return this.emit(0x95);
  }

  /** Signed conversion: exact for bytes, and cheaper than the unsigned one on x86. */
  f32ConvertI32S(): this {
    return this.emit(0xb2);
  }

  /** `i32.load8_u` at the address on the stack plus `offset`. */
  loadU8(offset = 0): this {
    return this.emit(0x2d, 0, ...unsignedLeb(offset));
  }

  loadF32(offset = 0): this {
    return this.emit(0x2a, 2, ...unsignedLeb(offset));
  }

  /** Stores the value on top of the stack at the address below it. */
  storeF32(offset = 0): this {
    return this.emit(0x38, 2, ...unsignedLeb(offset));
  }

  loadV128(offset = 0): this {
    return this.emit(SIMD_PREFIX, ...unsignedLeb(0x00), 4, ...unsignedLeb(offset));
  }

  storeV128(offset = 0): this {
    return this.emit(SIMD_PREFIX, ...unsignedLeb(0x0b), 4, ...unsignedLeb(offset));
  }

  f32x4Splat(): this {
    return this.emit(SIMD_PREFIX, ...unsignedLeb(0x13));
  }

  f32x4Add(): this {
    return this.emit(SIMD_PREFIX, ...unsignedLeb(0xe4));
  }

  f32x4Sub(): this {
    return this.emit(SIMD_PREFIX, ...unsignedLeb(0xe5));
  }

  f32x4Div(): this {
    return this.emit(SIMD_PREFIX, ...unsignedLeb(0xe7));
  }

  /**
   * A loop that runs `body` until `exitWhen` leaves a non-zero i32 on the stack; `exitWhen` is
   * evaluated before each pass (a `while (!exitWhen) body` loop).
   */
  loopUntil(exitWhen: () => void, body: () => void): this {
    this.emit(0x02, EMPTY_BLOCK, 0x03, EMPTY_BLOCK); // block, loop
    exitWhen();
    this.emit(0x0d, 1); // br_if out of the block
    body();
    this.emit(0x0c, 0, 0x0b, 0x0b); // br to loop start, end loop, end block
    return this;
  }

  /** local += step (i32). */
  advance(index: number, step: number): this {
    return this.get(index).i32Const(step).i32Add().set(index);
  }

  /**
   * A counted loop: runs `body` while local `counter` (i32) is non-zero, decrementing it
   * before each pass.
   */
  repeat(counter: number, body: () => void): this {
    this.emit(0x02, EMPTY_BLOCK, 0x03, EMPTY_BLOCK); // block, loop
    this.get(counter).i32Eqz().emit(0x0d, 1); // br_if out of the block
    this.get(counter).i32Const(1).i32Sub().set(counter);
    body();
    this.emit(0x0c, 0, 0x0b, 0x0b); // br to loop start, end loop, end block
    return this;
  }

  /** The body as the code section encodes it. */
  encode(): number[] {
    const groups: number[][] = [];
    for (let i = 0; i < this.locals.length; ) {
      let run = 1;
      while (this.locals[i + run] === this.locals[i]) run++;
      groups.push([...unsignedLeb(run), this.locals[i]!]);
      i += run;
    }
    const body = [...unsignedLeb(groups.length), ...groups.flat(), ...this.code, 0x0b];
    return [...unsignedLeb(body.length), ...body];
  }

  private emit(...bytes: number[]): this {
    this.code.push(...bytes);
    return this;
  }
}

function section(id: number, content: number[]): number[] {
  return [id, ...unsignedLeb(content.length), ...content];
}

function vector(items: number[][]): number[] {
  return [...unsignedLeb(items.length), ...items.flat()];
}

/**
 * Where a module's memory comes from: its own, exported as `memory` (`initialPages` of 64 KiB),
 * or a shared memory imported as `env.memory` of at most `maximumPages`.
 */
export type ModuleMemory = { readonly own: { readonly initialPages: number } } | { readonly importedShared: { readonly maximumPages: number } };

/** A module of `functions`, each exported under its name, over the given memory. */
export function assembleModule(functions: readonly FunctionAssembler[], memory: ModuleMemory): Uint8Array {
  const types = functions.map((f) => [0x60, ...unsignedLeb(f.params.length), ...f.params, ...unsignedLeb(f.results.length), ...f.results]);
  const exports = functions.map((f, i) => [...encodeName(f.name), 0x00, ...unsignedLeb(i)]);
  const header = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  const typeSection = section(1, vector(types));
  const functionSection = section(3, vector(functions.map((_, i) => unsignedLeb(i))));
  const codeSection = section(10, vector(functions.map((f) => f.encode())));
  if ('own' in memory) {
    return Uint8Array.from([
      ...header,
      ...typeSection,
      ...functionSection,
      ...section(5, vector([[0x00, ...unsignedLeb(memory.own.initialPages)]])),
      ...section(7, vector([[...encodeName('memory'), 0x02, 0], ...exports])),
      ...codeSection,
    ]);
  }
  const sharedLimits = [0x03, ...unsignedLeb(0), ...unsignedLeb(memory.importedShared.maximumPages)];
  return Uint8Array.from([
    ...header,
    ...typeSection,
    ...section(2, vector([[...encodeName('env'), ...encodeName('memory'), 0x02, ...sharedLimits]])),
    ...functionSection,
    ...section(7, vector(exports)),
    ...codeSection,
  ]);
}
