/**
 * Signals over HTTP (SPEC §5): batch submit with one result per item, reading a signal by id or
 * by type and hash (with the caller's own part as `mine`), retracting the caller's submission,
 * and setting the caller's opinion. Answers never name other submitters.
 */
import { itemResult, type Bank } from '../../bank/bank.js';
import { NotFoundError } from '../../errors.js';
import type { ServiceMetrics } from '../metrics.js';
import { validationError } from '../problem.js';
import { signalJson } from '../representations.js';
import { defineRoute, type RouteSpec } from '../route.js';
import {
  OpinionBodySchema,
  SignalIdParamSchema,
  SignalLookupParamsSchema,
  SignalSchema,
  SubmissionItemSchema,
  SubmitAnswerSchema,
  SubmitBodySchema,
} from '../schemas.js';

export function signalRoutes(bank: Bank, metrics: ServiceMetrics): RouteSpec[] {
  return [
    defineRoute({
      method: 'POST',
      path: '/v1/signals',
      operationId: 'submitSignals',
      summary: 'Submit hashes (batch of up to 10,000)',
      description:
        'Each item is accepted (created, added, updated, unchanged) or rejected on its own; only a bad envelope fails the whole request. ' +
        'Every accepted item is committed with its audit entry before the answer is sent.',
      tag: 'signals',
      access: ['submitter'],
      jtiWithChange: true,
      body: SubmitBodySchema,
      responses: { 200: { description: 'One result per item, in order', schema: SubmitAnswerSchema } },
      async handle({ body, caller, origin }) {
        const items = body.signals.map((raw, i) =>
          itemResult(() => {
            const shaped = SubmissionItemSchema.safeParse(raw);
            if (!shaped.success) throw validationError(shaped.error.issues, ['signals', i], `Item ${i}`);
            return bank.validateSubmission(shaped.data);
          }),
        );
        const results = await bank.submit(caller!.id, items, origin);
        return {
          body: {
            results: results.map((result) => {
              metrics.submissions.inc({ result: result.status });
              if (result.error) {
                metrics.rejections.inc({ code: result.error.code });
                return { status: 'rejected', error: result.error.toClientItemError() };
              }
              return { status: result.status, id: result.signal!.id };
            }),
          },
        };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/v1/signals',
      operationId: 'findSignal',
      summary: 'Look a signal up by type and hash',
      tag: 'signals',
      access: 'any',
      query: SignalLookupParamsSchema,
      responses: { 200: { description: 'The signal', schema: SignalSchema } },
      errors: ['ERR_UNKNOWN_TYPE', 'ERR_INVALID_HASH', 'ERR_DEGENERATE_HASH', 'ERR_NOT_FOUND'],
      async handle({ query, caller }) {
        const found = await bank.findSignal(query.type, query.hash, caller!.id);
        if (!found) throw new NotFoundError('No signal has this type and hash');
        return { body: signalJson(found.signal, found.mine) };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/v1/signals/{id}',
      operationId: 'getSignal',
      summary: 'Read a signal',
      tag: 'signals',
      access: 'any',
      params: SignalIdParamSchema,
      responses: { 200: { description: 'The signal', schema: SignalSchema } },
      errors: ['ERR_NOT_FOUND'],
      async handle({ params, caller }) {
        const found = await bank.getSignal(params.id, caller!.id);
        if (!found) throw new NotFoundError(`No signal ${params.id.slice(0, 64)}`);
        return { body: signalJson(found.signal, found.mine) };
      },
    }),
    defineRoute({
      method: 'DELETE',
      path: '/v1/signals/{id}/submission',
      operationId: 'retractSubmission',
      summary: "Retract the caller's submission",
      description: 'When no active submission is left the signal is retracted and never matches again.',
      tag: 'signals',
      access: ['submitter'],
      jtiWithChange: true,
      params: SignalIdParamSchema,
      responses: { 200: { description: 'The signal after the retraction', schema: SignalSchema } },
      errors: ['ERR_NOT_FOUND'],
      async handle({ params, caller, origin }) {
        const signal = await bank.retract(caller!.id, params.id, origin);
        const own = await bank.getSignal(signal.id, caller!.id);
        return { body: signalJson(signal, own?.mine) };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/v1/signals/{id}/opinions',
      operationId: 'setOpinion',
      summary: "Set the caller's opinion of a signal",
      description: 'confirm, false_positive or dispute_labels (with labels and a reason). One per member; the latest wins. Only false_positive counts toward disputed.',
      tag: 'signals',
      access: ['submitter', 'matcher'],
      jtiWithChange: true,
      params: SignalIdParamSchema,
      body: OpinionBodySchema,
      responses: { 200: { description: 'The signal after the opinion', schema: SignalSchema } },
      errors: ['ERR_INVALID_LABEL', 'ERR_NOT_FOUND', 'ERR_CONFLICT'],
      async handle({ params, body, caller, origin }) {
        const signal = await bank.setOpinion(caller!.id, params.id, body, origin);
        const own = await bank.getSignal(signal.id, caller!.id);
        return { body: signalJson(signal, own?.mine) };
      },
    }),
  ];
}
