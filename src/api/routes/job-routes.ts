/**
 * Batch matching jobs over HTTP (SPEC §5 "Jobs"): `POST /v1/jobs` streams an NDJSON body of
 * queries into a durable job (202 with `Location` once committed), `GET /v1/jobs/{id}` its status
 * and progress, `GET /v1/jobs/{id}/results` its result lines as NDJSON in input order (streamed
 * from the database), `DELETE /v1/jobs/{id}` cancels it, `GET /v1/jobs` lists the caller's jobs.
 * Only the owner sees a job: any other caller gets 404, as for a job that does not exist.
 */
import { DEFAULT_MATCH_LIMIT } from '../../bank/bank.js';
import type { JobService } from '../../jobs/job-service.js';
import { JobCreateQuerySchema, JobIdParamSchema, JobListQuerySchema, JobListSchema, JobQueryLineSchema, JobResultLineSchema, JobSchema, MAX_JOB_LIST } from '../job-schemas.js';
import { writeChunk } from '../response-stream.js';
import { defineRoute, defineStreamedRoute, type RouteSpec } from '../route.js';

export const NDJSON_MEDIA_TYPES = ['application/x-ndjson', 'application/ndjson'] as const;

export function jobRoutes(jobs: JobService): RouteSpec[] {
  const matcher = ['matcher'] as const;
  return [
    defineStreamedRoute({
      method: 'POST',
      path: '/v1/jobs',
      operationId: 'createJob',
      summary: 'Start a batch matching job of up to 10 million queries',
      description:
        'The body is NDJSON, one query per line, read as it arrives (up to 1 GiB, 10,000,000 lines, 64 KiB a line). A bad line becomes an error line in the results and never fails the job. ' +
        'The answer comes once the job is durable; Location names it.',
      tag: 'jobs',
      access: matcher,
      query: JobCreateQuerySchema,
      streamedBody: { mediaTypes: NDJSON_MEDIA_TYPES, lineSchema: JobQueryLineSchema, description: 'One JobQueryLine per line' },
      responses: { 202: { description: 'The job, queued', schema: JobSchema } },
      async handle({ query, body, caller, origin }) {
        const job = await jobs.create(caller!.id, query.limit ?? DEFAULT_MATCH_LIMIT, body.chunks, () => body.verify(), origin);
        return { status: 202, headers: { Location: `/v1/jobs/${job.id}` }, body: job };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/v1/jobs',
      operationId: 'listJobs',
      summary: "The caller's jobs, newest first",
      tag: 'jobs',
      access: matcher,
      query: JobListQuerySchema,
      responses: { 200: { description: 'Jobs', schema: JobListSchema } },
      async handle({ query, caller }) {
        return { body: { jobs: jobs.list(caller!.id, query.limit ?? MAX_JOB_LIST) } };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/v1/jobs/{id}',
      operationId: 'getJob',
      summary: 'Status and progress of a job',
      tag: 'jobs',
      access: matcher,
      params: JobIdParamSchema,
      responses: { 200: { description: 'The job', schema: JobSchema } },
      errors: ['ERR_NOT_FOUND'],
      async handle({ params, caller }) {
        return { body: jobs.view(jobs.get(params.id, caller!.id)) };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/v1/jobs/{id}/results',
      operationId: 'getJobResults',
      summary: 'The result lines of a finished job (NDJSON, input order)',
      description:
        'One line per input line, in order: {"line","ref"?,"matches"} or {"line","ref"?,"error"}; lines count from 1. 409 while the job is queued or running. ' +
        'A cancelled or failed job serves the lines answered before it stopped.',
      tag: 'jobs',
      access: matcher,
      params: JobIdParamSchema,
      responses: { 200: { description: 'NDJSON result lines, one JobResultLine each', schema: JobResultLineSchema, contentType: 'application/x-ndjson' } },
      errors: ['ERR_NOT_FOUND', 'ERR_CONFLICT'],
      async handle({ params, caller, res }) {
        const pages = jobs.results(params.id, caller!.id);
        res.status(200).type('application/x-ndjson');
        for await (const page of pages) if (!(await writeChunk(res, page))) return undefined;
        res.end();
        return undefined;
      },
    }),
    defineRoute({
      method: 'DELETE',
      path: '/v1/jobs/{id}',
      operationId: 'cancelJob',
      summary: 'Cancel a queued or running job',
      description: 'Results answered so far are kept (served by /results) until the retention time passes. A finished job is 409.',
      tag: 'jobs',
      access: matcher,
      params: JobIdParamSchema,
      responses: { 200: { description: 'The job, cancelled', schema: JobSchema } },
      errors: ['ERR_NOT_FOUND', 'ERR_CONFLICT'],
      async handle({ params, caller, origin }) {
        return { body: await jobs.cancel(params.id, caller!.id, origin) };
      },
    }),
  ];
}
