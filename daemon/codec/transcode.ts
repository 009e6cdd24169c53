/**
 * The transcoding codec handler (rtpengine's codec.c transcode handlers): one per payload type
 * and sink, for payload types the negotiation decided to decode and re-encode. Per input SSRC:
 *
 *   sequencer (order, loss) → decode → channels → resample → ptime buffer → encode → RTP out
 *
 * Output RTP as rtpengine's tests observe it: the sender's SSRC; without repacketising, the
 * input sequence number and a timestamp that advances with the audio (equal to the input's at
 * equal clock rates, gaps included); when repacketising, sequence numbers count output packets
 * from the first input's and timestamps count output samples from the first input's. Header
 * extensions and CSRCs of the input packet are kept.
 *
 * Bad input (an empty or undecodable payload, a payload type this sink has no route for, a
 * duplicate or stale sequence number) is counted and dropped; it touches nothing else. Memory
 * is bounded: MAX_SSRCS contexts per handler, a bounded sequencer and ptime buffer each.
 * `close()` drops every buffer (teardown with a partial ptime buffer leaks nothing).
 */
import type { CodecHandler, CodecOutput } from './codec-handler.js';
import { CodecHandlerSet } from './chain.js';
import { createTranscoder, type CodecFormat, type Transcoder } from './codec-lib.js';
import { convertChannels } from './l16.js';
import { PassthroughHandler, RenumberHandler } from './passthrough.js';
import { PtimeBuffer } from './ptime-buffer.js';
import { Resampler } from './resample.js';
import { payloadLength, payloadOffset, sequence, ssrc as rtpSsrc, timestamp } from './rtp-header.js';
import { PacketSequencer } from './sequencer.js';
import { MAX_SSRCS, type SsrcContext } from './ssrc.js';
import { DtmfToneHandler } from './dtmf-tone.js';
import { buildDtmfPayload, detectTone } from './dtmf.js';
import { CnNoiseHandler, isSilent, NO_COMFORT_NOISE, type ComfortNoiseConfig } from './comfort-noise.js';

/** How packets of one payload type travel toward one peer (decided by the negotiation). */
export interface CodecRoute {
  inPt: number;
  inFormat: CodecFormat;
  outPt: number;
  outFormat: CodecFormat;
  /** False: forwarded as they are (renumbered if the numbers differ). */
  transcode: boolean;
  /** Output packet time in ms when repacketising; 0 = one output packet per input packet. */
  ptime: number;
  /**
   * telephone-event toward a receiver without it: the events become the dual tone in the
   * receiver's audio codec (`outPt`/`outFormat`), as rtpengine does when it transcodes.
   */
  dtmfTone?: boolean;
  /**
   * The receiver's telephone-event payload type when the sender has none: in-band digits
   * detected in the decoded audio leave as RFC 4733 events instead of audio (rtpengine's
   * DTMF detection when it transcodes). Only without repacketising.
   */
  dtmfEventPt?: number;
  /** CN toward a receiver without CN: consumed into comfort noise in `outPt`/`outFormat`. */
  cnNoise?: boolean;
  /** The receiver's CN payload type at the output clock rate (silent frames may leave as CN). */
  cnPt?: number;
}

/** Counters a handler keeps (shown by `query`). */
export interface TranscodeStats {
  packetsIn: number;
  packetsOut: number;
  dropped: number;
}

/** At most this much audio waits in a ptime buffer (per SSRC). */
const MAX_BUFFERED_MS = 1000;
/** A timestamp jump larger than this is a restart, not a gap. */
const MAX_GAP_MS = 2000;

interface SsrcState {
  /** null: a packet another handler of the sink took (an event between audio packets). */
  seq: PacketSequencer<Buffer | null>;
  resampler: Resampler | null;
  buffer: PtimeBuffer;
  started: boolean;
  seqBase: number;
  tsBase: number;
  framesOut: number;
  lastInTs: number;
  lastInSamples: number;
  /** Output position (samples) of the byte-map path, which bypasses the ptime buffer. */
  position: number;
  /** A detected digit being sent as events: its event code and output start position. */
  dtmf: { event: number; start: number } | null;
}

/** 8-bit G.711 codecs: one byte per sample, so a decode+encode is one table lookup per byte. */
const G711 = new Set(['PCMU', 'PCMA']);

export class TranscodeHandler implements CodecHandler {
  readonly kind = 'transcode';
  readonly stateless = false;
  readonly native = null;
  readonly stats: TranscodeStats = { packetsIn: 0, packetsOut: 0, dropped: 0 };
  private readonly states = new Map<number, SsrcState>();
  private readonly decoder: Transcoder;
  private readonly encoder: Transcoder;
  /** G.711 → G.711 at one rate without repacketising: decode+encode composed into one table. */
  private readonly byteMap: Uint8Array | null;
  private closed = false;

  /** Frames sent as CN instead of audio (--silence-detect). */
  cnFrames = 0;
  private readonly cnPayload: Buffer | null;

  constructor(
    private readonly output: CodecOutput,
    readonly route: CodecRoute,
    private readonly cn: ComfortNoiseConfig = NO_COMFORT_NOISE,
  ) {
    this.cnPayload = route.cnPt !== undefined && cn.silenceDetect > 0 ? Buffer.from(cn.cnPayload.map((v) => v & 0xff)) : null;
    const d = createTranscoder(route.inFormat);
    const e = createTranscoder(route.outFormat);
    if (!d || !e) throw new RangeError(`no transcoder for ${route.inFormat.name} → ${route.outFormat.name}`);
    this.decoder = d;
    this.encoder = e;
    const { inFormat: i, outFormat: o } = route;
    this.byteMap = route.ptime === 0 && G711.has(i.name.toUpperCase()) && G711.has(o.name.toUpperCase())
      && i.clockRate === o.clockRate && i.channels === o.channels && route.dtmfEventPt === undefined && this.cnPayload === null
      ? Uint8Array.from({ length: 256 }, (_, b) => e.encode(d.decode(Uint8Array.of(b)) as Int16Array)[0] as number)
      : null;
  }

  process(packet: Buffer, _input: SsrcContext): void {
    if (this.closed) return;
    this.stats.packetsIn++;
    if (payloadLength(packet) <= 0) {
      this.stats.dropped++;
      return;
    }
    const state = this.stateFor(rtpSsrc(packet));
    const before = state.seq.dropped;
    for (const s of state.seq.push(sequence(packet), packet)) if (s.item !== null) this.handle(state, s.item, s.lost);
    this.stats.dropped += state.seq.dropped - before;
  }

  /** A packet of this sender another handler took: its sequence number is not waited for. */
  note(packet: Buffer): void {
    if (this.closed) return;
    const state = this.states.get(rtpSsrc(packet));
    if (!state) return;
    for (const s of state.seq.push(sequence(packet), null)) if (s.item !== null) this.handle(state, s.item, s.lost);
  }

  close(): void {
    this.closed = true;
    for (const s of this.states.values()) {
      s.seq.clear();
      s.buffer.clear();
    }
    this.states.clear();
  }

  /** Samples (per channel) waiting in ptime buffers, for tests and `query`. */
  get buffered(): number {
    let n = 0;
    for (const s of this.states.values()) n += s.buffer.pending;
    return n;
  }

  private stateFor(id: number): SsrcState {
    let s = this.states.get(id);
    if (s) return s;
    if (this.states.size >= MAX_SSRCS) {
      const oldest = this.states.keys().next().value as number;
      this.states.delete(oldest);
    }
    const { inFormat, outFormat, ptime } = this.route;
    const frame = ptime > 0 ? Math.round((outFormat.clockRate * ptime) / 1000) : 0;
    s = {
      seq: new PacketSequencer<Buffer | null>(),
      resampler: inFormat.clockRate !== outFormat.clockRate ? new Resampler(inFormat.clockRate, outFormat.clockRate, outFormat.channels) : null,
      buffer: new PtimeBuffer(outFormat.channels, frame, Math.max(frame, (outFormat.clockRate * MAX_BUFFERED_MS) / 1000)),
      started: false,
      seqBase: 0,
      tsBase: 0,
      framesOut: 0,
      lastInTs: 0,
      lastInSamples: 0,
      position: 0,
      dtmf: null,
    };
    this.states.set(id, s);
    return s;
  }

  private handle(state: SsrcState, packet: Buffer, lost: number): void {
    const { inFormat, outFormat } = this.route;
    const off = payloadOffset(packet);
    const len = payloadLength(packet);
    if (this.byteMap !== null) {
      this.mapBytes(state, packet, off, len, lost);
      return;
    }
    const payload = packet.subarray(off, off + len);
    const decoded = this.decoder.decode(payload);
    if (decoded === null || decoded.length === 0) {
      this.stats.dropped++;
      return;
    }
    const inSamples = Math.floor(decoded.length / inFormat.channels);
    const ts = timestamp(packet);
    let gap = 0;
    if (!state.started) {
      state.started = true;
      state.seqBase = sequence(packet);
      state.tsBase = ts;
    } else if (lost >= 0) {
      // missing audio (lost packets, or a sender that skipped time): the output skips it too
      const missing = ((ts - state.lastInTs) >>> 0) - state.lastInSamples;
      if (missing > 0 && missing < (inFormat.clockRate * MAX_GAP_MS) / 1000) {
        gap = Math.round((missing * outFormat.clockRate) / inFormat.clockRate);
      }
    }
    state.lastInTs = ts;
    state.lastInSamples = inSamples;

    let pcm = convertChannels(decoded, inFormat.channels, outFormat.channels);
    if (state.resampler) pcm = state.resampler.process(pcm);
    state.buffer.push(pcm, gap);
    const digit = this.route.dtmfEventPt !== undefined && inFormat.channels === 1 ? detectTone(decoded, inFormat.clockRate) : null;
    let first = true;
    for (let f = state.buffer.pop(); f; f = state.buffer.pop()) {
      const seq = this.route.ptime > 0 ? (state.seqBase + state.framesOut) & 0xffff : sequence(packet);
      let out: Buffer;
      if (this.route.dtmfEventPt !== undefined && (digit !== null || state.dtmf !== null)) {
        out = this.eventPacket(state, packet, off, digit, seq, f.position, f.samples.length / outFormat.channels);
      } else if (this.cnPayload !== null && isSilent(f.samples, this.cn.silenceDetect)) {
        // silence toward a receiver that offered CN: a CN packet in its place (rtpengine's --silence-detect)
        out = this.packet(packet, off, this.cnPayload, seq, (state.tsBase + f.position) >>> 0, first);
        out[1] = ((out[1] as number) & 0x80) | ((this.route.cnPt as number) & 0x7f);
        this.cnFrames++;
      } else out = this.packet(packet, off, this.encoder.encode(f.samples), seq, (state.tsBase + f.position) >>> 0, first);
      state.framesOut++;
      first = false;
      this.stats.packetsOut++;
      this.output.sendRtp(out);
    }
  }

  /** The G.711 → G.711 path: one lookup per byte straight into the output packet. */
  private mapBytes(state: SsrcState, packet: Buffer, off: number, len: number, lost: number): void {
    const channels = this.route.inFormat.channels;
    if (len % channels !== 0) {
      this.stats.dropped++;
      return;
    }
    const samples = len / channels;
    const ts = timestamp(packet);
    if (!state.started) {
      state.started = true;
      state.tsBase = ts;
    } else {
      state.position += state.lastInSamples;
      if (lost >= 0) {
        const missing = ((ts - state.lastInTs) >>> 0) - state.lastInSamples;
        if (missing > 0 && missing < (this.route.inFormat.clockRate * MAX_GAP_MS) / 1000) state.position += missing;
      }
    }
    state.lastInTs = ts;
    state.lastInSamples = samples;
    const out = Buffer.allocUnsafe(off + len);
    packet.copy(out, 0, 0, off);
    out[0] = (packet[0] as number) & ~0x20;
    out[1] = ((packet[1] as number) & 0x80) | (this.route.outPt & 0x7f);
    out.writeUInt32BE((state.tsBase + state.position) >>> 0, 4);
    const map = this.byteMap as Uint8Array;
    for (let i = 0; i < len; i++) out[off + i] = map[packet[off + i] as number] as number;
    this.stats.packetsOut++;
    this.output.sendRtp(out);
  }

  /**
   * A detected digit as an RFC 4733 event in place of this frame's audio: all packets of the
   * digit carry its start timestamp, the first the marker bit, the duration grows with each
   * frame; the first frame without the digit carries the end packet (the audio it replaces is
   * 20 ms of the digit's tail).
   */
  private eventPacket(state: SsrcState, input: Buffer, headerLen: number, digit: number | null, seq: number, position: number, samples: number): Buffer {
    let ev = state.dtmf;
    const newDigit = digit !== null && (ev === null || ev.event !== digit);
    if (newDigit) ev = state.dtmf = { event: digit, start: position };
    const cur = ev as { event: number; start: number };
    const end = digit === null;
    const duration = end ? position - cur.start : position + samples - cur.start;
    if (end) state.dtmf = null;
    const payload = buildDtmfPayload({ event: cur.event, end, volume: 10, duration: Math.max(1, duration) });
    const out = this.packet(input, headerLen, payload, seq, (state.tsBase + cur.start) >>> 0, false);
    out[1] = (newDigit ? 0x80 : 0) | ((this.route.dtmfEventPt as number) & 0x7f);
    return out;
  }

  /** The output packet: the input's header (CSRCs, extension) with our PT, seq, ts; no padding. */
  private packet(input: Buffer, headerLen: number, payload: Buffer, seq: number, ts: number, keepMarker: boolean): Buffer {
    const out = Buffer.allocUnsafe(headerLen + payload.length);
    input.copy(out, 0, 0, headerLen);
    out[0] = (input[0] as number) & ~0x20;
    const marker = keepMarker ? (input[1] as number) & 0x80 : 0;
    out[1] = marker | (this.route.outPt & 0x7f);
    out.writeUInt16BE(seq, 2);
    out.writeUInt32BE(ts, 4);
    payload.copy(out, headerLen);
    return out;
  }
}

/** Payload types a transcoding sink has no route for: counted and dropped. */
export class DropHandler implements CodecHandler {
  readonly kind = 'drop';
  readonly stateless = true;
  readonly native = null;
  dropped = 0;

  process(_packet: Buffer, _input: SsrcContext): void {
    this.dropped++;
  }

  close(): void {}
}

/**
 * One sink's handlers from the negotiated routes, or null when nothing is transcoded (the
 * built-in pass-through/renumber decision then applies and the stream may go native).
 */
export function buildTranscodeHandlers(routes: readonly CodecRoute[], output: CodecOutput, cn: ComfortNoiseConfig = NO_COMFORT_NOISE): CodecHandlerSet | null {
  if (!routes.some((r) => r.transcode)) return null;
  const set = new CodecHandlerSet(new DropHandler());
  const seen = new Set<number>();
  for (const r of routes) {
    if (seen.has(r.inPt)) continue;
    seen.add(r.inPt);
    let h: CodecHandler;
    const toneEncoder = r.dtmfTone || r.cnNoise ? createTranscoder(r.outFormat) : null;
    if (toneEncoder && r.cnNoise) h = new CnNoiseHandler(output, r, toneEncoder);
    else if (toneEncoder) h = new DtmfToneHandler(output, r, toneEncoder);
    else if (r.transcode && createTranscoder(r.inFormat) && createTranscoder(r.outFormat)) h = new TranscodeHandler(output, r, cn);
    else if (r.inPt !== r.outPt) h = new RenumberHandler(output, r.inPt, r.outPt);
    else h = new PassthroughHandler(output, r.inPt);
    set.set(r.inPt, h);
  }
  return set;
}

/** What a sink's transcoding does, for `query`: one entry per transcoder, plus unrouted drops. */
export function describeTranscoding(set: CodecHandlerSet): Array<Record<string, string | number>> {
  const out: Array<Record<string, string | number>> = [];
  const fmt = (f: CodecFormat) => `${f.name}/${f.clockRate}${f.channels !== 1 ? `/${f.channels}` : ''}`;
  for (const h of set.handlers) {
    if (h instanceof DtmfToneHandler) {
      out.push({ 'payload type': h.route.inPt, 'output payload type': h.route.outPt, codec: `${fmt(h.route.inFormat)} > ${fmt(h.route.outFormat)} (DTMF tone)`, ptime: 0, packets: h.stats.packetsIn, 'packets out': h.stats.packetsOut, dropped: h.stats.dropped });
      continue;
    }
    if (h instanceof CnNoiseHandler) {
      out.push({ 'payload type': h.route.inPt, 'output payload type': h.route.outPt, codec: `${fmt(h.route.inFormat)} > ${fmt(h.route.outFormat)} (comfort noise)`, ptime: 0, packets: h.stats.packetsIn, 'packets out': h.stats.packetsOut, dropped: h.stats.dropped });
      continue;
    }
    if (!(h instanceof TranscodeHandler)) continue;
    const r = h.route;
    out.push({
      'payload type': r.inPt,
      'output payload type': r.outPt,
      codec: `${fmt(r.inFormat)} > ${fmt(r.outFormat)}`,
      ptime: r.ptime,
      packets: h.stats.packetsIn,
      'packets out': h.stats.packetsOut,
      dropped: h.stats.dropped,
      ...(h.cnFrames > 0 ? { 'CN frames': h.cnFrames } : {}),
    });
  }
  if (set.fallback instanceof DropHandler && out.length > 0) out.push({ 'payload type': 'other', dropped: set.fallback.dropped });
  return out;
}
