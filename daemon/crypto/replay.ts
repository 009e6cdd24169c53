/**
 * Replay protection (RFC 3711 3.3.2): a sliding window over packet indexes. An index is fresh
 * if it is above the highest seen, or within the window and not seen before. `check` runs
 * before authentication, `accept` only after it succeeded, so a forged packet cannot move the
 * window.
 */
export const REPLAY_WINDOW = 128;

export class ReplayWindow {
  private max = -1;
  /** seen[i % size] holds the last index stored in that slot. */
  private readonly seen = new Float64Array(REPLAY_WINDOW).fill(-1);

  check(index: number): boolean {
    if (index > this.max) return true;
    if (this.max - index >= REPLAY_WINDOW) return false;
    return this.seen[index % REPLAY_WINDOW] !== index;
  }

  /** Highest index accepted, -1 if none. */
  get highest(): number {
    return this.max;
  }

  /**
   * Continues a window kept elsewhere (the native fast path) up to `index`: every index at or
   * below it counts as seen, the safe side since the other window's bitmap is not carried.
   */
  seenUpTo(index: number): void {
    if (index <= this.max) return;
    this.max = index;
    for (let i = 0; i < REPLAY_WINDOW; i++) this.seen[(index - i) % REPLAY_WINDOW] = index - i;
  }

  accept(index: number): void {
    this.seen[index % REPLAY_WINDOW] = index;
    if (index > this.max) this.max = index;
  }
}
