/**
 * The text of one result line of a job (SPEC §5 "Jobs"), NDJSON without the newline:
 * `{"line","ref"?,"matches":[…]}` for an answered query — each match exactly as `POST /v1/match`
 * shows it — or `{"line","ref"?,"error":{"code","message"}}` for a refused line.
 */
import type { Match } from '../bank/bank.js';
import { matchJson } from '../api/representations.js';
import type { SignalbankError } from '../errors.js';

export function matchesLine(line: number, ref: string | null, matches: readonly Match[]): string {
  return JSON.stringify({ line, ...(ref !== null && { ref }), matches: matches.map(matchJson) });
}

export function errorLine(line: number, ref: string | null, error: SignalbankError): string {
  return JSON.stringify({ line, ...(ref !== null && { ref }), error: error.toItemError() });
}
