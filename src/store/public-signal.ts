/**
 * The member-facing form of a signal: what match answers, `GET /v1/signals/…` and the change feed
 * show. It carries how many members submitted, never which, and never the internal row id. The
 * feed shows a retracted signal only by `{id, type, hash}` (its `delete`).
 */
import type { OpinionCounts, SignalRecord } from './store.js';

export interface PublicSignal {
  readonly id: string;
  readonly type: string;
  readonly hash: string;
  readonly media: string;
  readonly labels: readonly string[];
  readonly submitters: number;
  readonly opinions: OpinionCounts;
  readonly status: string;
  readonly firstSeen: string;
  readonly updatedAt: string;
}

export function publicSignal(signal: SignalRecord): PublicSignal {
  return {
    id: signal.id,
    type: signal.type,
    hash: signal.hash,
    media: signal.media,
    labels: signal.labels,
    submitters: signal.submitters,
    opinions: signal.opinions,
    status: signal.status,
    firstSeen: signal.firstSeen,
    updatedAt: signal.updatedAt,
  };
}

/** A retracted signal as the change feed's `delete` names it. */
export interface DeletedSignal {
  readonly id: string;
  readonly type: string;
  readonly hash: string;
}

/** The signal as a change-feed entry carries it: the whole public form, or only its key once retracted. */
export function feedSignal(signal: SignalRecord): PublicSignal | DeletedSignal {
  return signal.status === 'retracted' ? { id: signal.id, type: signal.type, hash: signal.hash } : publicSignal(signal);
}
