/**
 * The JSON shapes of the HTTP API (SPEC §5) as zod schemas: request bodies and queries, which
 * validate every request, and response bodies, which the OpenAPI document is generated from and
 * the integration tests check answers against. One schema, three uses. Named schemas carry an
 * id in zod's global registry (with every `.describe()` text) so they appear as OpenAPI components.
 * Hashes and match radii are shaped here but judged by their signal type, which gives the precise
 * codes (`ERR_INVALID_HASH`, `ERR_INVALID_DISTANCE`); their metadata states the bounds the types
 * enforce, for the document.
 */
import { z } from 'zod';
import { ERROR_CATALOGUE } from '../errors.js';
import { LABEL_NAME_RE } from '../signals/labels.js';
import { SIGNAL_TYPES } from '../signals/registry.js';
import { ROLES } from '../store/store.js';
import { queryBoolean, queryInteger, queryNumber } from './query-values.js';

export const named = <T extends z.ZodType>(id: string, description: string, schema: T): T => schema.meta({ id, description });

/**
 * Items of a batch envelope that the route checks one by one, so that each gets its own result:
 * the envelope takes any value there, and the document describes it as the item schema.
 */
const batchItems = new WeakMap<z.core.$ZodType, z.ZodType>();
const batchItem = (checkedAs: z.ZodType): z.ZodUnknown => {
  const anyValue = z.unknown();
  batchItems.set(anyValue, checkedAs);
  return anyValue;
};
/** The schema a batch envelope's item is checked against, when `schema` is such an item. */
export const batchItemSchemaOf = (schema: z.core.$ZodType): z.ZodType | undefined => batchItems.get(schema);

export const MAX_SUBMIT_ITEMS = 10_000;
export const MAX_MATCH_QUERIES = 1_000;
export const MEMBER_ID_RE = /^[a-z][a-z0-9-]{1,62}$/;

const signalTypes = Object.values(SIGNAL_TYPES);
const hashString = z.string().meta({
  description: 'Hex digest of the length its type takes (md5 32 digits, the others 64); any case in, lower case stored. Anything else is ERR_INVALID_HASH',
  minLength: Math.min(...signalTypes.map((type) => type.hexLength)),
  maxLength: Math.max(...signalTypes.map((type) => type.hexLength)),
  pattern: '^[0-9A-Fa-f]+$',
});
/** Any number: the query's signal type decides, with ERR_INVALID_DISTANCE, which radii it takes. */
const matchRadius = z.number().meta({
  description: 'Hamming radius; default per type (pdq 31, blockhash 10), 0 for exact types. A radius the type does not take is ERR_INVALID_DISTANCE',
  type: 'integer',
  minimum: 0,
  maximum: Math.max(...signalTypes.map((type) => type.maxMaxDistance)),
});
const typeName = z.string().max(32).describe('Signal type: pdq, blockhash, md5 or sha256');
const labelName = z.string().max(64);
const media = z.enum(['image', 'video']);
const timestamp = z.string().describe('RFC 3339 time, UTC');

// ---- Requests --------------------------------------------------------------------------------

export const SubmissionItemSchema = named(
  'SubmissionItem',
  'One hash a member submits as violating.',
  z.strictObject({
    type: typeName,
    hash: hashString,
    labels: z.array(labelName).min(1).max(16).describe('At least one category label (suicide, self_harm)'),
    media,
    quality: z.number().int().min(0).max(100).optional().describe('PDQ quality 0–100; required for pdq, at least 50'),
    ref: z.string().min(1).max(128).optional().describe("The member's own opaque reference; never shown to other members"),
  }),
);

export const SubmitBodySchema = z.strictObject({
  signals: z.array(batchItem(SubmissionItemSchema)).max(MAX_SUBMIT_ITEMS).describe(`Items (SubmissionItem), at most ${MAX_SUBMIT_ITEMS}; each is accepted or rejected on its own`),
});

export const MatchQuerySchema = named(
  'MatchQuery',
  'One hash to look up.',
  z.strictObject({
    type: typeName,
    hash: hashString,
    maxDistance: matchRadius.optional(),
  }),
);

export const MatchBodySchema = z.strictObject({
  queries: z.array(batchItem(MatchQuerySchema)).min(1).max(MAX_MATCH_QUERIES).describe(`Queries (MatchQuery), at most ${MAX_MATCH_QUERIES}`),
  limit: z.number().int().min(1).max(100).optional().describe('Matches per query, default 10'),
  includeDisputed: z.boolean().optional().describe('Also answer disputed signals; default false'),
});

export const MatchQueryParamsSchema = z.strictObject({
  type: typeName,
  hash: hashString,
  maxDistance: queryNumber(matchRadius).optional(),
  limit: queryInteger(1, 100).optional().describe('Matches, at most 100 (default 10)'),
  includeDisputed: queryBoolean.optional().describe('Also answer disputed signals; default false'),
});

export const SignalLookupParamsSchema = z.strictObject({ type: typeName, hash: hashString });

export const OpinionBodySchema = named(
  'OpinionBody',
  "The caller's verdict on a signal; the latest one counts.",
  z
    .strictObject({
      verdict: z.enum(['confirm', 'false_positive', 'dispute_labels']),
      labels: z.array(labelName).min(1).max(16).optional().describe('Proposed labels; dispute_labels only'),
      reason: z.string().min(1).max(1000).optional(),
    })
    .superRefine((body, ctx) => {
      if (body.verdict === 'dispute_labels') {
        if (body.labels === undefined) ctx.addIssue({ code: 'custom', path: ['labels'], message: 'dispute_labels needs the proposed labels' });
        if (body.reason === undefined) ctx.addIssue({ code: 'custom', path: ['reason'], message: 'dispute_labels needs a reason' });
      } else if (body.labels !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['labels'], message: 'labels go with dispute_labels only' });
      }
    }),
);

const roles = z
  .array(z.enum(ROLES))
  .max(ROLES.length)
  .refine((list) => new Set(list).size === list.length, 'Roles must not repeat');

export const MemberCreateSchema = named(
  'MemberCreate',
  'A new member platform.',
  z.strictObject({
    id: z.string().regex(MEMBER_ID_RE, 'Expected ^[a-z][a-z0-9-]{1,62}$'),
    name: z.string().min(1).max(200),
    roles,
  }),
);

export const MemberPatchSchema = named(
  'MemberPatch',
  'Changes to a member; at least one field.',
  z
    .strictObject({
      name: z.string().min(1).max(200).optional(),
      roles: roles.optional(),
      status: z.enum(['active', 'suspended']).optional(),
    })
    .refine((patch) => Object.keys(patch).length > 0, 'Give at least one of name, roles, status'),
);

export const KeyAddSchema = named(
  'KeyAdd',
  "A member's public key (Ed25519 or P-256 JWK). Private keys are refused.",
  z.strictObject({ jwk: z.record(z.string(), z.unknown()) }),
);

export const LabelCreateSchema = named(
  'LabelCreate',
  'A new taxonomy label.',
  z.strictObject({
    name: z.string().regex(LABEL_NAME_RE, 'Expected ^[a-z][a-z0-9_]{1,63}$'),
    kind: z.enum(['category', 'modifier']),
    description: z.string().min(1).max(500),
  }),
);

export const MemberIdParamSchema = z.strictObject({ id: z.string().max(64) });
export const KeyParamsSchema = z.strictObject({ id: z.string().max(64), kid: z.string().max(256) });
export const SignalIdParamSchema = z.strictObject({ id: z.string().max(64) });
export const EmptyQuerySchema = z.strictObject({});

// ---- Responses -------------------------------------------------------------------------------

const OpinionCountsSchema = z.strictObject({
  confirm: z.number().int(),
  falsePositive: z.number().int(),
  disputeLabels: z.number().int(),
});

const signalFields = {
  id: z.string().describe('Opaque signal id'),
  type: z.enum(['pdq', 'blockhash', 'md5', 'sha256']),
  hash: z.string(),
  media,
  labels: z.array(z.string()).describe('Union of the labels of the active submissions'),
  submitters: z.number().int().describe('How many members have an active submission — never which'),
  opinions: OpinionCountsSchema,
  status: z.enum(['active', 'disputed', 'retracted']),
};

export const SignalSchema = named(
  'Signal',
  'A distinct (type, hash) that members submitted.',
  z.strictObject({
    ...signalFields,
    firstSeen: timestamp,
    updatedAt: timestamp,
    mine: z
      .strictObject({
        submission: z
          .strictObject({
            status: z.enum(['active', 'retracted']),
            labels: z.array(z.string()),
            media,
            quality: z.number().int().optional(),
            ref: z.string().optional(),
            submittedAt: timestamp,
            updatedAt: timestamp,
          })
          .optional(),
        opinion: z
          .strictObject({
            verdict: z.enum(['confirm', 'false_positive', 'dispute_labels']),
            labels: z.array(z.string()).optional(),
            reason: z.string().optional(),
            updatedAt: timestamp,
          })
          .optional(),
      })
      .optional()
      .describe("The caller's own submission and opinion, when it has one"),
  }),
);

export const ItemErrorSchema = named('ItemError', 'Why one item or query was refused.', z.strictObject({ code: z.string(), message: z.string() }));

export const SubmitAnswerSchema = named(
  'SubmitAnswer',
  'One result per submitted item, in order.',
  z.strictObject({
    results: z.array(
      z.strictObject({
        status: z.enum(['created', 'added', 'updated', 'unchanged', 'rejected']),
        id: z.string().optional(),
        error: ItemErrorSchema.optional(),
      }),
    ),
  }),
);

export const MatchSchema = named('Match', 'A signal within the query radius.', z.strictObject({ ...signalFields, distance: z.number().int() }));

export const MatchAnswerSchema = named(
  'MatchAnswer',
  'results[i] answers queries[i].',
  z.strictObject({
    results: z.array(z.union([z.strictObject({ matches: z.array(MatchSchema) }), z.strictObject({ error: ItemErrorSchema })])),
  }),
);

export const SingleMatchAnswerSchema = z.strictObject({ matches: z.array(MatchSchema) });

export const TaxonomySchema = named(
  'Taxonomy',
  'Labels a submission may carry.',
  z.strictObject({
    labels: z.array(z.strictObject({ name: z.string(), kind: z.enum(['category', 'modifier']), description: z.string() })),
  }),
);

export const MemberSchema = named(
  'Member',
  'A member platform.',
  z.strictObject({
    id: z.string(),
    name: z.string(),
    roles: z.array(z.enum(ROLES)),
    status: z.enum(['active', 'suspended']),
    createdAt: timestamp,
    updatedAt: timestamp,
  }),
);

export const MemberListSchema = z.strictObject({ members: z.array(MemberSchema) });

export const KeySchema = named(
  'Key',
  "A member's public key.",
  z.strictObject({
    kid: z.string(),
    alg: z.enum(['EdDSA', 'ES256']),
    jwk: z.record(z.string(), z.unknown()),
    status: z.enum(['active', 'revoked']),
    createdAt: timestamp,
    revokedAt: timestamp.nullable(),
  }),
);

export const KeyListSchema = z.strictObject({ keys: z.array(KeySchema) });

export const ProblemSchema = named(
  'Problem',
  'RFC 9457 problem details.',
  z.strictObject({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    code: z.enum(Object.keys(ERROR_CATALOGUE) as [string, ...string[]]),
    detail: z.string(),
    requestId: z.string().optional(),
    errors: z.array(z.strictObject({ path: z.string(), message: z.string() })).optional(),
  }),
);

export const HealthSchema = z.strictObject({ status: z.enum(['ok', 'unavailable']), checks: z.record(z.string(), z.unknown()).optional() });
