/**
 * Port allocations between the addon's open and the leak registry's register: `allocatePorts`
 * awaits the opened pair before it adopts it, and commands that arrive together (one recvmmsg
 * round of the ng listener, several messages in one TCP read) interleave in those awaits. While
 * any allocation is in flight the addon's live socket count legitimately exceeds the registry's,
 * so a teardown's audit of the addon's counts (CallHash.auditNative) waits until none is. It
 * stays exact: it compares at a moment when every opened socket is registered or closed.
 */
export class AllocationsInFlight {
  private count = 0;
  private waiting: Array<() => void> = [];

  begin(): void {
    this.count++;
  }

  end(): void {
    if (this.count === 0) throw new Error('AllocationsInFlight.end() without begin()');
    if (--this.count > 0 || this.waiting.length === 0) return;
    const due = this.waiting;
    this.waiting = [];
    for (const run of due) run();
  }

  /** Runs `check` now if no allocation is in flight, else when the last one ends. */
  whenIdle(check: () => void): void {
    if (this.count === 0) check();
    else this.waiting.push(check);
  }

  get inFlight(): number {
    return this.count;
  }
}
