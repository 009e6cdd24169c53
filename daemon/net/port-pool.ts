/**
 * Port pool of one local address: RTP/RTCP pairs (even/odd) from the configured range.
 * Every address has its own pool, as rtpengine binds per address and so can use the full
 * port space on each. A pair is reserved before binding and returned only at teardown, so a
 * port is never handed out twice while a call still holds it.
 */
export class PortPool {
  private readonly used = new Set<number>();
  private cursor: number;
  readonly first: number;
  readonly last: number;

  constructor(min: number, max: number) {
    this.first = min % 2 === 0 ? min : min + 1;
    this.last = max % 2 === 0 ? max - 1 : max; // the RTCP port of the last pair must be in range
    // Start at a random pair so a restarted daemon does not immediately reuse the previous ports.
    const pairs = this.capacity;
    this.cursor = pairs > 0 ? this.first + 2 * Math.floor(Math.random() * pairs) : this.first;
  }

  get capacity(): number {
    return this.last > this.first ? Math.floor((this.last - this.first + 1) / 2) : 0;
  }

  get inUse(): number {
    return this.used.size;
  }

  /** Pairs not reserved by us (a port bound by someone else still counts as free until tried). */
  get free(): number {
    return this.capacity - this.used.size;
  }

  /** Candidate even ports in allocation order, starting after the last one handed out. */
  *candidates(): Generator<number> {
    const pairs = this.capacity;
    for (let i = 0; i < pairs; i++) {
      const port = this.cursor;
      this.cursor = port + 2 > this.last ? this.first : port + 2;
      if (!this.used.has(port)) yield port;
    }
  }

  reserve(port: number): void {
    if (this.used.has(port)) throw new Error(`port ${port} already reserved`);
    this.used.add(port);
  }

  release(port: number): boolean {
    return this.used.delete(port);
  }

  has(port: number): boolean {
    return this.used.has(port);
  }
}
