/**
 * The service's structured log: pino, one JSON object a line on stdout. Lines are written
 * asynchronously — a request never waits on the write of its own line (a synchronous append took
 * ~90 µs while the bank's commits were syncing the disk, on the thread that serves requests), and
 * lines logged while a write is in flight go out together in the next one. Pino flushes what is
 * pending when the process exits (also on SIGTERM/SIGINT); the last lines may be lost to a SIGKILL
 * or a power cut, which is acceptable for a log: the audit log in SQLite is the bank's record.
 */
import { pino, type Level, type Logger } from 'pino';

export function createServiceLogger(level: Level | 'silent'): Logger {
  const options = { level, base: { service: 'signalbank' } };
  if (level === 'silent') return pino(options);
  return pino(options, pino.destination({ dest: 1, sync: false }));
}
