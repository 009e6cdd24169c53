/**
 * The per-call master lock in Node terms. Every signalling command on a call runs under
 * `write()`: commands on one call are serialised, different calls proceed independently.
 * The packet path never waits: while `writeLocked` is true it defers packets to the call's
 * bounded queue, which the call drains in arrival order when the writer releases.
 */
export class MasterLock {
  private tail: Promise<unknown> = Promise.resolve();
  private holders = 0;

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
        onRelease();
      }
    };
    const result = this.tail.then(run, run);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
