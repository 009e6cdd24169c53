/**
 * The packet sequencer in front of a transcoder (rtpengine's packet_sequencer): hands packets
 * on in sequence-number order, holding a few that arrive early so a late one can slot in, and
 * tells the transcoder where input was lost so the output keeps the gap.
 *
 * - next expected: processed at once, then any held successors;
 * - a little ahead (≤ MAX_AHEAD): held; when more than `maxHeld` wait, the missing ones are
 *   given up as lost and the held ones go out, the first with `lost` set;
 * - behind (already processed or too old): dropped (a duplicate or a straggler);
 * - far ahead or far behind: the sender restarted its numbering; taken as the new base.
 */
export interface Sequenced<T> {
  item: T;
  seq: number;
  /** Packets missing right before this one (0: contiguous, -1: a restart of the numbering). */
  lost: number;
}

const MAX_AHEAD = 100;

export class PacketSequencer<T> {
  private expected = -1;
  private readonly held = new Map<number, T>();
  /** Packets dropped as duplicates or too late. */
  dropped = 0;
  /** The common case (in order, nothing held) reuses one result: no allocation per packet. */
  private readonly one: [Sequenced<T>] = [{ item: undefined as T, seq: 0, lost: 0 }];

  constructor(private readonly maxHeld = 3) {}

  /** Feeds one packet; returns the packets to process now, in order. */
  push(seq: number, item: T): Sequenced<T>[] {
    if (this.expected === -1) {
      this.expected = (seq + 1) & 0xffff;
      return [{ item, seq, lost: 0 }];
    }
    const ahead = (seq - this.expected) & 0xffff;
    if (ahead === 0) {
      this.expected = (seq + 1) & 0xffff;
      if (this.held.size === 0) return this.single(item, seq);
      return [{ item, seq, lost: 0 }, ...this.drain()];
    }
    if (ahead < MAX_AHEAD) {
      if (this.held.has(seq)) {
        this.dropped++;
        return [];
      }
      this.held.set(seq, item);
      return this.held.size > this.maxHeld ? this.skip() : [];
    }
    const behind = (this.expected - seq) & 0xffff;
    if (behind <= MAX_AHEAD) {
      this.dropped++;
      return [];
    }
    // a new numbering: whatever was held belongs to the old one and goes first
    const out = this.flushAll();
    this.expected = (seq + 1) & 0xffff;
    out.push({ item, seq, lost: -1 });
    return out;
  }

  /** Valid until the next push: callers consume the result at once. */
  private single(item: T, seq: number): Sequenced<T>[] {
    const r = this.one[0];
    r.item = item;
    r.seq = seq;
    r.lost = 0;
    return this.one;
  }

  /** Forgets everything (teardown, reset). */
  clear(): void {
    this.held.clear();
    this.expected = -1;
    this.one[0].item = undefined as T;
  }

  get pending(): number {
    return this.held.size;
  }

  private drain(): Sequenced<T>[] {
    const out: Sequenced<T>[] = [];
    for (let item = this.held.get(this.expected); item !== undefined; item = this.held.get(this.expected)) {
      this.held.delete(this.expected);
      out.push({ item, seq: this.expected, lost: 0 });
      this.expected = (this.expected + 1) & 0xffff;
    }
    return out;
  }

  /** Gives up on the missing packets before the earliest held one. */
  private skip(): Sequenced<T>[] {
    let first = -1;
    let best = Infinity;
    for (const seq of this.held.keys()) {
      const d = (seq - this.expected) & 0xffff;
      if (d < best) {
        best = d;
        first = seq;
      }
    }
    const item = this.held.get(first) as T;
    this.held.delete(first);
    this.expected = (first + 1) & 0xffff;
    return [{ item, seq: first, lost: best }, ...this.drain()];
  }

  private flushAll(): Sequenced<T>[] {
    const out: Sequenced<T>[] = [];
    while (this.held.size > 0) out.push(...this.skip());
    return out;
  }
}
