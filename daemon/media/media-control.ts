/**
 * What the ng media-control commands do to one stream's RTP on the packet path (rtpengine's
 * block DTMF with its DTMF-security modes and triggers, DTMF-delay, detect DTMF, block media,
 * silence media, and its DTMF event logging): applied once per received packet, before the
 * sinks. Built by signalling (call/media-control.ts) under the call's write lock; read by the
 * packet path. Holds no timers; its per-SSRC state is bounded (MAX_TRACKED SSRCs, MAX_DELAYED
 * held event packets) and dropped with the control (not audited: nothing to release).
 *
 * A stream with nothing to do keeps its fast path; `needsJs` says why a control forces the JS
 * path (shown as the stream's kernelize reason in `query`).
 */
import { detectTone, parseDtmfPayload, toneSamples, type DtmfEvent } from '../codec/dtmf.js';
import { payloadLength, payloadOffset, payloadType, sequence, ssrc as rtpSsrc, timestamp } from '../codec/rtp-header.js';
import type { Endpoint } from '../net/endpoint.js';
import { randomInt } from 'node:crypto';
import type { DtmfBlockMode, DtmfSecurity } from './dtmf-security.js';

export type { DtmfBlockMode };

export interface ControlCounters {
  /** Packets dropped by block media / block DTMF. */
  blocked: number;
  /** Packets whose payload was replaced by silence. */
  silenced: number;
  /** telephone-event packets that are not RFC 4733 payloads (counted and dropped). */
  malformedDtmf: number;
  /** DTMF events seen (end of event), RFC and in-band. */
  dtmfEvents: number;
  /** In-band digits `detect DTMF` found. */
  detectedInband: number;
  /** DTMF packets (event or tone) replaced under a DTMF-security mode. */
  replaced: number;
  /** Event packets held back by DTMF-delay, and those given up (queue full). */
  delayed: number;
  delayDropped: number;
}

/** One finished DTMF event, as the call's reporter gets it. */
export interface DtmfReport {
  event: number;
  durationMs: number;
  volume: number;
  ssrc: number;
  source: 'RFC' | 'in-band';
}

export type DtmfReporter = (report: DtmfReport, from: Endpoint) => void;

/** The sender's audio codec in which replacements (silence, tones) are made. */
export interface AudioCodec {
  pt: number;
  clockRate: number;
  /** 1 for G.711, 2 for L16. */
  bytesPerSample: number;
  encode(samples: Int16Array): Buffer;
  decode(payload: Buffer): Int16Array | null;
}

const MAX_TRACKED = 16;
const MAX_DELAYED = 256;
const FRAME_MS = 20;

interface SsrcDtmf {
  /** Timestamp of the last RFC event logged (its end packets repeat). */
  loggedTs: number;
  /** `random` mode: the replacement chosen for the event at `randomTs`. */
  randomTs: number;
  randomCode: number;
  /** `tone` mode: the frequency chosen for the event at `toneTs`. */
  toneTs: number;
  toneFreq: number;
  /** In-band detection: the digit sounding now, where it started, where the last block ended. */
  inband: number | null;
  inbandStart: number;
  inbandEnd: number;
  /** Samples of the sender's last audio packet (replacements are as long). */
  frame: number;
  /** DTMF-delay: event packets waiting to be reproduced, oldest first. */
  delayed: Array<{ pkt: Buffer; due: number }>;
}

export class StreamControl {
  blockMedia = false;
  silence = false;
  /** DTMF-security and its triggers (null: DTMF passes untouched). */
  security: DtmfSecurity | null = null;
  /** `detect DTMF`: in-band digits are looked for in the audio codecs listed in `audio`. */
  detect = false;
  /** `DTMF-delay` in ms (0: off). */
  delayMs = 0;
  /** Every finished event goes here (log, --dtmf-log-dest, triggers). */
  reporter: DtmfReporter | null = null;
  readonly counters: ControlCounters;
  private readonly perSsrc = new Map<number, SsrcDtmf>();

  constructor(
    /** Payload types of telephone-event in the sender's numbering, with their clock rates. */
    readonly dtmfPts: ReadonlyMap<number, number>,
    /** Silence payload byte per audio payload type (G.711; L16 is zeros). */
    readonly silenceByte: ReadonlyMap<number, number>,
    /** The sender's audio codecs we can decode/encode, by payload type (detection, replacements). */
    readonly audio: ReadonlyMap<number, AudioCodec>,
    /** The codec replacements for event packets are made in (the sender's first such codec). */
    readonly primaryAudio: AudioCodec | null,
    /** Kept across rebuilds of the control (a re-INVITE keeps the stream's counts). */
    counters?: ControlCounters,
  ) {
    this.counters = counters ?? { blocked: 0, silenced: 0, malformedDtmf: 0, dtmfEvents: 0, detectedInband: 0, replaced: 0, delayed: 0, delayDropped: 0 };
  }

  /** Why this control needs the JS path, or null when the addon may forward the stream. */
  get needsJs(): string | null {
    if (this.blockMedia) return 'media blocked (block media): packets are dropped on the JS path';
    if (this.silence) return 'media silenced (silence media): payloads are replaced on the JS path';
    if (this.detect && this.audio.size > 0) return 'detect DTMF: in-band tones are looked for on the JS path';
    if (this.delayMs > 0 && this.dtmfPts.size > 0) return 'DTMF-delay: telephone-event is delayed on the JS path';
    if (this.security?.inspects && (this.dtmfPts.size > 0 || this.detect)) return 'DTMF blocked (block DTMF): telephone-event is inspected on the JS path';
    return null;
  }

  /** Is there anything to do for this stream's packets at all? */
  get active(): boolean {
    return this.blockMedia || this.silence || this.security !== null || this.dtmfPts.size > 0 || this.detect || this.delayMs > 0;
  }

  /** The packet to forward (maybe a rewritten copy), or null when it is dropped. */
  filter(pkt: Buffer, from: Endpoint, now: number): Buffer | null {
    this.security?.tick(now);
    const pt = payloadType(pkt);
    const dtmfRate = this.dtmfPts.get(pt);
    if (dtmfRate !== undefined) return this.eventPacket(pkt, dtmfRate, from, now);
    if (this.blockMedia) {
      this.counters.blocked++;
      return null;
    }
    const st = this.state(rtpSsrc(pkt));
    const codec = this.audio.get(pt);
    if (codec) st.frame = Math.max(1, Math.floor(payloadLength(pkt) / codec.bytesPerSample));
    let out = pkt;
    if (this.detect && codec) out = this.inband(out, codec, st, from, now);
    if (st.delayed.length > 0) {
      const head = st.delayed[0] as { pkt: Buffer; due: number };
      if (head.due <= now) {
        st.delayed.shift();
        const ev = this.reproduce(head.pkt, out, now);
        if (ev !== null) return ev;
      }
    }
    if (this.silence) {
      const fill = this.silenceByte.get(pt);
      if (fill === undefined) return out; // a codec we cannot make silence for passes (as rtpengine)
      const off = payloadOffset(out);
      const len = payloadLength(out);
      const copy = Buffer.from(out);
      copy.fill(fill, off, off + len);
      this.counters.silenced++;
      return copy;
    }
    return out;
  }

  private state(ssrc: number): SsrcDtmf {
    let st = this.perSsrc.get(ssrc);
    if (st) return st;
    if (this.perSsrc.size >= MAX_TRACKED) this.perSsrc.delete(this.perSsrc.keys().next().value as number);
    st = { loggedTs: -1, randomTs: -1, randomCode: 0, toneTs: -1, toneFreq: 400, inband: null, inbandStart: 0, inbandEnd: 0, frame: 0, delayed: [] };
    this.perSsrc.set(ssrc, st);
    return st;
  }

  /** A telephone-event packet: checked, logged at its end, then delayed, replaced or passed. */
  private eventPacket(pkt: Buffer, rate: number, from: Endpoint, now: number): Buffer | null {
    const off = payloadOffset(pkt);
    const ev = parseDtmfPayload(pkt.subarray(off, off + payloadLength(pkt)));
    if (ev === null) {
      this.counters.malformedDtmf++;
      return null;
    }
    const st = this.state(rtpSsrc(pkt));
    const ts = timestamp(pkt);
    if (ev.end && st.loggedTs !== ts) {
      st.loggedTs = ts;
      this.finished({ event: ev.event, durationMs: Math.round((ev.duration * 1000) / rate), volume: ev.volume, ssrc: rtpSsrc(pkt), source: 'RFC' }, from, now);
    }
    if (this.blockMedia) {
      this.counters.blocked++;
      return null;
    }
    if (this.delayMs > 0) {
      if (st.delayed.length >= MAX_DELAYED) this.counters.delayDropped++;
      else {
        st.delayed.push({ pkt: Buffer.from(pkt), due: now + this.delayMs });
        this.counters.delayed++;
      }
      // in its place now: silence (the event is reproduced later, replacing audio)
      return this.audioFor(pkt, ev, st, 'silence');
    }
    return this.applyMode(pkt, ev, st);
  }

  /** An event packet under the mode in force now. */
  private applyMode(pkt: Buffer, ev: DtmfEvent, st: SsrcDtmf): Buffer | null {
    const mode = this.security?.mode ?? 'off';
    switch (mode) {
      case 'off':
        return pkt;
      case 'drop':
        this.counters.blocked++;
        return null;
      case 'silence':
      case 'tone': {
        const out = this.audioFor(pkt, ev, st, mode);
        if (out === null) this.counters.blocked++;
        else this.counters.replaced++;
        return out;
      }
      default: {
        const code = this.replacementDigit(mode, ev.event, timestamp(pkt), st);
        const out = Buffer.from(pkt);
        out[payloadOffset(out)] = code;
        this.counters.replaced++;
        return out;
      }
    }
  }

  private replacementDigit(mode: DtmfBlockMode, event: number, ts: number, st: SsrcDtmf): number {
    if (mode === 'zero') return 0;
    if (mode === 'dtmf') return this.security?.digit ?? 0;
    if (st.randomTs !== ts) {
      st.randomTs = ts;
      const r = randomInt(0, 15);
      st.randomCode = r >= event ? r + 1 : r; // any digit but the real one
    }
    return st.randomCode;
  }

  /**
   * An audio packet (silence or a sine tone) in the sender's primary codec standing in for an
   * event packet: same SSRC and sequence number, the timestamp of the audio the event covers
   * (event start + duration − one frame), one frame long. Null when the sender has no codec we
   * can make audio in.
   */
  private audioFor(pkt: Buffer, ev: DtmfEvent, st: SsrcDtmf, kind: 'silence' | 'tone'): Buffer | null {
    const codec = this.primaryAudio;
    if (codec === null) return null;
    const frame = st.frame > 0 ? st.frame : (codec.clockRate * FRAME_MS) / 1000;
    const evTs = timestamp(pkt);
    const pos = Math.max(0, ev.duration - frame);
    let samples: Int16Array;
    if (kind === 'silence') samples = new Int16Array(frame);
    else {
      if (st.toneTs !== evTs) {
        st.toneTs = evTs;
        st.toneFreq = this.security?.takeFrequency() ?? 400;
      }
      samples = sine(st.toneFreq, codec.clockRate, pos, frame, ev.volume);
    }
    const payload = codec.encode(samples);
    const out = Buffer.alloc(12 + payload.length);
    out[0] = 0x80;
    out[1] = codec.pt & 0x7f;
    out.writeUInt16BE(sequence(pkt), 2);
    out.writeUInt32BE((evTs + pos) >>> 0, 4);
    out.writeUInt32BE(rtpSsrc(pkt), 8);
    payload.copy(out, 12);
    return out;
  }

  /**
   * DTMF-delay: a held event packet takes the place of the audio packet arriving now (its
   * sequence number; its timestamp moved by the delay), under the mode in force now. Null when
   * the mode drops it (the audio then passes).
   */
  private reproduce(held: Buffer, audio: Buffer, _now: number): Buffer | null {
    const off = payloadOffset(held);
    const ev = parseDtmfPayload(held.subarray(off, off + payloadLength(held))) as DtmfEvent;
    const rate = this.dtmfPts.get(payloadType(held)) ?? 8000;
    const out = Buffer.from(held);
    out.writeUInt16BE(sequence(audio), 2);
    out.writeUInt32BE((timestamp(held) + Math.round((this.delayMs * rate) / 1000)) >>> 0, 4);
    return this.applyMode(out, ev, this.state(rtpSsrc(held)));
  }

  /**
   * `detect DTMF` on one audio packet: a digit that stops sounding (or changes) is reported as
   * an event; while a digit sounds, the DTMF-security mode applies to the audio (every mode
   * but `off` hides the real digit: silence for drop/silence, a sine for tone, the replacement
   * digit's tone for zero/DTMF/random).
   */
  private inband(pkt: Buffer, codec: AudioCodec, st: SsrcDtmf, from: Endpoint, now: number): Buffer {
    const off = payloadOffset(pkt);
    const len = payloadLength(pkt);
    const samples = codec.decode(pkt.subarray(off, off + len));
    if (samples === null || samples.length === 0) return pkt;
    const digit = detectTone(samples, codec.clockRate);
    const ts = timestamp(pkt);
    if (st.inband !== null && digit !== st.inband) {
      this.counters.detectedInband++;
      const durationMs = Math.round((((st.inbandEnd - st.inbandStart) >>> 0) * 1000) / codec.clockRate);
      this.finished({ event: st.inband, durationMs, volume: 0, ssrc: rtpSsrc(pkt), source: 'in-band' }, from, now);
      st.inband = null;
    }
    if (digit !== null) {
      if (st.inband === null) {
        st.inband = digit;
        st.inbandStart = ts;
      }
      st.inbandEnd = (ts + samples.length) >>> 0;
    }
    const mode = this.security?.mode ?? 'off';
    if (digit === null || mode === 'off') return pkt;
    let repl: Int16Array;
    if (mode === 'drop' || mode === 'silence') repl = new Int16Array(samples.length);
    else if (mode === 'tone') {
      if (st.toneTs !== st.inbandStart) {
        st.toneTs = st.inbandStart;
        st.toneFreq = this.security?.takeFrequency() ?? 400;
      }
      repl = sine(st.toneFreq, codec.clockRate, (ts - st.inbandStart) >>> 0, samples.length, 10);
    } else {
      const code = this.replacementDigit(mode, digit, st.inbandStart, st);
      repl = toneSamples(code, codec.clockRate, (ts - st.inbandStart) >>> 0, samples.length, 10);
    }
    const payload = codec.encode(repl);
    const out = Buffer.allocUnsafe(off + payload.length);
    pkt.copy(out, 0, 0, off);
    out[0] = (pkt[0] as number) & ~0x20;
    payload.copy(out, off);
    this.counters.replaced++;
    return out;
  }

  private finished(r: DtmfReport, from: Endpoint, now: number): void {
    this.counters.dtmfEvents++;
    this.security?.digitSeen(r.event, now);
    this.reporter?.(r, from);
  }
}

/** A single sine at `freq`, half full scale attenuated by `volume` dB. */
function sine(freq: number, rate: number, offset: number, n: number, volume: number): Int16Array {
  const out = new Int16Array(n);
  const amp = 16383 * 10 ** (-Math.abs(volume) / 20);
  const w = (2 * Math.PI * freq) / rate;
  for (let i = 0; i < n; i++) out[i] = Math.round(amp * Math.sin(w * (offset + i)));
  return out;
}

