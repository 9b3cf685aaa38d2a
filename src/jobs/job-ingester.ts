/**
 * Reads a job's NDJSON body as a stream and stores it: each line is parsed and checked
 * (`{"type","hash","maxDistance"?,"ref"?}`, the type's hash and radius rules) as it arrives, and
 * kept in blocks of `blockLines` consecutive lines — valid queries to run later, refused lines
 * directly as their error result — several blocks written in one transaction. Memory stays bounded by one batch and one line
 * (`maxLineBytes`; a longer line is an error line), whatever the body size. A body with more
 * than `maxLines` lines, or one that fails to arrive, is refused and everything stored for it is
 * removed; the job stays invisible (`receiving`) until the caller commits it.
 */
import type { Bank } from '../bank/bank.js';
import { InputError, LimitError, isSignalbankError } from '../errors.js';
import { JobQueryLineSchema } from '../api/job-schemas.js';
import { validationError } from '../api/problem.js';
import type { QueryBlock, ResultLine, SqliteJobStore, StoredQuery } from './job-store.js';
import { ndjsonLines, type NdjsonLine } from './ndjson-lines.js';
import { errorLine } from './result-lines.js';

export interface IngestLimits {
  readonly maxLines: number;
  readonly maxLineBytes: number;
  /** Lines per stored block: the unit the runner answers and records in one step. */
  readonly blockLines: number;
  /** Lines written per transaction (whole blocks, at least one). */
  readonly batchLines: number;
}

export interface ReceivedJob {
  readonly rowId: number;
  readonly id: string;
  readonly total: number;
  readonly errorLines: number;
}

type ParsedLine = { readonly ok: true; readonly query: StoredQuery } | { readonly ok: false; readonly result: ResultLine };

export class JobIngester {
  constructor(
    private readonly store: SqliteJobStore,
    private readonly bank: Bank,
    private readonly limits: IngestLimits,
    private readonly remove: (rowId: number) => Promise<void>,
  ) {}

  /** Stores the body's lines under a new, still invisible job; on any failure removes them and rethrows. */
  async receive(memberId: string, limit: number, body: AsyncIterable<Uint8Array>): Promise<ReceivedJob> {
    const { rowId, id } = await this.store.beginReceiving(memberId, limit);
    try {
      let total = 0;
      let errorLines = 0;
      let firstLine = 1;
      let queries: StoredQuery[] = [];
      let refused: ResultLine[] = [];
      let blocks: QueryBlock[] = [];
      let blockedLines = 0;
      const closeBlock = (): void => {
        blocks.push({ firstLine, lastLine: total, queries, refused });
        blockedLines += total - firstLine + 1;
        firstLine = total + 1;
        queries = [];
        refused = [];
      };
      for await (const lines of ndjsonLines(body, this.limits.maxLineBytes)) {
        for (const line of lines) {
          if (++total > this.limits.maxLines) {
            throw new LimitError('ERR_TOO_LARGE', `A job takes at most ${this.limits.maxLines} lines; this body has more, so nothing was kept`);
          }
          const parsed = this.parse(line);
          if (parsed.ok) queries.push(parsed.query);
          else {
            refused.push(parsed.result);
            errorLines++;
          }
          if (total - firstLine + 1 === this.limits.blockLines) closeBlock();
        }
        if (blockedLines >= this.limits.batchLines) {
          await this.store.appendBlocks(rowId, blocks);
          blocks = [];
          blockedLines = 0;
        }
      }
      if (total === 0) throw new InputError('ERR_VALIDATION', 'The job body holds no lines; send one query per line');
      if (total >= firstLine) closeBlock();
      await this.store.appendBlocks(rowId, blocks);
      return { rowId, id, total, errorLines };
    } catch (error) {
      await this.remove(rowId);
      throw error;
    }
  }

  private parse(line: NdjsonLine): ParsedLine {
    if ('problem' in line) {
      const error =
        line.problem === 'too-long'
          ? new InputError('ERR_VALIDATION', `Line ${line.number} is longer than ${this.limits.maxLineBytes} bytes`)
          : new InputError('ERR_BAD_JSON', `Line ${line.number} is not valid UTF-8`);
      return { ok: false, result: { line: line.number, result: errorLine(line.number, null, error) } };
    }
    let ref: string | null = null;
    try {
      if (line.text.trim() === '') throw new InputError('ERR_VALIDATION', `Line ${line.number} is empty`);
      let value: unknown;
      try {
        value = JSON.parse(line.text);
      } catch (error) {
        throw new InputError('ERR_BAD_JSON', `Line ${line.number} is not valid JSON: ${error instanceof Error ? error.message.slice(0, 200) : 'parse error'}`);
      }
      ref = readableRef(value);
      const shaped = JobQueryLineSchema.safeParse(value);
      if (!shaped.success) throw validationError(shaped.error.issues, [], `Line ${line.number}`);
      const query = this.bank.validateQuery(shaped.data);
      return { ok: true, query: { line: line.number, type: query.type, hash: query.hash, maxDistance: query.maxDistance, ref } };
    } catch (error) {
      if (!isSignalbankError(error)) throw error;
      return { ok: false, result: { line: line.number, result: errorLine(line.number, ref, error) } };
    }
  }
}

/** The line's `ref` when it is a valid one, so that even a refused line can be traced back. */
function readableRef(value: unknown): string | null {
  if (typeof value !== 'object' || value === null) return null;
  const ref = (value as { ref?: unknown }).ref;
  return typeof ref === 'string' && ref.length >= 1 && ref.length <= 128 ? ref : null;
}
