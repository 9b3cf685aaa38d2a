/**
 * The JSON shapes of the batch-matching job routes (SPEC §5 "Jobs"): one query line of the
 * NDJSON body, the create query, the job status, the caller's job list and one result line.
 * Registered with the other API schemas, so they appear in the OpenAPI document.
 */
import { z } from 'zod';
import { queryInteger } from './query-values.js';
import { ItemErrorSchema, MatchQuerySchema, MatchSchema, named } from './schemas.js';

export const MAX_JOB_LIST = 100;

export const JobQueryLineSchema = named(
  'JobQueryLine',
  'One line of a job body (application/x-ndjson).',
  MatchQuerySchema.extend({
    ref: z.string().min(1).max(128).optional().describe("The member's own reference, echoed in the line's result"),
  }),
);

export const JobCreateQuerySchema = z.strictObject({
  limit: queryInteger(1, 100).optional().describe('Matches per query, 1–100 (default 10)'),
});

export const JobIdParamSchema = z.strictObject({ id: z.string().max(64) });

export const JobListQuerySchema = z.strictObject({
  limit: queryInteger(1, MAX_JOB_LIST)
    .optional()
    .describe(`Newest jobs first, at most this many (default and maximum ${MAX_JOB_LIST})`),
});

export const JobSchema = named(
  'Job',
  'A batch matching job as its owner sees it.',
  z.strictObject({
    id: z.string(),
    status: z.enum(['queued', 'running', 'done', 'failed', 'cancelled']),
    done: z.number().int().describe('Lines answered so far (refused lines included)'),
    total: z.number().int().describe('Lines in the body'),
    errorLines: z.number().int().describe('Lines refused when the body was read'),
    limit: z.number().int().describe('Matches per query'),
    rate: z.number().nullable().describe('Lines answered per second while running in this process; null otherwise'),
    eta: z.number().nullable().describe('Seconds left at the current rate; null when unknown or finished'),
    createdAt: z.string(),
    startedAt: z.string().optional(),
    finishedAt: z.string().optional(),
    error: ItemErrorSchema.optional().describe('Why a failed job failed'),
  }),
);

export const JobListSchema = z.strictObject({ jobs: z.array(JobSchema) });

export const JobResultLineSchema = named(
  'JobResultLine',
  'One line of GET /v1/jobs/{id}/results (application/x-ndjson), in input order.',
  z.union([
    z.strictObject({ line: z.number().int(), ref: z.string().optional(), matches: z.array(MatchSchema) }),
    z.strictObject({ line: z.number().int(), ref: z.string().optional(), error: ItemErrorSchema }),
  ]),
);
