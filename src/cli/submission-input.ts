/**
 * Reads what `signalbank submit` is given, line by line, into submission items: NDJSON from
 * `signalbank hash` (one item per hash type present in the line), NDJSON items
 * (`{type, hash, labels?, media?, quality?, ref?}`), or CSV `type,hash,labels[,quality]` (labels
 * separated by `;` or `|`, or by commas inside a quoted cell as in `"suicide,graphic"`; quality
 * for pdq, an optional header row). Labels and media default to
 * the command's flags. A line that cannot be read is reported with its line number and does not
 * stop the rest; so is a line whose field is present but not what the format allows (a `media`
 * other than image or video, a `ref` or `quality` that is not what it must be, labels that are
 * not strings, CSV columns beyond the fourth): it is refused with `ERR_VALIDATION`, never
 * silently changed.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { SubmitItem } from '../client/signalbank-client.js';

/** The media a submission may declare (SPEC §2). */
export const MEDIA = ['image', 'video'] as const;
export type Media = (typeof MEDIA)[number];

export interface InputDefaults {
  readonly labels: readonly string[];
  readonly media: Media;
}

export type InputRecord =
  | { readonly line: number; readonly item: SubmitItem; readonly file?: string }
  | { readonly line: number; readonly error: { code: string; message: string }; readonly file?: string };

const HASH_TYPES = ['pdq', 'blockhash', 'md5', 'sha256'] as const;

/** A field of a line that is present but not what the format allows; the line is refused with it. */
class LineFieldError extends Error {}

const splitLabels = (value: string): string[] =>
  value
    .split(/[;|,\s]+/)
    .map((label) => label.trim())
    .filter(Boolean);

function labelsOf(value: unknown, defaults: InputDefaults): string[] {
  if (value === undefined) return [...defaults.labels];
  if (typeof value === 'string') return splitLabels(value);
  if (Array.isArray(value) && value.every((label) => typeof label === 'string')) return value;
  throw new LineFieldError(`labels must be a list of strings or one string, not ${JSON.stringify(value)}`);
}

function mediaOf(value: unknown, defaults: InputDefaults): Media {
  if (value === undefined) return defaults.media;
  if (MEDIA.includes(value as Media)) return value as Media;
  throw new LineFieldError(`media must be ${MEDIA.join(' or ')}, not ${JSON.stringify(value)}`);
}

/** An optional field that, when present, must have the given `typeof`. */
function optionalField<T extends 'string' | 'number'>(value: Record<string, unknown>, name: string, type: T): (T extends 'string' ? string : number) | undefined {
  const field = value[name];
  if (field === undefined) return undefined;
  if (typeof field === type) return field as T extends 'string' ? string : number;
  throw new LineFieldError(`${name} must be a ${type}, not ${JSON.stringify(field)}`);
}

function fromJson(line: number, value: Record<string, unknown>, defaults: InputDefaults): InputRecord[] {
  const file = typeof value['file'] === 'string' ? value['file'] : undefined;
  try {
    return itemsOfJson(line, value, file, defaults);
  } catch (error) {
    if (!(error instanceof LineFieldError)) throw error;
    return [{ line, ...(file !== undefined && { file }), error: { code: 'ERR_VALIDATION', message: `the line's ${error.message}` } }];
  }
}

function itemsOfJson(line: number, value: Record<string, unknown>, file: string | undefined, defaults: InputDefaults): InputRecord[] {
  if (value['error'] !== undefined) {
    const error = value['error'] as { code?: unknown; message?: unknown };
    return [{ line, ...(file !== undefined && { file }), error: { code: typeof error.code === 'string' ? error.code : 'ERR_VALIDATION', message: typeof error.message === 'string' ? error.message : 'the hash line reports an error' } }];
  }
  const media = mediaOf(value['media'], defaults);
  const labels = labelsOf(value['labels'], defaults);
  const ref = optionalField(value, 'ref', 'string');
  if (value['type'] !== undefined || value['hash'] !== undefined) {
    const type = optionalField(value, 'type', 'string');
    const hash = optionalField(value, 'hash', 'string');
    if (type === undefined || hash === undefined) throw new LineFieldError('item needs both type and hash');
    const quality = optionalField(value, 'quality', 'number');
    return [{ line, item: { type, hash, labels, media, ...(quality !== undefined && { quality }), ...(ref !== undefined && { ref }) } }];
  }
  const records: InputRecord[] = [];
  for (const type of HASH_TYPES) {
    const hash = optionalField(value, type, 'string');
    if (hash === undefined) continue;
    const quality = type === 'pdq' ? optionalField(value, 'pdqQuality', 'number') : undefined;
    records.push({ line, ...(file !== undefined && { file }), item: { type, hash, labels, media, ...(quality !== undefined && { quality }), ...(ref !== undefined && { ref }) } });
  }
  if (records.length === 0) return [{ line, error: { code: 'ERR_VALIDATION', message: 'the line has neither {type, hash} nor any of pdq, blockhash, md5, sha256' } }];
  return records;
}

/**
 * The cells of one CSV line (RFC 4180 quoting: a quoted cell may hold commas, `""` is a quote),
 * trimmed; undefined when a quote is left open.
 */
export function splitCsvLine(text: string): string[] | undefined {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (quoted) {
      if (char !== '"') cell += char;
      else if (text[i + 1] === '"') {
        cell += '"';
        i++;
      } else quoted = false;
    } else if (char === '"') quoted = true;
    else if (char === ',') {
      cells.push(cell.trim());
      cell = '';
    } else cell += char;
  }
  if (quoted) return undefined;
  cells.push(cell.trim());
  return cells;
}

function fromCsv(line: number, text: string, defaults: InputDefaults): InputRecord[] {
  const cells = splitCsvLine(text);
  if (cells === undefined) return [{ line, error: { code: 'ERR_VALIDATION', message: 'the CSV line has a quote that is not closed' } }];
  const [type = '', hash = '', labels = '', quality = '', ...extra] = cells;
  if (line === 1 && type.toLowerCase() === 'type' && hash.toLowerCase() === 'hash') return [];
  if (extra.some(Boolean)) return [{ line, error: { code: 'ERR_VALIDATION', message: `the CSV line has ${cells.length} columns; expected type,hash,labels[,quality] (quote a cell that holds commas)` } }];
  if (!type || !hash) return [{ line, error: { code: 'ERR_VALIDATION', message: 'expected CSV columns type,hash,labels[,quality]' } }];
  if (quality !== '' && !/^\d{1,3}$/.test(quality)) return [{ line, error: { code: 'ERR_VALIDATION', message: 'the quality column must be a whole number 0–100' } }];
  const item: SubmitItem = { type, hash, labels: labels ? splitLabels(labels) : [...defaults.labels], media: defaults.media, ...(quality !== '' && { quality: Number(quality) }) };
  return [{ line, item }];
}

/** Parses one input line (1-based `line`). Empty lines give nothing. */
export function parseInputLine(line: number, text: string, defaults: InputDefaults): InputRecord[] {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  if (!trimmed.startsWith('{')) return fromCsv(line, trimmed, defaults);
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch {
    return [{ line, error: { code: 'ERR_BAD_JSON', message: 'the line is not valid JSON' } }];
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [{ line, error: { code: 'ERR_VALIDATION', message: 'the line is not a JSON object' } }];
  return fromJson(line, value as Record<string, unknown>, defaults);
}

/** Streams the records of a file (or stdin for `-`). */
export async function* readInput(source: string, defaults: InputDefaults): AsyncGenerator<InputRecord> {
  const stream: Readable = source === '-' ? process.stdin : createReadStream(source);
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let line = 0;
  for await (const text of lines) {
    line++;
    yield* parseInputLine(line, text, defaults);
  }
}
