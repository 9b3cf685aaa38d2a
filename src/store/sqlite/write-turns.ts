/**
 * The turns of the service's writes to the database file, in the order they were asked for.
 * The service writes from two connections — its own, and the submit writer's thread
 * (src/store/sqlite/submit-writer.ts) — and SQLite lets one transaction write at a time: a write
 * started on the service's connection while the writer's transaction holds the lock would wait
 * in SQLite's busy handler, blocking the thread that answers requests. Here it waits as a promise
 * instead, and every other request goes on. Reads never take a turn (WAL readers do not block).
 *
 *   `onThisConnection`: runs once everything asked before it has finished.
 *   `handedToWriter`:   is handed to the writer once the work on this connection asked before it
 *                       has finished; the writer commits what it is handed one at a time, in
 *                       order, so it can be handed the next batch while it commits one.
 *
 * Either way, changes commit in the order they were asked for.
 */
const settled = (promise: Promise<unknown>): Promise<void> =>
  promise.then(
    () => undefined,
    () => undefined,
  );

export class WriteTurns {
  /** Settles once everything asked for so far has finished. */
  private everything: Promise<void> = Promise.resolve();
  /** Settles once the last work on this connection asked for so far (and all before it) has finished. */
  private lastOnThisConnection: Promise<void> = Promise.resolve();

  /** Runs `work` on the service's connection after everything asked for before it. */
  onThisConnection<T>(work: () => T | Promise<T>): Promise<T> {
    const result = this.everything.then(work);
    this.everything = settled(result);
    this.lastOnThisConnection = this.everything;
    return result;
  }

  /** Calls `handOff` (which posts work to the writer and answers its outcome) after the work on this connection asked for before it. */
  handedToWriter<T>(handOff: () => Promise<T>): Promise<T> {
    const result = this.lastOnThisConnection.then(handOff);
    const before = this.everything;
    this.everything = Promise.all([before, settled(result)]).then(() => undefined);
    return result;
  }

  /** Settles once everything asked for so far has finished. */
  async drain(): Promise<void> {
    await this.everything;
  }
}
