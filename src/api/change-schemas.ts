/**
 * The JSON shapes of the change feed (SPEC §5 "Changes"): the cursor query and a page of changes,
 * each an `upsert` carrying the public signal (never `mine`, never submitters' identities) or a
 * `delete` carrying only `{id, type, hash}`. Registered with the other API schemas.
 */
import { z } from 'zod';
import { queryInteger } from './query-values.js';
import { named, SignalSchema } from './schemas.js';

export const DEFAULT_CHANGES_PAGE = 1_000;
export const MAX_CHANGES_PAGE = 10_000;

export const ChangesQuerySchema = z.strictObject({
  after: queryInteger(0, Number.MAX_SAFE_INTEGER).optional().describe('Cursor: changes with seq greater than this (default 0, the beginning)'),
  limit: queryInteger(1, MAX_CHANGES_PAGE).optional().describe(`Changes per page, at most ${MAX_CHANGES_PAGE} (default ${DEFAULT_CHANGES_PAGE})`),
});

export const FeedSignalSchema = named('FeedSignal', 'A signal as members see it, after the change.', SignalSchema.omit({ mine: true }));

export const DeletedSignalSchema = named(
  'DeletedSignal',
  'A signal that was retracted: no mirror holds it any more.',
  z.strictObject({ id: z.string(), type: z.enum(['pdq', 'blockhash', 'md5', 'sha256']), hash: z.string() }),
);

const seq = z.number().int().min(1).describe('Strictly increasing position in the feed');
const at = z.string().describe('RFC 3339 time of the change, UTC');

export const ChangeSchema = named(
  'Change',
  'One state change of a signal.',
  z.discriminatedUnion('op', [
    z.strictObject({ seq, op: z.literal('upsert'), signal: FeedSignalSchema, at }),
    z.strictObject({ seq, op: z.literal('delete'), signal: DeletedSignalSchema, at }),
  ]),
);

export const ChangesPageSchema = named(
  'ChangesPage',
  'Changes in order; page on with after=next while hasMore.',
  z.strictObject({
    changes: z.array(ChangeSchema),
    next: z.number().int().min(0).describe('The last seq returned, or `after` when there was none'),
    hasMore: z.boolean(),
  }),
);
