/**
 * The progress bar long CLI work shows on stderr (never stdout, which carries results): drawn
 * when stderr is a terminal, or with `--progress` also when it is not (then redrawn as a new
 * line at most once a second, and once at start and end).
 */
import { SingleBar } from 'cli-progress';

/** A bar with `format` (cli-progress tokens), or undefined when none should be shown. */
export function progressBar(format: string, forced = false): SingleBar | undefined {
  if (!forced && !process.stderr.isTTY) return undefined;
  return new SingleBar({ stream: process.stderr, clearOnComplete: true, hideCursor: true, noTTYOutput: true, notTTYSchedule: 1000, format });
}

export const PROGRESS_OPTION = ['--progress', 'show a progress bar on stderr even when it is not a terminal'] as const;
