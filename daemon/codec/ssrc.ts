/**
 * Per-SSRC state (rtpengine's ssrc.c: ssrc_ctx). Every packet stream keeps two tables: the
 * SSRCs it receives from its participant (input) and the SSRCs it sends to it (output). A
 * context counts packets and bytes and remembers the last sequence number and timestamp; the
 * output side also carries the sequence/timestamp offsets a rewriting handler (transcoder)
 * applies, and `srtpIndex` is the SRTP packet index a crypto handler keeps per SSRC.
 *
 * Owner and lifetime: the Call owns every context through a primary container (SsrcOwner);
 * the tables here are indexes into it. A table is bounded (MAX_SSRCS): a new SSRC beyond the
 * bound evicts the oldest context, so a stream spraying SSRCs costs bounded memory. Contexts
 * are created on the packet path (under the call's read side) and released by teardown.
 */
import type { LeakHandle } from '../leak/registry.js';

export type SsrcDirection = 'in' | 'out';

/** SSRCs one table tracks at most; beyond, the oldest context is evicted. */
export const MAX_SSRCS = 16;

export class SsrcContext {
  packets = 0;
  bytes = 0;
  /** Last RTP sequence number seen (input) or sent (output); -1 before the first packet. */
  lastSeq = -1;
  /** Last RTP timestamp seen or sent. */
  lastTs = 0;
  /** Output side: what a rewriting handler adds to the sequence numbers / timestamps it emits. */
  seqOffset = 0;
  tsOffset = 0;
  /** SRTP packet index (rollover counter << 16 | seq) kept by a crypto handler for this SSRC. */
  srtpIndex = 0;
  /** RFC 3550 A.1 loss bookkeeping: first and highest sequence number, wraps × 65536. */
  baseSeq = -1;
  maxSeq = 0;
  cycles = 0;
  /** RFC 3550 A.8 interarrival jitter in timestamp units (input side; updated by `arrival`). */
  jitter = 0;
  private prevArrival = -1;
  private prevTs = 0;

  constructor(
    readonly ssrc: number,
    readonly direction: SsrcDirection,
    readonly leak: LeakHandle,
  ) {}

  /** Counts one RTP packet (header fields read from `data`, which is known to be valid RTP). */
  count(data: Buffer): void {
    this.packets++;
    this.bytes += data.length;
    const seq = ((data[2] as number) << 8) | (data[3] as number);
    if (this.baseSeq < 0) {
      this.baseSeq = seq;
      this.maxSeq = seq;
    } else {
      const ahead = (seq - this.maxSeq) & 0xffff;
      if (ahead !== 0 && ahead < 0x8000) {
        if (seq < this.maxSeq) this.cycles += 0x10000;
        this.maxSeq = seq;
      }
    }
    this.lastSeq = seq;
    this.lastTs = data.readUInt32BE(4);
  }

  /**
   * The packet just counted arrived at `nowMs` (its clock `clockRate`): updates the jitter
   * estimate J += (|D| − J)/16 from the change in transit time against the previous packet.
   */
  arrival(nowMs: number, clockRate: number): void {
    const arrival = (nowMs * clockRate) / 1000;
    if (this.prevArrival >= 0) {
      const d = arrival - this.prevArrival - ((this.lastTs - this.prevTs) | 0);
      this.jitter += (Math.abs(d) - this.jitter) / 16;
    }
    this.prevArrival = arrival;
    this.prevTs = this.lastTs;
  }

  /** Extended highest sequence number received (RFC 3550 A.1). */
  get extendedMax(): number {
    return this.cycles + this.maxSeq;
  }

  /** Packets expected from the first to the highest sequence number seen. */
  get expected(): number {
    return this.baseSeq < 0 ? 0 : this.extendedMax - this.baseSeq + 1;
  }
}

/** The Call's side of per-SSRC state: creates (registers) and releases contexts. */
export interface SsrcOwner {
  createSsrc(ssrc: number, direction: SsrcDirection): SsrcContext;
  releaseSsrc(ctx: SsrcContext): void;
}

/** One stream's SSRC index for one direction. Lookups hit a one-entry cache first. */
export class SsrcTable {
  private readonly byId = new Map<number, SsrcContext>();
  private last: SsrcContext | null = null;

  constructor(
    private owner: SsrcOwner,
    readonly direction: SsrcDirection,
  ) {}

  /** Calls merged: contexts are created in and released to the surviving call from now on. */
  rehome(owner: SsrcOwner): void {
    this.owner = owner;
  }

  /** The context of `ssrc`, created on first sight. */
  get(ssrc: number): SsrcContext {
    const last = this.last;
    if (last !== null && last.ssrc === ssrc) return last;
    let ctx = this.byId.get(ssrc);
    if (ctx === undefined) {
      if (this.byId.size >= MAX_SSRCS) this.evictOldest();
      ctx = this.owner.createSsrc(ssrc, this.direction);
      this.byId.set(ssrc, ctx);
    }
    this.last = ctx;
    return ctx;
  }

  /** The context of `ssrc` if known, without creating one. */
  peek(ssrc: number): SsrcContext | undefined {
    return this.byId.get(ssrc);
  }

  get size(): number {
    return this.byId.size;
  }

  /** SSRCs in order of first sight. */
  ssrcs(): number[] {
    return [...this.byId.keys()];
  }

  contexts(): IterableIterator<SsrcContext> {
    return this.byId.values();
  }

  /** Releases every context (teardown of the stream). */
  clear(): void {
    for (const ctx of this.byId.values()) this.owner.releaseSsrc(ctx);
    this.byId.clear();
    this.last = null;
  }

  private evictOldest(): void {
    // Map iteration order is insertion order: the first key is the oldest SSRC
    const first = this.byId.values().next();
    if (first.done) return;
    const ctx = first.value;
    this.byId.delete(ctx.ssrc);
    if (this.last === ctx) this.last = null;
    this.owner.releaseSsrc(ctx);
  }
}
