/**
 * The ng media-control commands on a call (rtpengine's call_interfaces.c: block/unblock DTMF,
 * block/unblock media, silence/unsilence media, play DTMF) and the per-stream state they
 * leave behind (media/media-control.ts, media/dtmf-inject.ts, media/rtcp.ts).
 *
 * State lives at two levels, as in rtpengine: the call (no participant selected) and the
 * monologue (`from-tag` with the `directional` flag, or `label`). A stream applies the union.
 * Unblocking the whole call leaves participant-level blocks alone unless `all` is given.
 * Everything here runs under the call's write lock; `updateStreamControls` is also run by
 * every sink rebuild, so a re-INVITE keeps what was blocked.
 */
import { randomInt } from 'node:crypto';
import { createTranscoder } from '../codec/codec-lib.js';
import { parseDtmfCode } from '../codec/dtmf.js';
import { NgCommandError } from '../errors.js';
import { DtmfInjector, type DtmfCarrier, type DtmfDigit } from '../media/dtmf-inject.js';
import { StreamControl, type DtmfBlockMode } from '../media/media-control.js';
import { RtcpQuality } from '../media/rtcp.js';
import { STATIC_PAYLOAD_TYPES, type SdpCodec } from '../sdp/sdp-model.js';
import type { CallMedia } from './call-media.js';
import type { Call } from './call.js';
import type { NgFlags } from './flags.js';
import type { Monologue } from './monologue.js';

/** What a command left switched on for a call or one participant. */
export interface MediaControlState {
  blockDtmf: DtmfBlockMode | null;
  blockMedia: boolean;
  silence: boolean;
  /**
   * `start forwarding`: rtpengine hands this participant's (or the call's) PCM to its recording
   * daemon's TCP/TLS forwarder. There is no recording daemon here: the state is kept and shown
   * in `query` (`recording.forwarding`), nothing is sent anywhere (README).
   */
  forwarding: boolean;
  /** A forwarding command was ever given (rtpengine then has a recording object to report). */
  forwardingSeen: boolean;
}

export function emptyControl(): MediaControlState {
  return { blockDtmf: null, blockMedia: false, silence: false, forwarding: false, forwardingSeen: false };
}

/** rtpengine's DTMF-security modes; those we cannot do yet are refused by name. */
const DTMF_MODES = new Set(['drop', 'off']);
const DTMF_MODES_NOT_DONE = new Set(['silence', 'tone', 'random', 'zero', 'dtmf']);

export function dtmfMode(flags: NgFlags): DtmfBlockMode {
  const m = (flags.dtmfSecurity ?? 'drop').toLowerCase();
  if (DTMF_MODES.has(m)) return m as DtmfBlockMode;
  if (DTMF_MODES_NOT_DONE.has(m)) throw new NgCommandError('NOT_IMPLEMENTED', `DTMF-security mode '${m}'`);
  throw new NgCommandError('INVALID_VALUE', `unknown DTMF-security mode '${m}'`);
}

function codecName(c: SdpCodec): string {
  return (c.encoding || STATIC_PAYLOAD_TYPES[c.payloadType]?.encoding || '').toUpperCase();
}

function clockRateOf(c: SdpCodec): number {
  return c.clockRate || STATIC_PAYLOAD_TYPES[c.payloadType]?.clockRate || 8000;
}

/** Silence as each audio codec we can fill says it (G.711 zero level, L16 zeros). */
const SILENCE: Record<string, number> = { PCMU: 0xff, PCMA: 0xd5, L16: 0x00 };

/** The first audio codec (not telephone-event / CN) of a media, for jitter's clock rate. */
function primaryRate(media: CallMedia): number {
  const c = media.codecs.find((x) => !['TELEPHONE-EVENT', 'CN'].includes(codecName(x)));
  return c ? clockRateOf(c) : 8000;
}

/**
 * Rebuilds every stream's control from the call's and its participants' state and the codecs
 * each one sends (telephone-event numbers, silence bytes). Keeps counters across rebuilds.
 */
export function updateStreamControls(call: Call): void {
  for (const ml of call.monologues) {
    if (ml.deleted) continue;
    const state = {
      blockDtmf: ml.control.blockDtmf ?? call.control.blockDtmf,
      blockMedia: ml.control.blockMedia || call.control.blockMedia,
      silence: ml.control.silence || call.control.silence,
    };
    for (const media of ml.medias) {
      const dtmfPts = new Map<number, number>();
      const silence = new Map<number, number>();
      for (const c of media.codecs) {
        const name = codecName(c);
        if (name === 'TELEPHONE-EVENT') dtmfPts.set(c.payloadType, clockRateOf(c));
        else if (SILENCE[name] !== undefined) silence.set(c.payloadType, SILENCE[name] as number);
      }
      const ctl = new StreamControl(call.callId, ml.tag, dtmfPts, silence, media.rtp.control?.counters);
      ctl.blockMedia = state.blockMedia;
      ctl.silence = state.silence;
      ctl.blockDtmf = state.blockDtmf;
      media.rtp.control = ctl.active ? ctl : null;
      for (const s of [media.rtp, media.rtcp]) {
        s.consumeRtcp = call.rtcpGenerator !== null;
        if (s.rtcpQuality === null) s.rtcpQuality = new RtcpQuality(call.srTimes, primaryRate(media));
      }
    }
  }
}

/** Re-evaluates the fast path of every stream (a control may have changed what needs JS). */
function rekernelize(call: Call): void {
  const k = call.ctx.kernel;
  if (k) for (const s of call.streams) k.update(s);
}

/**
 * The participants a one-sided command selects (rtpengine's rules): `from-tag` only with the
 * `directional` flag (proxies always send one), or `label`; otherwise null = the whole call.
 */
function selectDirectional(call: Call, flags: NgFlags): Monologue | null {
  if (flags.label !== undefined) {
    const m = call.monologues.find((x) => x.label === flags.label && !x.deleted);
    if (!m) throw new NgCommandError('TAG_NOT_FOUND');
    return m;
  }
  if (flags.fromTag !== undefined && flags.flags.has('directional')) {
    const m = call.monologueByTag(flags.fromTag);
    if (!m) throw new NgCommandError('TAG_NOT_FOUND');
    return m;
  }
  return null;
}

export type ControlKey = 'blockDtmf' | 'blockMedia' | 'silence';

/** block/unblock DTMF, block/unblock media, silence/unsilence media. */
export function setMediaControl(call: Call, flags: NgFlags, key: ControlKey, on: boolean): void {
  const ml = selectDirectional(call, flags);
  const value = key === 'blockDtmf' ? (on ? dtmfMode(flags) : null) : on;
  const set = (s: MediaControlState): void => {
    if (key === 'blockDtmf') s.blockDtmf = value as DtmfBlockMode | null;
    else s[key] = value as boolean;
  };
  if (ml) set(ml.control);
  else {
    set(call.control);
    // unblocking the whole call undoes participant-level blocks only with `all`
    if (!on && flags.flags.has('all')) for (const m of call.monologues) set(m.control);
  }
  call.log(ml?.tag).info({ command: flags.command }, `${flags.command}: ${ml ? `participant '${ml.tag}'` : 'whole call'}`);
  updateStreamControls(call);
  rekernelize(call);
}

/** start/stop forwarding: the same selection as block/unblock (whole call, or one participant). */
export function setForwarding(call: Call, flags: NgFlags, on: boolean): void {
  const ml = selectDirectional(call, flags);
  const set = (s: MediaControlState): void => {
    s.forwarding = on;
    s.forwardingSeen = true;
  };
  if (ml) set(ml.control);
  else {
    set(call.control);
    if (!on && flags.flags.has('all')) for (const m of call.monologues) set(m.control);
  }
  call.log(ml?.tag).info({ command: flags.command }, `${flags.command}: ${ml ? `participant '${ml.tag}'` : 'whole call'} (no recording daemon: state only)`);
}

const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));

/** The digits of `code`/`digit`: one event 0–15, or a string of `0-9*#A-D`. */
function parseDigits(flags: NgFlags): DtmfDigit[] {
  const code = flags.dtmf.code;
  if (code === undefined || code === '') throw new NgCommandError('INVALID_VALUE', 'no DTMF code (`code` or `digit`)');
  const single = parseDtmfCode(code);
  const events = single !== null ? [single] : [...code].map((ch) => parseDtmfCode(ch));
  if (events.some((e) => e === null)) throw new NgCommandError('INVALID_VALUE', `invalid DTMF code '${code}'`);
  const durationMs = clamp(flags.dtmf.duration ?? 250, 100, 5000);
  const pauseMs = clamp(flags.dtmf.pause ?? 100, 100, 5000);
  const volume = clamp(Math.abs(flags.dtmf.volume ?? -8), 0, 63);
  return (events as number[]).map((event) => ({ event, durationMs, pauseMs, volume }));
}

/** How the receiving media gets DTMF: its telephone-event, else tones in its G.711/L16 codec. */
function carrierFor(dst: CallMedia): DtmfCarrier | null {
  const te = dst.codecs.filter((c) => codecName(c) === 'TELEPHONE-EVENT');
  const ev = te.find((c) => clockRateOf(c) === 8000) ?? te[0];
  if (ev) return { kind: 'event', pt: ev.payloadType, clockRate: clockRateOf(ev) };
  for (const c of dst.codecs) {
    const name = codecName(c);
    if (!['PCMU', 'PCMA', 'L16'].includes(name)) continue;
    const t = createTranscoder({ name, clockRate: clockRateOf(c), channels: c.channels ?? 1 });
    if (t && (c.channels ?? 1) === 1) return { kind: 'tone', pt: c.payloadType, clockRate: clockRateOf(c), encode: (s) => t.encode(s) };
  }
  return null;
}

/**
 * play DTMF: the selected participant "sends" the digits: they go to everyone receiving its
 * audio, in each receiver's form (events or tones), continuing the stream it receives.
 */
export function playDtmf(call: Call, flags: NgFlags): void {
  const digits = parseDigits(flags);
  let sources: Monologue[];
  if (flags.label !== undefined) sources = call.monologues.filter((m) => m.label === flags.label && !m.deleted);
  else if (flags.fromTag !== undefined) {
    const m = call.monologueByTag(flags.fromTag);
    if (!m) throw new NgCommandError('TAG_NOT_FOUND');
    sources = [m];
  } else if (flags.flags.has('all')) sources = call.monologues.filter((m) => !m.deleted);
  else throw new NgCommandError('NO_FROM_TAG');
  let injected = 0;
  let noCarrier = 0;
  for (const ml of sources) {
    for (const media of ml.medias) {
      if (media.type !== 'audio') continue;
      const ssrcs = media.rtp.ssrcIn.ssrcs();
      const ssrc = ssrcs.length > 0 ? (ssrcs[ssrcs.length - 1] as number) : randomInt(1, 0xffffffff);
      for (const sink of media.rtp.rtpSinks) {
        const dst = call.medias.find((m) => m.rtp === sink.dst);
        const carrier = dst ? carrierFor(dst) : null;
        if (!carrier) {
          noCarrier++;
          continue;
        }
        let inj = sink.inject;
        if (inj === null || inj.ssrc !== ssrc || inj.carrier.pt !== carrier.pt) {
          inj = new DtmfInjector(sink, carrier, ssrc, media.rtp.kernelized);
          call.attachInjector(sink, inj);
        }
        inj.play(digits);
        injected++;
      }
    }
    call.log(ml.tag).info({ digits: digits.map((d) => d.event), durationMs: digits[0]?.durationMs }, 'play DTMF');
  }
  if (injected === 0) {
    throw new NgCommandError('INVALID_VALUE', noCarrier > 0
      ? 'the receiving side has neither telephone-event nor a G.711/L16 codec to carry DTMF'
      : 'no media stream to inject DTMF into');
  }
  rekernelize(call);
}
