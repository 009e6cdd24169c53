/**
 * `play DTMF` (rtpengine's dtmf_inject): DTMF generated into the stream one participant sends
 * to a sink, as if that participant had sent it. Either RFC 4733 events (when the receiver
 * negotiated telephone-event) or in-band dual tones in the receiver's G.711/L16 codec.
 *
 * What the receiver sees: the sender's SSRC; sequence numbers continuing the stream's (the
 * sink's output context), one packet every 20 ms; for events, every packet of one event has
 * the event's start timestamp, the first one the marker bit, durations growing by 20 ms and
 * three end packets; for tones, timestamps advancing 20 ms per packet. While a digit plays,
 * the sender's own audio toward this sink is replaced (dropped), and every later packet of the
 * stream is renumbered by the difference, so the receiver sees one gap-free sequence.
 *
 * A stream the fast path forwarded until now has no per-SSRC count of what it sent: the first
 * digit then starts after the stream's next packet, which tells where its numbering is.
 *
 * Owner and lifetime: one injector per sink, created by the command under the call's write
 * lock and closed exactly once (sink rebuilt, or call torn down); audited as a Timer. Its
 * timer checks `closed` first: once closed, nothing more is sent.
 */
import { buildDtmfPayload, toneSamples } from '../codec/dtmf.js';
import { sequence } from '../codec/rtp-header.js';
import type { SsrcContext } from '../codec/ssrc.js';

/** One digit to play. */
export interface DtmfDigit {
  event: number;
  durationMs: number;
  /** dBm0 attenuation (0–63). */
  volume: number;
  pauseMs: number;
}

/** How the receiver gets DTMF: events in its telephone-event PT, or tones in an audio codec. */
export type DtmfCarrier =
  | { kind: 'event'; pt: number; clockRate: number }
  | { kind: 'tone'; pt: number; clockRate: number; encode: (samples: Int16Array) => Buffer };

/** The sink side an injector writes to (SinkHandler implements it). */
export interface InjectTarget {
  /** Sends a generated packet (counted on the output SSRC, not renumbered). */
  sendGenerated(packet: Buffer): void;
  outputSsrc(ssrc: number): SsrcContext;
}

export const FRAME_MS = 20;
const END_PACKETS = 3;

export class DtmfInjector {
  readonly kind = 'dtmf-inject';
  readonly stateless = false;
  private readonly queue: DtmfDigit[] = [];
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  /** Added to the sequence number of every forwarded packet (injected minus replaced). */
  private seqShift = 0;
  /** Told of each digit once it has been played (DTMF logging of injected digits). */
  onDigit: ((d: DtmfDigit) => void) | null = null;
  /** Packets generated so far (for `query`). */
  generated = 0;
  replaced = 0;
  // the digit playing now
  private current: DtmfDigit | null = null;
  private frame = 0;
  private startTs = 0;
  private pauseLeft = 0;
  private nextSeq = 0;
  private nextTs = 0;
  private lastPauseMs = 0;

  constructor(
    private readonly target: InjectTarget,
    readonly carrier: DtmfCarrier,
    readonly ssrc: number,
    /**
     * The stream was on the fast path, whose packets are not counted per SSRC: the first
     * digit waits for the next packet of the stream to learn where its numbering is.
     */
    private awaitingPacket = false,
  ) {}

  get playing(): boolean {
    return this.current !== null || this.queue.length > 0 || this.pauseLeft > 0;
  }

  /** Queues digits; playback starts at once if idle. */
  play(digits: readonly DtmfDigit[]): void {
    if (this.closed) return;
    this.queue.push(...digits);
    if (this.timer === null) {
      this.timer = setInterval(() => this.tick(), FRAME_MS);
      this.timer.unref();
      this.tick();
    }
  }

  /**
   * A packet of the stream on its way to the sink: dropped while a digit plays (the digit
   * replaces it), otherwise renumbered to follow the injected packets.
   */
  rewrite(packet: Buffer): Buffer | null {
    if (this.awaitingPacket) {
      this.awaitingPacket = false;
      return packet;
    }
    if (this.current !== null) {
      this.seqShift--;
      this.replaced++;
      return null;
    }
    if (this.seqShift === 0) return packet;
    const out = Buffer.from(packet);
    out.writeUInt16BE((sequence(packet) + this.seqShift) & 0xffff, 2);
    return out;
  }

  close(): void {
    this.closed = true;
    this.queue.length = 0;
    this.current = null;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  private tick(): void {
    if (this.closed || this.awaitingPacket) return;
    if (this.current === null) {
      if (this.pauseLeft > 0) {
        this.pauseLeft -= FRAME_MS;
        return;
      }
      const next = this.queue.shift();
      if (!next) {
        if (this.timer !== null) clearInterval(this.timer);
        this.timer = null;
        return;
      }
      this.start(next);
    }
    this.emitFrame();
  }

  /** A digit starts right after what the sink last got from this SSRC. */
  private start(d: DtmfDigit): void {
    const ctx = this.target.outputSsrc(this.ssrc);
    const step = (this.carrier.clockRate * FRAME_MS) / 1000;
    if (this.generated > 0 && ctx.lastSeq === ((this.nextSeq - 1) & 0xffff)) {
      // nothing forwarded since our last digit: this one follows it after the pause
      this.nextTs = (this.nextTs + (this.carrier.clockRate * this.lastPauseMs) / 1000) >>> 0;
    } else if (ctx.lastSeq >= 0) {
      this.nextSeq = (ctx.lastSeq + 1) & 0xffff;
      this.nextTs = (ctx.lastTs + step) >>> 0;
    } else if (this.generated === 0) {
      this.nextSeq = 0;
      this.nextTs = 0;
    }
    this.current = d;
    this.frame = 0;
    this.startTs = this.nextTs;
  }

  private emitFrame(): void {
    const d = this.current as DtmfDigit;
    const c = this.carrier;
    const step = (c.clockRate * FRAME_MS) / 1000;
    const frames = Math.max(1, Math.ceil(d.durationMs / FRAME_MS));
    let payload: Buffer;
    let ts: number;
    let marker = false;
    if (c.kind === 'event') {
      const end = this.frame >= frames - 1;
      const duration = Math.min(frames, this.frame + 1) * step;
      payload = buildDtmfPayload({ event: d.event, end, volume: d.volume, duration });
      ts = this.startTs;
      marker = this.frame === 0;
    } else {
      payload = c.encode(toneSamples(d.event, c.clockRate, this.frame * step, step, d.volume));
      ts = (this.startTs + this.frame * step) >>> 0;
      marker = this.frame === 0;
    }
    this.send(payload, ts, marker);
    this.frame++;
    const total = c.kind === 'event' ? frames + END_PACKETS - 1 : frames;
    if (this.frame >= total) {
      this.current = null;
      this.onDigit?.(d);
      this.pauseLeft = d.pauseMs;
      this.lastPauseMs = d.pauseMs;
      // the stream's audio resumes after the time the digit took
      this.nextTs = (this.startTs + frames * step) >>> 0;
    }
  }

  private send(payload: Buffer, ts: number, marker: boolean): void {
    const p = Buffer.alloc(12 + payload.length);
    p[0] = 0x80;
    p[1] = (marker ? 0x80 : 0) | (this.carrier.pt & 0x7f);
    p.writeUInt16BE(this.nextSeq, 2);
    p.writeUInt32BE(ts >>> 0, 4);
    p.writeUInt32BE(this.ssrc >>> 0, 8);
    payload.copy(p, 12);
    this.nextSeq = (this.nextSeq + 1) & 0xffff;
    this.seqShift++;
    this.generated++;
    this.target.sendGenerated(p);
  }
}
