/**
 * What the ng media-control commands do to one stream's RTP on the packet path (rtpengine's
 * block DTMF / block media / silence media, and its DTMF event logging): applied once per
 * received packet, before the sinks. Built by signalling (call/media-control.ts) under the
 * call's write lock; read by the packet path. Holds no timers and no buffers (not audited).
 *
 * A stream with nothing blocked or silenced keeps its fast path; `needsJs` says why a control
 * forces the JS path (shown as the stream's kernelize reason in `query`).
 */
import { eventChar, parseDtmfPayload } from '../codec/dtmf.js';
import { payloadLength, payloadOffset, payloadType, ssrc as rtpSsrc, timestamp } from '../codec/rtp-header.js';
import { callLogger } from '../log/logger.js';

/** rtpengine's DTMF-security modes; we implement `drop` (and `off`, which lets events pass). */
export type DtmfBlockMode = 'drop' | 'off';

export interface ControlCounters {
  /** Packets dropped by block media / block DTMF. */
  blocked: number;
  /** Packets whose payload was replaced by silence. */
  silenced: number;
  /** telephone-event packets that are not RFC 4733 payloads (counted and dropped). */
  malformedDtmf: number;
  /** DTMF events seen (end of event). */
  dtmfEvents: number;
}

export class StreamControl {
  blockMedia = false;
  silence = false;
  blockDtmf: DtmfBlockMode | null = null;
  readonly counters: ControlCounters;
  /** Per sender SSRC: the timestamp of the last event logged (end packets repeat). */
  private readonly loggedEvent = new Map<number, number>();

  constructor(
    private readonly callId: string,
    /** The participant whose packets these are (for the DTMF log). */
    readonly tag: string,
    /** Payload types of telephone-event in the sender's numbering, with their clock rates. */
    readonly dtmfPts: ReadonlyMap<number, number>,
    /** Silence payload byte per audio payload type (G.711; L16 is zeros). */
    readonly silenceByte: ReadonlyMap<number, number>,
    /** Kept across rebuilds of the control (a re-INVITE keeps the stream's counts). */
    counters?: ControlCounters,
  ) {
    this.counters = counters ?? { blocked: 0, silenced: 0, malformedDtmf: 0, dtmfEvents: 0 };
  }

  /** Why this control needs the JS path, or null when the addon may forward the stream. */
  get needsJs(): string | null {
    if (this.blockMedia) return 'media blocked (block media): packets are dropped on the JS path';
    if (this.silence) return 'media silenced (silence media): payloads are replaced on the JS path';
    if (this.blockDtmf === 'drop' && this.dtmfPts.size > 0) return 'DTMF blocked (block DTMF): telephone-event is inspected on the JS path';
    return null;
  }

  /** Is there anything to do for this stream's packets at all? */
  get active(): boolean {
    return this.blockMedia || this.silence || this.blockDtmf !== null || this.dtmfPts.size > 0;
  }

  /** The packet to forward (maybe a silenced copy), or null when it is dropped. */
  filter(pkt: Buffer): Buffer | null {
    const pt = payloadType(pkt);
    const dtmfRate = this.dtmfPts.get(pt);
    if (dtmfRate !== undefined) {
      const off = payloadOffset(pkt);
      const ev = parseDtmfPayload(pkt.subarray(off, off + payloadLength(pkt)));
      if (ev === null) {
        this.counters.malformedDtmf++;
        return null;
      }
      if (ev.end) this.logEvent(pkt, ev.event, ev.duration, ev.volume, dtmfRate);
      if (this.blockMedia || this.blockDtmf === 'drop') {
        this.counters.blocked++;
        return null;
      }
      return pkt;
    }
    if (this.blockMedia) {
      this.counters.blocked++;
      return null;
    }
    if (this.silence) {
      const fill = this.silenceByte.get(pt);
      if (fill === undefined) return pkt; // a codec we cannot make silence for passes (as rtpengine)
      const off = payloadOffset(pkt);
      const len = payloadLength(pkt);
      const out = Buffer.from(pkt);
      out.fill(fill, off, off + len);
      this.counters.silenced++;
      return out;
    }
    return pkt;
  }

  private logEvent(pkt: Buffer, event: number, duration: number, volume: number, clockRate: number): void {
    const ssrc = rtpSsrc(pkt);
    const ts = timestamp(pkt);
    if (this.loggedEvent.get(ssrc) === ts) return;
    if (this.loggedEvent.size >= 16 && !this.loggedEvent.has(ssrc)) this.loggedEvent.clear();
    this.loggedEvent.set(ssrc, ts);
    this.counters.dtmfEvents++;
    callLogger(this.callId, this.tag).info({
      dtmf: { event, digit: eventChar(event), duration: Math.round((duration * 1000) / clockRate), volume, ssrc, timestamp: ts },
    }, `DTMF event '${eventChar(event)}'`);
  }
}
