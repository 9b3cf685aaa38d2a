/**
 * The text of one result line of a job (SPEC §5 "Jobs"), NDJSON without the newline:
 * `{"line","ref"?,"matches":[…]}` for an answered query — each match exactly as `POST /v1/match`
 * shows it — or `{"line","ref"?,"error":{"code","message"}}` for a refused line.
 */
import type { Match } from '../bank/bank.js';
import { matchJson } from '../api/representations.js';
import type { SignalbankError } from '../errors.js';

/** `{"line":N` and the `,"ref":…` when there is one: the start every line of a query has. */
const lineStart = (line: number, ref: string | null): string => `{"line":${line}${ref === null ? '' : `,"ref":${JSON.stringify(ref)}`}`;

// Built as text rather than through one object per line: most lines of a large job have no
// match, and this is the runner's per-line cost on the request thread (same bytes either way).
export function matchesLine(line: number, ref: string | null, matches: readonly Match[]): string {
  return `${lineStart(line, ref)},"matches":${matches.length === 0 ? '[]' : JSON.stringify(matches.map(matchJson))}}`;
}

export function errorLine(line: number, ref: string | null, error: SignalbankError): string {
  return `${lineStart(line, ref)},"error":${JSON.stringify(error.toClientItemError())}}`;
}
