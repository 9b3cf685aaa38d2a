/**
 * The auditor's routes (SPEC §5, auditor role): the signal log with filters and a cursor, its
 * stored leaves, signed checkpoints and the log key, RFC 6962 inclusion and consistency proofs,
 * the transparency report, and a streamed export (NDJSON or CSV, constant memory) that ends with
 * the checkpoint it is consistent with.
 */
import type { CheckpointPublisher } from '../../audit/checkpoint-publisher.js';
import { OperationError } from '../../errors.js';
import type { AuditEntry, Store } from '../../store/store.js';
import {
  AuditEntriesPageSchema,
  AuditEntriesQuerySchema,
  AuditLeavesPageSchema,
  AuditLeavesQuerySchema,
  AuditReportSchema,
  CheckpointSchema,
  ConsistencyProofSchema,
  ConsistencyQuerySchema,
  ExportQuerySchema,
  InclusionProofSchema,
  InclusionQuerySchema,
  ReportQuerySchema,
} from '../audit-schemas.js';
import { writeChunk } from '../response-stream.js';
import { defineRoute, type RouteSpec } from '../route.js';

const DEFAULT_PAGE = 1000;
const EXPORT_PAGE = 5000;
export const CSV_COLUMNS = ['seq', 'at', 'actor', 'kid', 'action', 'subject', 'data', 'proof'] as const;

/** One CSV field, quoted when it holds a comma, quote or line break (RFC 4180). */
export function csvField(value: string | number | null): string {
  const text = value === null ? '' : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function csvRow(entry: AuditEntry): string {
  return `${[entry.seq, entry.at, entry.actor, entry.kid, entry.action, entry.subject, JSON.stringify(entry.data), entry.proof].map(csvField).join(',')}\r\n`;
}

export function auditRoutes(store: Store, checkpoints: CheckpointPublisher): RouteSpec[] {
  const auditor = ['auditor'] as const;
  return [
    defineRoute({
      method: 'GET',
      path: '/v1/audit/entries',
      operationId: 'auditEntries',
      summary: 'Read the signal log',
      description: 'Oldest first; filter by member (actor), action and time; page with after= and next.',
      tag: 'audit',
      access: auditor,
      query: AuditEntriesQuerySchema,
      responses: { 200: { description: 'A page of entries', schema: AuditEntriesPageSchema } },
      async handle({ query }) {
        const limit = query.limit ?? DEFAULT_PAGE;
        const entries = await store.listAuditEntries({ ...query, limit: limit + 1 });
        const hasMore = entries.length > limit;
        const page = entries.slice(0, limit);
        return { body: { entries: page, next: page.at(-1)?.seq ?? null, hasMore } };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/v1/audit/leaves',
      operationId: 'auditLeaves',
      summary: 'Read the stored leaf hashes of the log',
      description: 'The leaf hash the service recorded for each entry when it was appended; `audit verify` compares them with the entries to point at rewritten ones.',
      tag: 'audit',
      access: auditor,
      query: AuditLeavesQuerySchema,
      responses: { 200: { description: 'A page of leaf hashes', schema: AuditLeavesPageSchema } },
      async handle({ query }) {
        const limit = query.limit ?? DEFAULT_PAGE;
        const leaves = await store.auditLeaves(query.after ?? 0, limit + 1);
        const page = leaves.slice(0, limit);
        return { body: { leaves: page, next: page.at(-1)?.seq ?? null, hasMore: leaves.length > limit } };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/v1/audit/checkpoint',
      operationId: 'auditCheckpoint',
      summary: 'The signed tree head of the whole log as it is now',
      tag: 'audit',
      access: auditor,
      responses: { 200: { description: 'A checkpoint', schema: CheckpointSchema } },
      async handle() {
        return { body: await checkpoints.current() };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/v1/audit/log-key',
      operationId: 'auditLogKey',
      summary: "The log's public key (JWK) that signs checkpoints",
      tag: 'audit',
      access: auditor,
      responses: { 200: { description: 'Public JWK (Ed25519) with its kid' } },
      async handle() {
        const [key] = await store.listLogKeys();
        if (!key) throw new OperationError('ERR_UNAVAILABLE', 'The log has no key yet');
        return { body: key.publicJwk };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/v1/audit/proof/inclusion',
      operationId: 'auditInclusionProof',
      summary: 'RFC 6962 inclusion proof of entry seq in the tree of treeSize entries',
      tag: 'audit',
      access: auditor,
      query: InclusionQuerySchema,
      responses: { 200: { description: 'Audit path, leaf first', schema: InclusionProofSchema } },
      async handle({ query }) {
        return { body: { seq: query.seq, treeSize: query.treeSize, ...(await store.auditInclusionProof(query.seq, query.treeSize)) } };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/v1/audit/proof/consistency',
      operationId: 'auditConsistencyProof',
      summary: 'RFC 6962 consistency proof between the trees of from and to entries',
      tag: 'audit',
      access: auditor,
      query: ConsistencyQuerySchema,
      responses: { 200: { description: 'Consistency proof', schema: ConsistencyProofSchema } },
      async handle({ query }) {
        return { body: { from: query.from, to: query.to, proof: await store.auditConsistencyProof(query.from, query.to) } };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/v1/audit/report',
      operationId: 'auditReport',
      summary: 'Transparency-report figures for a time window',
      description: 'Signals created, retracted and disputed by type and label; submissions and retractions by member; opinions by verdict; match queries and hits by member (hourly); member and key changes.',
      tag: 'audit',
      access: auditor,
      query: ReportQuerySchema,
      responses: { 200: { description: 'The report', schema: AuditReportSchema } },
      async handle({ query }) {
        return { body: await store.auditReport(query.since, query.until) };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/v1/audit/export',
      operationId: 'auditExport',
      summary: 'Export the signal log (NDJSON or CSV), ending with the checkpoint it is consistent with',
      description:
        'Streamed with constant memory. NDJSON: one entry per line, then {"checkpoint": …}. CSV: a header row, one row per entry (data as JSON), then a last line #checkpoint,<JSON>. Entries are those up to the checkpoint, filtered by since/until.',
      tag: 'audit',
      access: auditor,
      query: ExportQuerySchema,
      responses: { 200: { description: 'The export', contentType: 'application/x-ndjson' } },
      async handle({ query, res }) {
        const checkpoint = await checkpoints.current();
        const csv = query.format === 'csv';
        res.status(200).type(csv ? 'text/csv; charset=utf-8' : 'application/x-ndjson');
        res.setHeader('Content-Disposition', `attachment; filename="signalbank-audit-${checkpoint.treeSize}.${csv ? 'csv' : 'ndjson'}"`);
        if (csv && !(await writeChunk(res, `${CSV_COLUMNS.join(',')}\r\n`))) return undefined;
        let after = 0;
        for (;;) {
          const entries = await store.listAuditEntries({ after, limit: EXPORT_PAGE, since: query.since, until: query.until, maxSeq: checkpoint.treeSize });
          if (entries.length === 0) break;
          const chunk = entries.map((entry) => (csv ? csvRow(entry) : `${JSON.stringify(entry)}\n`)).join('');
          if (!(await writeChunk(res, chunk))) return undefined;
          after = entries.at(-1)!.seq;
        }
        res.end(csv ? `#checkpoint,${csvField(JSON.stringify(checkpoint))}\r\n` : `${JSON.stringify({ checkpoint })}\n`);
        return undefined;
      },
    }),
  ];
}
