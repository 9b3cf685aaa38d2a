/**
 * The one check of a match query, shape (the `MatchQuery` schema) then type, hash and radius —
 * as `POST /v1/match` applies it to each query and as offline matching against a mirror applies
 * it, so a refused query gets the same code and message in both.
 */
import { validateMatchQuery, type ValidQuery } from '../bank/signal-matcher.js';
import { validationError } from './problem.js';
import { MatchQuerySchema } from './schemas.js';

export function checkMatchQuery(raw: unknown, position: number): ValidQuery {
  const shaped = MatchQuerySchema.safeParse(raw);
  if (!shaped.success) throw validationError(shaped.error.issues, ['queries', position], `Query ${position}`);
  return validateMatchQuery(shaped.data);
}
