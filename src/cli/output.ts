/**
 * How every CLI command reports: results on stdout (NDJSON / JSON with `--json`, readable
 * text otherwise), diagnostics on stderr, and one mapping from failures to exit codes —
 * 0 only when everything asked for succeeded, 1 when some item or the command failed,
 * 2 for a usage error. Coded errors print their `ERR_*` code; nothing prints a stack trace
 * unless `SIGNALBANK_DEBUG` is set.
 */
import { isSignalbankError } from '../errors.js';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

export interface Output {
  readonly json: boolean;
  /** One result record: a JSON line in `--json` mode, `text` otherwise. */
  record(value: unknown, text?: string): void;
  /** A diagnostic line on stderr. */
  note(message: string): void;
}

export function createOutput(json: boolean, stdout: NodeJS.WritableStream = process.stdout, stderr: NodeJS.WritableStream = process.stderr): Output {
  return {
    json,
    record(value, text) {
      stdout.write(json || text === undefined ? `${JSON.stringify(value)}\n` : `${text}\n`);
    },
    note(message) {
      stderr.write(`${message}\n`);
    },
  };
}

/** Reports a failure that ends a command and answers the exit code to use. */
export function reportFailure(error: unknown, json: boolean, stderr: NodeJS.WritableStream = process.stderr): number {
  const debug = process.env['SIGNALBANK_DEBUG'] !== undefined;
  if (isSignalbankError(error)) {
    const body = { error: { code: error.code, message: error.message, ...(error.errors ? { errors: error.errors } : {}) } };
    stderr.write(json ? `${JSON.stringify(body)}\n` : `error ${error.code}: ${error.message}\n`);
    if (!json && error.errors) for (const e of error.errors) stderr.write(`  ${e.path || '/'}: ${e.message}\n`);
  } else {
    const message = error instanceof Error ? error.message : String(error);
    stderr.write(json ? `${JSON.stringify({ error: { code: 'ERR_INTERNAL', message } })}\n` : `error ERR_INTERNAL: ${message}\n`);
  }
  if (debug && error instanceof Error && error.stack) stderr.write(`${error.stack}\n`);
  return EXIT_FAILED;
}

/** A plain text table: one header row, columns padded to their widest cell. */
export function formatTable(rows: readonly Record<string, unknown>[], columns: readonly string[]): string {
  const cell = (value: unknown): string => {
    if (value === null || value === undefined) return '';
    if (Array.isArray(value)) return value.join(',');
    if (typeof value === 'string') return value;
    return typeof value === 'number' || typeof value === 'boolean' ? `${value}` : JSON.stringify(value);
  };
  const widths = columns.map((column) => Math.max(column.length, ...rows.map((row) => cell(row[column]).length)));
  const line = (cells: readonly string[]) => cells.map((text, i) => text.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(columns), ...rows.map((row) => line(columns.map((column) => cell(row[column]))))].join('\n');
}
