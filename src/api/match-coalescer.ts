/**
 * Answers single-match queries (`GET /v1/match`) together when several arrive in one turn of the
 * event loop: each waits for the end of the turn (`setImmediate`), and the queries gathered by
 * then with the same options go to `Bank.match` as one batch: searched together through the
 * index (on the request thread while the batch is small — under ~10 ms of work — else on the
 * index's worker threads) and its signal rows read in one statement, instead of query by query
 * on the request thread, which under load is the service's bottleneck. A query alone in its turn
 * is answered exactly as before. Every query gets the very answer it would get on its own.
 */
import type { Bank, ItemResult, Match, MatchOptions, ValidQuery } from '../bank/bank.js';
import { OperationError } from '../errors.js';

interface Waiting {
  readonly query: ValidQuery;
  resolve(result: ItemResult<Match[]>): void;
  reject(error: unknown): void;
}

export class MatchCoalescer {
  private readonly waiting = new Map<string, { options: MatchOptions; queries: Waiting[] }>();
  private flushScheduled = false;

  constructor(private readonly bank: Pick<Bank, 'match'>) {}

  match(query: ValidQuery, options: MatchOptions): Promise<ItemResult<Match[]>> {
    return new Promise((resolve, reject) => {
      const key = `${options.limit}/${options.includeDisputed}`;
      let group = this.waiting.get(key);
      if (!group) this.waiting.set(key, (group = { options, queries: [] }));
      group.queries.push({ query, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.flushScheduled = false;
    const groups = [...this.waiting.values()];
    this.waiting.clear();
    for (const { options, queries } of groups) {
      this.bank.match(queries.map(({ query }) => ({ ok: true, value: query }) as const), options).then(
        (results) =>
          queries.forEach((waiting, i) => {
            const result = results[i];
            if (result) waiting.resolve(result);
            else waiting.reject(new OperationError('ERR_INTERNAL', 'The match answered no result for a query'));
          }),
        (error: unknown) => queries.forEach((waiting) => waiting.reject(error)),
      );
    }
  }
}
