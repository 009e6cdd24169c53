/**
 * RTCP reports read on the packet path (rtpengine's rtcp.c + ssrc.c quality statistics): every
 * compound RTCP packet a participant sends is checked (RFC 3550 §6.4: lengths, report counts)
 * and its report blocks become per-SSRC quality figures: packet loss, jitter, round-trip time
 * and a MOS estimate. A packet whose lengths or report counts overrun it is refused (counted
 * and dropped by the caller), so a malformed report never reaches the other side.
 *
 * Round-trip time as rtpengine measures it: when a sender report passes, the relay notes when
 * it saw it (keyed by the middle 32 bits of its NTP time); a report block that names it (LSR)
 * gives RTT = now − seen − DLSR: the path relay → receiver → relay.
 *
 * Memory is bounded: MAX_REPORTED SSRCs per stream, MAX_SR sender-report times per call.
 */
const MAX_REPORTED = 16;
const MAX_SR = 64;

/** One MOS sample with what it was computed from (rtpengine's ssrc_stats_block). */
export interface QualitySample {
  /** MOS × 10 (rtpengine's integer form, e.g. 43 = 4.3). */
  mos: number;
  /** Round-trip time in µs (0: not known). */
  rttUs: number;
  jitterMs: number;
  /** Percent of packets lost in the reporting interval (the report's fraction lost). */
  lossPercent: number;
  reportedAt: number;
}

export interface SsrcQuality {
  ssrc: number;
  samples: number;
  sum: { mos: number; rttUs: number; jitterMs: number; lossPercent: number };
  lowest: QualitySample | null;
  highest: QualitySample | null;
  last: QualitySample | null;
  /** Cumulative packets lost, as last reported. */
  cumulativeLost: number;
  /** Highest sequence number received (extended), as last reported. */
  highestSeq: number;
}

/** Sender-report arrival times of one call, shared by its streams (an RR names the other side's SR). */
export class SrTimes {
  /** Made by the first sender report (most calls relay none through JS). */
  private seen: Map<number, number> | null = null;

  note(middle: number, now: number): void {
    const seen = (this.seen ??= new Map());
    if (seen.size >= MAX_SR) seen.delete(seen.keys().next().value as number);
    seen.set(middle >>> 0, now);
  }

  get(middle: number): number | undefined {
    return this.seen?.get(middle >>> 0);
  }
}

/**
 * MOS from loss, jitter and round-trip time: the simplified ITU-T G.107 E-model widely used
 * for RTP monitoring (effective latency = RTT/2 + 2·jitter + 10 ms; R = 93.2 − latency and
 * loss impairments; MOS = 1 + 0.035R + 7·10⁻⁶·R(R−60)(100−R)). Returns MOS × 10.
 */
export function mosFrom(lossPercent: number, jitterMs: number, rttMs: number): number {
  const latency = rttMs / 2 + jitterMs * 2 + 10;
  let r = latency < 160 ? 93.2 - latency / 40 : 93.2 - (latency - 120) / 10;
  r -= lossPercent * 2.5;
  r = Math.max(0, Math.min(100, r));
  const mos = 1 + 0.035 * r + 0.000007 * r * (r - 60) * (100 - r);
  return Math.round(Math.max(1, Math.min(4.5, mos)) * 10);
}

export class RtcpQuality {
  // every stream has one of these from its first offer on, most never see RTCP: the maps are
  // made on first use (an empty Map still costs its hash table)
  private bySsrcMap: Map<number, SsrcQuality> | null = null;
  private senderInfoMap: Map<number, { packets: number; octets: number; rtpTs: number }> | null = null;
  private lastSrMap: Map<number, { middle: number; at: number }> | null = null;

  /** Per reported-on SSRC (the media this participant receives). */
  get bySsrc(): Map<number, SsrcQuality> {
    return (this.bySsrcMap ??= new Map());
  }

  /** Sender reports this participant sent: its SSRC → packets and octets it says it sent. */
  get senderInfo(): Map<number, { packets: number; octets: number; rtpTs: number }> {
    return (this.senderInfoMap ??= new Map());
  }

  /** The last sender report of each SSRC: its NTP middle 32 bits and when we saw it (for LSR/DLSR). */
  get lastSr(): Map<number, { middle: number; at: number }> {
    return (this.lastSrMap ??= new Map());
  }
  reports = 0;
  malformed = 0;

  constructor(
    private readonly srTimes: SrTimes,
    /** Clock rate of the media reported on (jitter is in its timestamp units). */
    private readonly clockRate: number,
  ) {}

  /** Reads one (compound) RTCP packet; false when it is malformed (the caller drops it). */
  receive(pkt: Buffer, now: number): boolean {
    let off = 0;
    const blocks: Array<[number, number]> = [];
    while (off < pkt.length) {
      if (pkt.length - off < 4) return this.bad();
      const b0 = pkt[off] as number;
      if (b0 >> 6 !== 2) return this.bad();
      const pt = pkt[off + 1] as number;
      const len = (pkt.readUInt16BE(off + 2) + 1) * 4;
      if (off + len > pkt.length) return this.bad();
      const rc = b0 & 0x1f;
      if (pt === 200 || pt === 201) {
        const first = pt === 200 ? 28 : 8;
        if (len < first + rc * 24) return this.bad();
        if (pt === 200) {
          const ssrc = pkt.readUInt32BE(off + 4);
          const msw = pkt.readUInt32BE(off + 8);
          const lsw = pkt.readUInt32BE(off + 12);
          const middle = (((msw & 0xffff) << 16) | (lsw >>> 16)) >>> 0;
          this.srTimes.note(middle, now);
          if (this.senderInfo.size >= MAX_REPORTED && !this.senderInfo.has(ssrc)) {
            this.senderInfo.clear();
            this.lastSr.clear();
          }
          this.lastSr.set(ssrc, { middle, at: now });
          this.senderInfo.set(ssrc, { rtpTs: pkt.readUInt32BE(off + 16), packets: pkt.readUInt32BE(off + 20), octets: pkt.readUInt32BE(off + 24) });
        }
        for (let i = 0; i < rc; i++) blocks.push([off + first + i * 24, now]);
      }
      off += len;
    }
    // only a packet that is whole from end to end counts
    for (const [at] of blocks) this.block(pkt, at, now);
    this.reports++;
    return true;
  }

  private bad(): false {
    this.malformed++;
    return false;
  }

  private block(pkt: Buffer, at: number, now: number): void {
    const ssrc = pkt.readUInt32BE(at);
    const fraction = pkt[at + 4] as number;
    let cumulative = pkt.readUIntBE(at + 5, 3);
    if (cumulative & 0x800000) cumulative -= 0x1000000;
    const highestSeq = pkt.readUInt32BE(at + 8);
    const jitter = pkt.readUInt32BE(at + 12);
    const lsr = pkt.readUInt32BE(at + 16);
    const dlsr = pkt.readUInt32BE(at + 20);
    let rttUs = 0;
    if (lsr !== 0) {
      const seen = this.srTimes.get(lsr);
      if (seen !== undefined) rttUs = Math.max(0, Math.round((now - seen) * 1000 - (dlsr * 1_000_000) / 65536));
    }
    const jitterMs = Math.round((jitter * 1000) / this.clockRate);
    const lossPercent = Math.round((fraction * 100) / 256);
    const sample: QualitySample = { mos: mosFrom(lossPercent, jitterMs, rttUs / 1000), rttUs, jitterMs, lossPercent, reportedAt: now };
    let q = this.bySsrc.get(ssrc);
    if (!q) {
      if (this.bySsrc.size >= MAX_REPORTED) this.bySsrc.delete(this.bySsrc.keys().next().value as number);
      q = { ssrc, samples: 0, sum: { mos: 0, rttUs: 0, jitterMs: 0, lossPercent: 0 }, lowest: null, highest: null, last: null, cumulativeLost: 0, highestSeq: 0 };
      this.bySsrc.set(ssrc, q);
    }
    q.samples++;
    q.sum.mos += sample.mos;
    q.sum.rttUs += sample.rttUs;
    q.sum.jitterMs += sample.jitterMs;
    q.sum.lossPercent += sample.lossPercent;
    if (!q.lowest || sample.mos < q.lowest.mos) q.lowest = sample;
    if (!q.highest || sample.mos > q.highest.mos) q.highest = sample;
    q.last = sample;
    q.cumulativeLost = cumulative;
    q.highestSeq = highestSeq;
  }
}
