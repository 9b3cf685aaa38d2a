/**
 * The bank: the store and the in-memory Hamming indexes kept in step. It validates submission
 * items and match queries by their signal type and the taxonomy, commits changes through the
 * store, and updates the index of every 256-bit type before the caller answers — so a new hash
 * matches at once and a retracted one never does. At start the indexes are loaded from the store.
 * Signal changes (submit, retract, opinion) are handed to the store in call order, which commits
 * them in that order; their outcomes reach the index in the same order — each once those before
 * it have — while the store already commits the next (it may commit on another thread and answer
 * later than a change committed after it would be read here).
 *
 *   submit ─► validate (signals) ─► Store (commit + audit + feed row) ─► index.add/delete ─► answer
 *   match  ─► validate ─► SignalMatcher (index.search, disputed filtered) ─► Store (signal rows) ─► answer
 */
import type { SignalbankError } from '../errors.js';
import { normaliseLabels, type Label, type Taxonomy } from '../signals/labels.js';
import { getSignalType } from '../signals/registry.js';
import type {
  AuditOrigin,
  Media,
  OpinionInput,
  SignalRecord,
  SignalWithOwnPart,
  Store,
  SubmissionInput,
  SubmitStatus,
  Verdict,
} from '../store/store.js';
import { SignalMatcher, validateMatchQuery, type IndexFactory, type MatchQuery, type ItemResult, type Match, type MatchOptions, type MatchSource, type PreparedQueries, type SearchedBatch, type ValidQuery } from './signal-matcher.js';

export { DEFAULT_MATCH_LIMIT, MAX_MATCH_LIMIT, itemResult, type IndexFactory, type MatchQuery, type ItemResult, type Match, type MatchOptions, type PreparedQueries, type SearchedBatch, type ValidQuery } from './signal-matcher.js';

/** A submission item whose JSON shape was checked at the boundary. */
export interface SubmissionItem {
  readonly type: string;
  readonly hash: string;
  readonly labels: readonly string[];
  readonly media: Media;
  readonly quality?: number | undefined;
  readonly ref?: string | undefined;
}

export interface SubmitResult {
  readonly status: SubmitStatus | 'rejected';
  readonly signal?: SignalRecord;
  readonly error?: SignalbankError;
}

export class Bank {
  private taxonomy: Taxonomy = new Map();
  private labels: Label[] = [];

  private readonly source: MatchSource;
  /** Settles once the last change handed to the store has reached the index (or failed). */
  private applied: Promise<void> = Promise.resolve();

  private constructor(
    readonly store: Store,
    private readonly matcher: SignalMatcher,
  ) {
    this.source = {
      findExact: async (type, hash) => (await store.findSignal(type, hash, undefined))?.signal,
      byRowIds: (rowIds) => store.getSignalsByRowIds(rowIds),
    };
  }

  /** Opens the bank over a store: loads the taxonomy and builds every index from the store. */
  static async open(store: Store, createIndex: IndexFactory): Promise<Bank> {
    const bank = new Bank(store, await SignalMatcher.build(createIndex, (type) => store.indexEntries(type)));
    await bank.reloadTaxonomy();
    return bank;
  }

  /** Live signals per indexed type. */
  indexSizes(): Record<string, number> {
    return this.matcher.sizes();
  }

  indexMemoryBytes(): number {
    return this.matcher.memoryBytes();
  }

  listLabels(): readonly Label[] {
    return this.labels;
  }

  async addLabel(label: Label, origin: AuditOrigin): Promise<Label> {
    const added = await this.store.addLabel(label, origin);
    await this.reloadTaxonomy();
    return added;
  }

  /** Checks one submission item against its signal type and the taxonomy. */
  validateSubmission(item: SubmissionItem): SubmissionInput {
    const type = getSignalType(item.type);
    const hash = type.parseHash(item.hash);
    const quality = type.parseQuality(item.quality);
    const labels = normaliseLabels(item.labels, this.taxonomy, true);
    return {
      type: type.name,
      hash,
      labels,
      media: item.media,
      ...(quality !== undefined && { quality }),
      ...(item.ref !== undefined && { ref: item.ref }),
    };
  }

  /** Commits the valid items in one transaction; answers one result per item, in order. */
  async submit(memberId: string, items: readonly ItemResult<SubmissionInput>[], origin: AuditOrigin): Promise<SubmitResult[]> {
    const valid = items.filter((item) => item.ok).map((item) => item.value);
    const outcomes =
      valid.length === 0
        ? []
        : await this.inCommitOrder(this.store.submitSignals(memberId, valid, origin), (committed) => {
            for (const outcome of committed) if (outcome.status !== 'unchanged') this.matcher.applyChange(outcome);
          });
    let next = 0;
    return items.map((item) => {
      if (!item.ok) return { status: 'rejected', error: item.error };
      const outcome = outcomes[next++]!;
      return { status: outcome.status, signal: outcome.signal };
    });
  }

  async retract(memberId: string, signalId: string, origin: AuditOrigin): Promise<SignalRecord> {
    const change = await this.inCommitOrder(this.store.retractSubmission(memberId, signalId, origin), (committed) => this.matcher.applyChange(committed));
    return change.signal;
  }

  /** Validates and sets the caller's opinion of a signal. */
  async setOpinion(memberId: string, signalId: string, opinion: { verdict: Verdict; labels?: readonly string[] | undefined; reason?: string | undefined }, origin: AuditOrigin): Promise<SignalRecord> {
    const input: OpinionInput = {
      verdict: opinion.verdict,
      ...(opinion.labels !== undefined && { labels: normaliseLabels(opinion.labels, this.taxonomy, false) }),
      ...(opinion.reason !== undefined && { reason: opinion.reason }),
    };
    const change = await this.inCommitOrder(this.store.setOpinion(memberId, signalId, input, origin), (committed) => this.matcher.applyChange(committed));
    return change.signal;
  }

  async getSignal(signalId: string, viewer: string): Promise<SignalWithOwnPart | undefined> {
    return this.store.getSignal(signalId, viewer);
  }

  async findSignal(typeName: string, hashValue: string, viewer: string): Promise<SignalWithOwnPart | undefined> {
    const type = getSignalType(typeName);
    return this.store.findSignal(type.name, type.parseHash(hashValue), viewer);
  }

  /** Checks one query; answers its normalised type, hash and radius. */
  validateQuery(query: MatchQuery): ValidQuery {
    return validateMatchQuery(query);
  }

  /** Answers every query: matches sorted by distance, then id as a string, at most `limit`. */
  async match(queries: readonly ItemResult<ValidQuery>[], options: MatchOptions): Promise<ItemResult<Match[]>[]> {
    return this.matcher.match(queries, options, this.source);
  }

  /**
   * `match` in two halves, for batch jobs: `search` runs the index search of a whole batch (on the
   * index's worker threads), `resolve` reads the signal rows of a slice of it and answers that
   * slice exactly as `match` would have.
   */
  async search(queries: readonly ItemResult<ValidQuery>[] | PreparedQueries, options: MatchOptions): Promise<SearchedBatch> {
    return this.matcher.search(queries, options, this.source);
  }

  /** An empty batch for `search`, filled a slice at a time (`PreparedQueries.add`). */
  prepareQueries(): PreparedQueries {
    return this.matcher.prepare();
  }

  async resolve(searched: SearchedBatch, from: number, to: number): Promise<ItemResult<Match[]>[]> {
    return this.matcher.resolve(searched, this.source, from, to);
  }

  /** Stops the indexes' worker threads. */
  async close(): Promise<void> {
    await this.matcher.close();
  }

  /**
   * Applies a change to the index once it is committed and every change handed to the store
   * before it has been applied; call with the store's promise, made synchronously in call order.
   */
  private inCommitOrder<T>(committing: Promise<T>, apply: (committed: T) => void): Promise<T> {
    // Failures are answered through `result`; this only keeps an early one from counting as unhandled.
    committing.catch(() => undefined);
    const result = this.applied
      .then(() => committing)
      .then((committed) => {
        apply(committed);
        return committed;
      });
    this.applied = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  private async reloadTaxonomy(): Promise<void> {
    this.labels = await this.store.listLabels();
    this.taxonomy = new Map(this.labels.map((label) => [label.name, label.kind]));
  }
}
