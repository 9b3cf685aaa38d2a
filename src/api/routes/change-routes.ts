/**
 * The change feed (SPEC §5, sync role): every state change of a signal in commit order, as stored
 * with the change in the same transaction, served from a cursor. The stored snapshots are spliced
 * into the answer as they are (no parse and re-serialise), so a mirror pages through millions of
 * changes quickly. Each answer carries an ETag naming its exact content, so a poller that sends
 * `If-None-Match` gets a bodiless 304 while nothing changed; `Signalbank-Last-Seq` tells a syncing
 * client how far the feed goes (for its progress bar).
 */
import type { Store } from '../../store/store.js';
import { ChangesPageSchema, ChangesQuerySchema, DEFAULT_CHANGES_PAGE } from '../change-schemas.js';
import { defineRoute, type RouteSpec } from '../route.js';

export const LAST_SEQ_HEADER = 'Signalbank-Last-Seq';

export function changeRoutes(store: Store): RouteSpec[] {
  return [
    defineRoute({
      method: 'GET',
      path: '/v1/changes',
      operationId: 'listChanges',
      summary: 'Read the change feed',
      description:
        'Every state change of a signal (created, submission added or retracted, labels or media changed, opinions changed, disputed or undisputed, retracted), once, in order. ' +
        'Applying the feed in order reproduces the signals members see; a retracted signal is a delete with {id, type, hash}. ' +
        `Page with after=next while hasMore. The ETag names the answer: send it back as If-None-Match to get 304 while nothing changed. ${LAST_SEQ_HEADER} is the newest seq.`,
      tag: 'changes',
      access: ['sync'],
      query: ChangesQuerySchema,
      responses: { 200: { description: 'A page of changes', schema: ChangesPageSchema }, 304: { description: 'Not modified: the page named by If-None-Match is still the answer' } },
      async handle({ query, req, res }) {
        const after = query.after ?? 0;
        const limit = query.limit ?? DEFAULT_CHANGES_PAGE;
        const rows = await store.listChanges(after, limit + 1);
        const hasMore = rows.length > limit;
        const page = hasMore ? rows.slice(0, limit) : rows;
        const next = page.at(-1)?.seq ?? after;
        const last = hasMore ? await store.lastChangeSeq() : next;
        // Rows up to `next` never change, so (after, limit, next, hasMore) names the body exactly.
        const etag = `"c${after}-${limit}-${next}-${hasMore ? 1 : 0}"`;
        res.setHeader('ETag', etag);
        res.setHeader(LAST_SEQ_HEADER, String(last));
        if (req.headers['if-none-match'] === etag) {
          res.status(304).end();
          return undefined;
        }
        const parts = page.map((row) => `{"seq":${row.seq},"op":"${row.op}","signal":${row.signal},"at":"${row.at}"}`);
        res.status(200).type('application/json').send(`{"changes":[${parts.join(',')}],"next":${next},"hasMore":${hasMore}}`);
        return undefined;
      },
    }),
  ];
}
