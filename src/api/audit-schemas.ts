/**
 * The JSON shapes of the auditor routes (SPEC §5 "Audit log"): entry filters and pages, stored
 * leaves, checkpoints, proofs, the log key and the transparency report. Registered in the same
 * registry as the other API schemas, so they appear in the OpenAPI document.
 */
import { z } from 'zod';
import { queryInteger } from './query-values.js';
import { named } from './schemas.js';

const time = z.iso.datetime({ offset: true }).transform((value) => new Date(value).toISOString()).describe('RFC 3339 time');
const cursor = queryInteger(0, Number.MAX_SAFE_INTEGER);
const position = queryInteger(1, Number.MAX_SAFE_INTEGER);

export const MAX_AUDIT_PAGE = 10_000;

export const AuditEntriesQuerySchema = z.strictObject({
  after: cursor.optional().describe('Cursor: entries with seq greater than this'),
  limit: queryInteger(1, MAX_AUDIT_PAGE).optional().describe(`Entries per page, at most ${MAX_AUDIT_PAGE} (default 1000)`),
  member: z.string().max(64).optional().describe('Only entries by this actor'),
  action: z.string().max(64).optional().describe('Only this action, e.g. signal.submit'),
  since: time.optional(),
  until: time.optional(),
});

export const AuditLeavesQuerySchema = z.strictObject({
  after: cursor.optional(),
  limit: queryInteger(1, MAX_AUDIT_PAGE).optional(),
});

export const InclusionQuerySchema = z.strictObject({ seq: position, treeSize: position });
export const ConsistencyQuerySchema = z.strictObject({ from: position, to: position });
export const ReportQuerySchema = z.strictObject({ since: time.optional(), until: time.optional() });
export const ExportQuerySchema = z.strictObject({ format: z.enum(['ndjson', 'csv']).optional().describe('Default ndjson'), since: time.optional(), until: time.optional() });

export const AuditEntrySchema = named(
  'AuditEntry',
  'One entry of the signal log; its leaf hash is SHA-256(0x00 ‖ RFC 8785 canonical JSON of exactly this object).',
  z.strictObject({
    seq: z.number().int(),
    at: z.string(),
    actor: z.string(),
    kid: z.string().nullable(),
    action: z.string(),
    subject: z.string(),
    data: z.record(z.string(), z.unknown()),
    proof: z.string().nullable().describe("The member's request JWS; null for the operator's local actions (init)"),
  }),
);

export const AuditEntriesPageSchema = z.strictObject({
  entries: z.array(AuditEntrySchema),
  next: z.number().int().nullable().describe('Pass as after= for the next page'),
  hasMore: z.boolean(),
});

export const AuditLeavesPageSchema = z.strictObject({
  leaves: z.array(z.strictObject({ seq: z.number().int(), hash: z.string() })),
  next: z.number().int().nullable(),
  hasMore: z.boolean(),
});

export const CheckpointSchema = named(
  'Checkpoint',
  'A signed tree head: signature is a compact JWS (EdDSA, by the log key) over the canonical JSON of {treeSize, rootHash, timestamp}.',
  z.strictObject({ treeSize: z.number().int(), rootHash: z.string(), timestamp: z.string(), signature: z.string() }),
);

export const InclusionProofSchema = z.strictObject({ seq: z.number().int(), treeSize: z.number().int(), leafHash: z.string(), proof: z.array(z.string()) });
export const ConsistencyProofSchema = z.strictObject({ from: z.number().int(), to: z.number().int(), proof: z.array(z.string()) });

const byTypeAndLabel = z.array(z.strictObject({ type: z.string(), label: z.string(), count: z.number().int() }));
export const AuditReportSchema = named(
  'AuditReport',
  'Transparency-report figures for a time window.',
  z.strictObject({
    since: z.string().nullable(),
    until: z.string().nullable(),
    signals: z.strictObject({ created: byTypeAndLabel, retracted: byTypeAndLabel, disputed: byTypeAndLabel }),
    submissions: z.array(z.strictObject({ member: z.string(), submitted: z.number().int(), retracted: z.number().int() })),
    opinions: z.array(z.strictObject({ verdict: z.string(), count: z.number().int() })),
    matches: z.array(z.strictObject({ member: z.string(), queries: z.number().int(), hits: z.number().int() })),
    membership: z.array(z.strictObject({ seq: z.number().int(), at: z.string(), actor: z.string(), action: z.string(), subject: z.string() })),
  }),
);
