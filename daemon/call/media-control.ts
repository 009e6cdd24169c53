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
import { DtmfSecurity, parseBlockMode, type DtmfBlockMode, type DtmfTriggerConfig } from '../media/dtmf-security.js';
import { StreamControl, type AudioCodec, type DtmfReporter } from '../media/media-control.js';
import { logDtmfEvent } from '../log/dtmf-log.js';
import { RtcpQuality } from '../media/rtcp.js';
import { RtcpTranslator } from '../media/rtcp-translate.js';
import { STATIC_PAYLOAD_TYPES, type SdpCodec } from '../sdp/sdp-model.js';
import type { CallMedia } from './call-media.js';
import type { Call } from './call.js';
import type { NgFlags } from './flags.js';
import type { Monologue } from './monologue.js';

/** What a command left switched on for a call or one participant. */
export interface MediaControlState {
  /** block DTMF: its mode, replacement digit, tone frequencies and triggers (null: not blocked). */
  blockDtmf: DtmfSecurity | null;
  blockMedia: boolean;
  silence: boolean;
  /** `detect DTMF` (offer/answer flag): in-band digits are looked for in what this side sends. */
  detectDtmf: boolean;
  /** `DTMF-delay` in ms (0: off). */
  dtmfDelay: number;
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
  return { blockDtmf: null, blockMedia: false, silence: false, detectDtmf: false, dtmfDelay: 0, forwarding: false, forwardingSeen: false };
}

/**
 * The DTMF-security state a `block DTMF` command (or the `block-DTMF` flag) asks for: the mode
 * (`DTMF-security`; default `drop`, or `off` when triggers are given, so the trigger decides),
 * the `digit` of mode `DTMF`, the `frequencies` of mode `tone`, and the triggers.
 */
export function dtmfSecurityFrom(flags: NgFlags): DtmfSecurity {
  const d = flags.dtmfSec;
  const trigger: DtmfTriggerConfig | null = d.trigger !== undefined && d.trigger !== ''
    ? {
      trigger: checkDigits(d.trigger, 'trigger'),
      triggerEnd: checkDigits(d.triggerEnd ?? '', 'trigger-end'),
      modeTrigger: parseBlockMode(d.modeTrigger ?? 'drop'),
      modeTriggerEnd: parseBlockMode(d.modeTriggerEnd ?? 'off'),
      endMs: Math.max(0, d.endMs ?? 0),
      endDigits: Math.max(0, d.endDigits ?? 0),
    }
    : null;
  const mode = parseBlockMode(flags.dtmfSecurity ?? (trigger ? 'off' : 'drop'));
  let digit = 0;
  if (mode === 'dtmf' || flags.dtmf.code !== undefined) {
    const c = flags.dtmf.code === undefined ? null : parseDtmfCode(flags.dtmf.code);
    if (c === null && mode === 'dtmf') throw new NgCommandError('INVALID_VALUE', 'DTMF-security mode DTMF needs a `digit` (0-9, *, #, A-D)');
    digit = c ?? 0;
  }
  for (const f of d.frequencies ?? []) {
    if (!(f >= 20 && f <= 20000)) throw new NgCommandError('INVALID_VALUE', `tone frequency ${f} Hz out of range (20-20000)`);
  }
  return new DtmfSecurity(mode, digit, d.frequencies ?? [400], trigger);
}

function checkDigits(s: string, key: string): string {
  const t = s.toUpperCase();
  if (!/^[0-9*#A-D]*$/.test(t)) throw new NgCommandError('INVALID_VALUE', `"${key}" must be DTMF digits (0-9, *, #, A-D)`);
  return t;
}

/** The offer/answer flags that switch DTMF handling on for the sender of the SDP. */
export function applyOfferAnswerDtmf(ml: Monologue, flags: NgFlags): void {
  if (flags.flags.has('block-dtmf')) ml.control.blockDtmf = dtmfSecurityFrom(flags);
  if (flags.flags.has('detect-dtmf')) ml.control.detectDtmf = true;
  if (flags.dtmfSec.delay !== undefined) ml.control.dtmfDelay = Math.max(0, Math.min(flags.dtmfSec.delay, 10_000));
  if (flags.dtmfSec.logDest !== undefined) ml.call.dtmfLogDest = flags.dtmfSec.logDest;
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

/** A mono G.711/L16 codec of the sender as something we can decode and encode, or null. */
function audioCodec(c: SdpCodec): AudioCodec | null {
  const name = codecName(c);
  if (!['PCMU', 'PCMA', 'L16'].includes(name) || (c.channels ?? 1) !== 1) return null;
  const clockRate = clockRateOf(c);
  const t = createTranscoder({ name, clockRate, channels: 1 });
  if (!t) return null;
  return {
    pt: c.payloadType,
    clockRate,
    bytesPerSample: name === 'L16' ? 2 : 1,
    encode: (s) => t.encode(s),
    decode: (p) => {
      const d = t.decode(p);
      return d && d.length > 0 ? d : null;
    },
  };
}

/**
 * Where a participant's finished DTMF events go: the log (with call-id and tag) and, when
 * configured, the call's `DTMF-log-dest` or --dtmf-log-dest as rtpengine's JSON.
 */
function dtmfReporterFor(call: Call, ml: Monologue, as?: 'injected'): DtmfReporter {
  return (r, from) => {
    const tags = call.monologues.filter((m) => !m.deleted).map((m) => m.tag);
    const ev = { callId: call.callId, sourceTag: ml.tag, tags, sourceIp: from.address, event: r.event, durationMs: r.durationMs, volume: r.volume, ssrc: r.ssrc, source: as ?? r.source };
    const logger = call.ctx.dtmfLog;
    if (logger) logger.report(ev, call.dtmfLogDest);
    else logDtmfEvent(ev);
  };
}

/**
 * Rebuilds every stream's control from the call's and its participants' state and the codecs
 * each one sends (telephone-event numbers, silence bytes, audio codecs). Keeps counters across
 * rebuilds.
 */
export function updateStreamControls(call: Call): void {
  for (const ml of call.monologues) {
    if (ml.deleted) continue;
    const security = ml.control.blockDtmf ?? call.control.blockDtmf;
    const blockMedia = ml.control.blockMedia || call.control.blockMedia;
    const silenceOn = ml.control.silence || call.control.silence;
    const reporter = dtmfReporterFor(call, ml);
    for (const media of ml.medias) {
      const dtmfPts = new Map<number, number>();
      const silence = new Map<number, number>();
      const audio = new Map<number, AudioCodec>();
      let primary: AudioCodec | null = null;
      for (const c of media.codecs) {
        const name = codecName(c);
        if (name === 'TELEPHONE-EVENT') dtmfPts.set(c.payloadType, clockRateOf(c));
        else if (SILENCE[name] !== undefined) silence.set(c.payloadType, SILENCE[name] as number);
        const a = audioCodec(c);
        if (a) {
          audio.set(c.payloadType, a);
          primary ??= a;
        }
      }
      const ctl = new StreamControl(dtmfPts, silence, audio, primary, media.rtp.control?.counters);
      ctl.blockMedia = blockMedia;
      ctl.silence = silenceOn;
      ctl.security = security;
      ctl.detect = ml.control.detectDtmf || call.control.detectDtmf;
      ctl.delayMs = ml.control.dtmfDelay || call.control.dtmfDelay;
      ctl.reporter = reporter;
      media.rtp.control = ctl.active ? ctl : null;
      media.rtp.clockRate = primaryRate(media);
      for (const s of [media.rtp, media.rtcp]) {
        s.consumeRtcp = call.rtcpGenerator !== null;
        if (s.rtcpQuality === null) s.rtcpQuality = new RtcpQuality(call.srTimes, primaryRate(media));
      }
    }
  }
  updateRtcpTranslation(call);
}

/** Does the relay change what `from` sends before `to` gets it (not packet for packet)? */
function changesMedia(from: CallMedia, to: CallMedia): boolean {
  const sink = from.rtp.rtpSinks.find((s) => s.dst === to.rtp);
  if (!sink) return false;
  return sink.inject !== null || (sink.codec?.handlers.some((h) => !h.stateless) ?? false);
}

/**
 * Gives every RTCP sink toward a participant whose media (either way) the relay changes a
 * translator (media/rtcp-translate.ts); others relay RTCP as it comes. Run after every sink
 * rebuild and `play DTMF`.
 */
export function updateRtcpTranslation(call: Call): void {
  for (const a of call.medias) {
    for (const stream of [a.rtp, a.rtcp]) {
      for (const sink of stream.rtcpSinks) {
        const b = call.medias.find((m) => m !== a && m.rtcpTarget() === sink.dst);
        if (!b) {
          sink.rtcpTranslate = null;
          continue;
        }
        const out = changesMedia(a, b);
        const back = changesMedia(b, a);
        const ratio = primaryRate(b) / primaryRate(a);
        sink.rtcpTranslate = out || back
          ? new RtcpTranslator(out ? a.rtp.ssrcIn : null, out ? b.rtp.ssrcOut : null, ratio, back ? b.rtp.ssrcIn : null, ratio)
          : null;
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

export type { DtmfBlockMode };
export type ControlKey = 'blockDtmf' | 'blockMedia' | 'silence';

/** block/unblock DTMF, block/unblock media, silence/unsilence media. */
export function setMediaControl(call: Call, flags: NgFlags, key: ControlKey, on: boolean): void {
  const ml = selectDirectional(call, flags);
  const value = key === 'blockDtmf' ? (on ? dtmfSecurityFrom(flags) : null) : on;
  const set = (s: MediaControlState): void => {
    if (key === 'blockDtmf') {
      s.blockDtmf = value as DtmfSecurity | null;
      // `DTMF-delay` may come with block DTMF too
      if (on && flags.dtmfSec.delay !== undefined) s.dtmfDelay = Math.max(0, Math.min(flags.dtmfSec.delay, 10_000));
      if (!on) s.dtmfDelay = 0;
    } else s[key] = value as boolean;
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
          const report = dtmfReporterFor(call, ml, 'injected');
          const from = media.rtp.endpoint ?? { family: 4 as const, address: '', port: 0 };
          inj.onDigit = (d) => report({ event: d.event, durationMs: d.durationMs, volume: d.volume, ssrc, source: 'RFC' }, from);
          call.attachInjector(sink, inj);
        }
        inj.play(digits);
        injected++;
      }
    }
    call.log(ml.tag).info({ digits: digits.map((d) => d.event), durationMs: digits[0]?.durationMs }, 'play DTMF');
  }
  updateRtcpTranslation(call);
  if (injected === 0) {
    throw new NgCommandError('INVALID_VALUE', noCarrier > 0
      ? 'the receiving side has neither telephone-event nor a G.711/L16 codec to carry DTMF'
      : 'no media stream to inject DTMF into');
  }
  rekernelize(call);
}
