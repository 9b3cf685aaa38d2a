/**
 * Reads the signal log from a running service for `audit verify`, `audit report` and
 * `audit export`: the log key, checkpoints, entries and recorded leaves page by page, and proofs —
 * all through signed auditor requests.
 */
import type { JWK } from 'jose';
import type { LogSource } from '../audit/verify-log.js';
import type { AuditEntry } from '../store/store.js';
import { withQuery, type SignalbankClient } from './signalbank-client.js';

const PAGE = 10_000;

export function auditLogSource(client: SignalbankClient): LogSource {
  return {
    async logKeys() {
      const jwk = await client.request<JWK & { kid: string }>('GET', '/v1/audit/log-key');
      return [{ kid: jwk.kid, publicJwk: jwk }];
    },
    checkpoint: () => client.request('GET', '/v1/audit/checkpoint'),
    async *entries() {
      let after = 0;
      for (;;) {
        const page = await client.request<{ entries: AuditEntry[]; next: number | null; hasMore: boolean }>('GET', withQuery('/v1/audit/entries', { after, limit: PAGE }));
        if (page.entries.length > 0) yield page.entries;
        if (!page.hasMore || page.next === null) return;
        after = page.next;
      }
    },
    async *leaves() {
      let after = 0;
      for (;;) {
        const page = await client.request<{ leaves: { seq: number; hash: string }[]; next: number | null; hasMore: boolean }>('GET', withQuery('/v1/audit/leaves', { after, limit: PAGE }));
        if (page.leaves.length > 0) yield page.leaves;
        if (!page.hasMore || page.next === null) return;
        after = page.next;
      }
    },
    async consistencyProof(from, to) {
      return (await client.request<{ proof: string[] }>('GET', withQuery('/v1/audit/proof/consistency', { from, to }))).proof;
    },
  };
}
