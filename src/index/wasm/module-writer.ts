/**
 * A minimal WebAssembly binary writer: just enough of the format (types, one imported shared
 * memory, functions, exports) and of the instruction set (integer arithmetic, loads and stores,
 * structured control flow, `i64.popcnt`) to express the index's popcount kernels in TypeScript,
 * so that no compiler toolchain or committed binary blob is needed. Instructions are written as
 * opcode bytes through `FunctionBodyWriter`; `writeModule` wraps them into a valid module.
 */

export const I32 = 0x7f;
export const I64 = 0x7e;
export type ValueType = typeof I32 | typeof I64;

/** Opcodes used by the kernels (WebAssembly core spec, section 5.4). */
export const Op = {
  block: 0x02,
  loop: 0x03,
  if: 0x04,
  end: 0x0b,
  br: 0x0c,
  brIf: 0x0d,
  return: 0x0f,
  localGet: 0x20,
  localSet: 0x21,
  localTee: 0x22,
  i32Load: 0x28,
  i64Load: 0x29,
  i32Store: 0x36,
  i32Const: 0x41,
  i32Eqz: 0x45,
  i32LtU: 0x49,
  i32LeU: 0x4d,
  i32GeU: 0x4f,
  i32Add: 0x6a,
  i32Sub: 0x6b,
  i32Or: 0x72,
  i32Shl: 0x74,
  i64Popcnt: 0x7b,
  i64Add: 0x7c,
  i64Xor: 0x85,
  i32WrapI64: 0xa7,
} as const;

const EMPTY_BLOCK_TYPE = 0x40;

export function unsignedLeb128(value: number): number[] {
  const bytes: number[] = [];
  let rest = value >>> 0;
  do {
    let byte = rest & 0x7f;
    rest >>>= 7;
    if (rest !== 0) byte |= 0x80;
    bytes.push(byte);
  } while (rest !== 0);
  return bytes;
}

export function signedLeb128(value: number): number[] {
  const bytes: number[] = [];
  let rest = value | 0;
  for (;;) {
    const byte = rest & 0x7f;
    rest >>= 7;
    const done = (rest === 0 && (byte & 0x40) === 0) || (rest === -1 && (byte & 0x40) !== 0);
    bytes.push(done ? byte : byte | 0x80);
    if (done) return bytes;
  }
}

/** Writes one function body; locals are numbered after the parameters, in declaration order. */
export class FunctionBodyWriter {
  private readonly code: number[] = [];
  private readonly localTypes: ValueType[] = [];

  constructor(private readonly paramCount: number) {}

  /** Declares a local and answers its index. */
  local(type: ValueType): number {
    this.localTypes.push(type);
    return this.paramCount + this.localTypes.length - 1;
  }

  op(opcode: number): this {
    this.code.push(opcode);
    return this;
  }

  get(index: number): this {
    this.code.push(Op.localGet, ...unsignedLeb128(index));
    return this;
  }

  set(index: number): this {
    this.code.push(Op.localSet, ...unsignedLeb128(index));
    return this;
  }

  tee(index: number): this {
    this.code.push(Op.localTee, ...unsignedLeb128(index));
    return this;
  }

  i32(value: number): this {
    this.code.push(Op.i32Const, ...signedLeb128(value));
    return this;
  }

  /** A load or store with its alignment exponent and constant byte offset. */
  memory(opcode: number, alignLog2: number, offset: number): this {
    this.code.push(opcode, alignLog2, ...unsignedLeb128(offset));
    return this;
  }

  /** Opens `block`, `loop` or `if` without a result. */
  open(opcode: typeof Op.block | typeof Op.loop | typeof Op.if): this {
    this.code.push(opcode, EMPTY_BLOCK_TYPE);
    return this;
  }

  /** `br` / `br_if` to the enclosing label `depth` levels out. */
  branch(opcode: typeof Op.br | typeof Op.brIf, depth: number): this {
    this.code.push(opcode, ...unsignedLeb128(depth));
    return this;
  }

  bytes(): number[] {
    const groups: number[] = [];
    let count = 0;
    for (let i = 0; i < this.localTypes.length; ) {
      const type = this.localTypes[i]!;
      let run = 1;
      while (this.localTypes[i + run] === type) run++;
      groups.push(...unsignedLeb128(run), type);
      count++;
      i += run;
    }
    const body = [...unsignedLeb128(count), ...groups, ...this.code, Op.end];
    return [...unsignedLeb128(body.length), ...body];
  }
}

export interface FunctionDefinition {
  readonly name: string;
  readonly params: readonly ValueType[];
  readonly results: readonly ValueType[];
  readonly body: FunctionBodyWriter;
}

function section(id: number, payload: number[]): number[] {
  return [id, ...unsignedLeb128(payload.length), ...payload];
}

function vector(items: readonly number[][]): number[] {
  return [...unsignedLeb128(items.length), ...items.flat()];
}

function name(text: string): number[] {
  const bytes = [...new TextEncoder().encode(text)];
  return [...unsignedLeb128(bytes.length), ...bytes];
}

/**
 * A module importing `env.memory` as a shared memory of at most `maximumPages` pages and
 * exporting each function under its name.
 */
export function writeModule(functions: readonly FunctionDefinition[], maximumPages: number): Uint8Array {
  const types = functions.map((f) => [0x60, ...unsignedLeb128(f.params.length), ...f.params, ...unsignedLeb128(f.results.length), ...f.results]);
  const sharedLimits = [0x03, ...unsignedLeb128(0), ...unsignedLeb128(maximumPages)];
  const memoryImport = [...name('env'), ...name('memory'), 0x02, ...sharedLimits];
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vector(types)),
    ...section(2, vector([memoryImport])),
    ...section(3, vector(functions.map((_, i) => unsignedLeb128(i)))),
    ...section(7, vector(functions.map((f, i) => [...name(f.name), 0x00, ...unsignedLeb128(i)]))),
    ...section(10, vector(functions.map((f) => f.body.bytes()))),
  ];
  return Uint8Array.from(bytes);
}
