/**
 * The per-call master lock in Node terms. Every signalling command on a call runs under
 * `write()`: commands on one call are serialised, different calls proceed independently.
 * The packet path never waits: while `writeLocked` is true it defers packets to the call's
 * bounded queue, which the call drains in arrival order when the writer releases.
 */
/** The tail of every idle lock: no promise (nor the last command's result) kept per idle call. */
const IDLE: Promise<unknown> = Promise.resolve();
const NOTHING = (): undefined => undefined;

export class MasterLock {
  private tail: Promise<unknown> = IDLE;
  private holders = 0;
  /** Commands queued or running; at 0 the tail goes back to IDLE. */
  private queued = 0;

  get writeLocked(): boolean {
    return this.holders > 0;
  }

  write<T>(fn: () => Promise<T> | T, onRelease: () => void): Promise<T> {
    const run = async (): Promise<T> => {
      this.holders++;
      try {
        return await fn();
      } finally {
        this.holders--;
        if (--this.queued === 0) this.tail = IDLE;
        onRelease();
      }
    };
    this.queued++;
    const result = this.tail.then(run, run);
    // the next command waits for this one, not for its result (which the tail would keep alive)
    this.tail = result.then(NOTHING, NOTHING);
    return result;
  }
}
