/**
 * ng message → typed NgFlags (rtpengine's call_flags.c). Keys and flags are matched through one
 * normalisation (case-insensitive; space, underscore and hyphen alike), so every spelling
 * rtpengine accepts (`call-id`, `call id`, `call ID`, `rtpp_flags`) lands on one name. Unknown
 * keys and flags are ignored with a debug log, as rtpengine does; the ones rtpengine documents
 * but this daemon does not implement yet are recorded in `unsupported` (call/unsupported-flags.ts).
 */
import { isIP } from 'node:net';
import type { BencodeDict, BencodeValue } from './bencode.js';
import { NgCommandError } from '../errors.js';
import { log } from '../log/logger.js';
import { parseRtppFlags, type RtppValue } from './rtpp-flags.js';
import type { RtcpMuxOption, ReplaceOption, IceOption, IceLiteOption, LearningMode, CodecFlags, NgFlags, BundleOption } from '../call/flags.js';
import { emptySdesFlags } from '../crypto/sdes-negotiate.js';
import { applyOsrtp, applySdes, legacyTransportProtocol } from './crypto-flags.js';
import { unsupportedEntry } from '../call/unsupported-flags.js';
import { LEARNING_MODES } from '../net/endpoint.js';
import { parseDtmfLogDest } from '../log/dtmf-log.js';

export type { RtcpMuxOption, ReplaceOption, IceOption, LearningMode, CodecFlags, NgFlags };

/** `call ID`, `Call_ID`, `call-id` → `call-id`. */
export function normalizeKey(key: string): string {
  const known = normalizedKeys.get(key);
  if (known !== undefined) return known;
  const out = key.trim().toLowerCase().replace(/[\s_]+/g, '-');
  // every message repeats the same few keys; the bound keeps odd clients from growing it
  if (normalizedKeys.size < 1024) normalizedKeys.set(key, out);
  return out;
}

const normalizedKeys = new Map<string, string>();

function str(v: BencodeValue | RtppValue | undefined): string | undefined {
  if (v === undefined) return undefined;
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  return undefined;
}

function list(v: BencodeValue | RtppValue | undefined): string[] {
  if (v === undefined) return [];
  if (Array.isArray(v)) return v.map((x) => str(x as BencodeValue)).filter((x): x is string => x !== undefined);
  const s = str(v);
  return s === undefined ? [] : [s];
}

/** rtpengine's dict_get_int_str: a bencode integer or a numeric string. */
function int(v: BencodeValue | RtppValue | undefined, key: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'number') return v;
  const s = str(v);
  if (s !== undefined && /^-?\d+$/.test(s.trim())) return Number(s);
  throw new NgCommandError('INVALID_VALUE', `"${key}" must be an integer`);
}

const RTCP_MUX: readonly RtcpMuxOption[] = ['offer', 'demux', 'accept', 'reject', 'require'];
const REPLACE: readonly ReplaceOption[] = ['origin', 'origin-full', 'session-connection', 'sdp-version', 'force-increment-sdp-ver', 'username', 'session-name', 'zero-address'];
const ICE: readonly IceOption[] = ['remove', 'force', 'default', 'force-relay', 'optional', 'reject'];
const BUNDLE: readonly BundleOption[] = ['accept', 'offer', 'require', 'strict', 'reject'];
const ICE_LITE: readonly IceLiteOption[] = ['forward', 'backward', 'both', 'off'];
const LEARNING: readonly LearningMode[] = LEARNING_MODES;
const CODEC_VERBS = ['strip', 'offer', 'mask', 'except', 'transcode', 'accept', 'consume', 'ignore', 'set'] as const;

/** Flags that only switch behaviour on; anything else is logged as unknown. */
const KNOWN_FLAGS = new Set([
  'trust-address', 'sip-source-address', 'symmetric', 'asymmetric', 'strict-source', 'media-handover',
  'port-latching', 'no-port-latching', 'unidirectional', 'reset', 'loop-protect', 'original-sendrecv',
  'generate-mid', 'full-rtcp-attribute', 'no-rtcp-attribute', 'no-tls-id', 'fatal', 'fast', 'to-tag',
  'directional', 'bidirectional', 'all', 'debug', 'provisional', 'new-branch', 'single-codec',
  'reuse-codecs', 'no-codec-renegotiation', 'static-codecs', 'allow-transcoding', 'always-transcode',
  'force-transcoding', 'allow-asymmetric-codecs', 'recrypt', 'record-call', 'discard-recording', 'webrtc', 'trickle-ice', 'reject-ice', 'pierce-nat',
  'strip-extmap', 'fragment',
  'block-dtmf', 'inject-dtmf', 'generate-rtcp', 'detect-dtmf', 'early-media', 'block-egress',
  'inactive',
]);

function emptyCodec(): CodecFlags {
  return { strip: [], offer: [], mask: [], except: [], transcode: [], accept: [], consume: [], ignore: [], set: [] };
}

export function parseNgFlags(msg: BencodeDict): NgFlags {
  const flags: NgFlags = {
    command: '',
    direction: [],
    fromTags: [],
    dtmf: {},
    dtmfSec: {},
    play: {},
    rtcpMux: new Set(),
    bundle: new Set(),
    replace: new Set(),
    codec: emptyCodec(),
    sdes: emptySdesFlags(),
    osrtp: new Set(),
    supports: new Set(),
    flags: new Set(),
    unsupported: new Set(),
  };
  // keys are applied in message order as they come (no [key, value] pair per key: this runs
  // for every command); flag words after every key, as before
  let flagWords: string[] | undefined;
  for (const rawKey in msg) {
    const value = msg[rawKey] as BencodeValue;
    const key = normalizeKey(rawKey);
    if (key === 'flags') (flagWords ??= []).push(...list(value));
    else if (key === 'rtpp-flags') {
      const parsed = parseRtppFlags(str(value) ?? '');
      for (const [k, v] of Object.entries(parsed.keys)) applyKey(flags, normalizeKey(k), v);
      (flagWords ??= []).push(...parsed.flags);
    } else applyKey(flags, key, value);
  }
  if (flagWords) for (const word of flagWords) applyFlag(flags, word);
  if (flags.flags.has('webrtc')) applyWebRtc(flags);
  return flags;
}

function applyKey(f: NgFlags, key: string, value: BencodeValue | RtppValue): void {
  switch (key) {
    case 'command': f.command = str(value) ?? ''; return;
    case 'call-id': f.callId = str(value); return;
    case 'to-call-id': f.toCallId = str(value); return;
    case 'from-tags': f.fromTags = list(value); return;
    case 'calls': f.calls = list(value); return;
    case 'tags': f.meshTags = dictList(value, key).map((d) => ({ from: str(d.from) ?? '', to: list(d.to ?? []) })); return;
    case 'codecs-offer': f.codecsOffer = list(value); return;
    case 'medias': f.medias = dictList(value, key).map((d) => ({ type: str(d.type) ?? 'audio', codecs: list(d.codecs ?? d.codec ?? []) })); return;
    case 'all': {
      const v = str(value)?.toLowerCase();
      if (v !== 'none' && v !== 'no' && v !== 'off') f.flags.add('all');
      return;
    }
    case 'from-tag': f.fromTag = str(value); return;
    case 'to-tag': f.toTag = str(value); return;
    case 'via-branch': f.viaBranch = str(value); return;
    case 'sdp': f.sdp = str(value); return;
    case 'label': case 'from-label': f.label = str(value); return;
    case 'set-label': f.setLabel = str(value); return;
    case 'to-label': f.toLabel = str(value); return;
    case 'media-address': f.mediaAddress = str(value); return;
    case 'from-interface': f.fromInterface = str(value); return;
    case 'to-interface': f.toInterface = str(value); return;
    case 'interface': f.interface = str(value); return;
    case 'direction': f.direction = list(value); return;
    case 'transport-protocol': f.transportProtocol = str(value); return;
    case 'delete-delay': f.deleteDelay = int(value, key); return;
    case 'limit': f.limit = int(value, key); return;
    case 'tos': f.tos = int(value, key); return;
    case 'ptime': f.ptime = positive(int(value, key), key); return;
    case 'ptime-reverse': f.ptimeReverse = positive(int(value, key), key); return;
    case 'body': f.body = str(value); return;
    case 'code': case 'digit': f.dtmf.code = str(value); return;
    case 'duration': f.dtmf.duration = int(value, key); return;
    case 'volume': f.dtmf.volume = int(value, key); return;
    case 'pause': {
      // `stop recording` sends `pause: yes`; play DTMF a number of ms
      const v = str(value);
      if (v !== undefined && /^\d+$/.test(v.trim())) f.dtmf.pause = Number(v);
      else if (v !== undefined && !['no', 'off', 'false', '0', ''].includes(v.toLowerCase())) f.flags.add('pause');
      return;
    }
    case 'dtmf-security': f.dtmfSecurity = str(value); return;
    case 'dtmf-security-trigger': f.dtmfSec.modeTrigger = str(value); return;
    case 'dtmf-security-trigger-end': f.dtmfSec.modeTriggerEnd = str(value); return;
    case 'trigger': f.dtmfSec.trigger = str(value); return;
    case 'trigger-end': case 'end-trigger': f.dtmfSec.triggerEnd = str(value); return;
    case 'trigger-end-time': f.dtmfSec.endMs = int(value, key); return;
    case 'trigger-end-digits': f.dtmfSec.endDigits = int(value, key); return;
    case 'frequency': case 'frequencies': f.dtmfSec.frequencies = frequencies(value, key); return;
    case 'dtmf-delay': f.dtmfSec.delay = int(value, key); return;
    case 'dtmf-log-dest': case 'dtmf-log-destination': {
      const dest = parseDtmfLogDest(str(value) ?? '');
      if (!dest) throw new NgCommandError('INVALID_VALUE', '"DTMF-log-dest" must be ADDRESS:PORT');
      f.dtmfSec.logDest = dest;
      return;
    }
    case 'file': f.play.file = str(value); return;
    // a blob is binary: bencode keeps it a Buffer; a JSON string is taken as its UTF-8 bytes
    case 'blob': f.play.blob = Buffer.isBuffer(value) ? value : Buffer.from(str(value) ?? '', 'utf8'); return;
    case 'blob64': f.play.blob64 = str(value); return;
    case 'db-id': f.play.dbId = str(value); return;
    case 'repeat-times': f.play.repeatTimes = int(value, key); return;
    case 'repeat-duration': f.play.repeatDuration = int(value, key); return;
    case 'start-pos': f.play.startPos = int(value, key); return;
    case 'audio-player': {
      const v = normalizeKey(str(value) ?? '');
      const mode = v === 'force' || v === 'on' ? 'always' : v;
      if (mode === 'default' || mode === 'transcoding' || mode === 'always' || mode === 'off') f.audioPlayer = mode;
      else throw new NgCommandError('INVALID_VALUE', `"audio-player" must be default, transcoding, always or off`);
      return;
    }
    case 'types': f.types = list(value).flatMap((t) => t.split(',')).map((t) => t.trim()).filter((t) => t); return;
    case 'supports': for (const s of list(value)) f.supports.add(normalizeKey(s)); return;
    case 'replace': for (const r of list(value)) addEnum(f.replace, REPLACE, normalizeKey(r), key); return;
    case 'rtcp-mux': for (const r of list(value)) addEnum(f.rtcpMux, RTCP_MUX, normalizeKey(r), key); return;
    case 'bundle': for (const r of list(value)) addEnum(f.bundle, BUNDLE, normalizeKey(r), key); return;
    case 'extmap': {
      // rtpengine's `extmap: {strip: [...]}`: `all` (or every listed URI) strips a=extmap lines
      if (value && typeof value === 'object' && !Array.isArray(value) && !Buffer.isBuffer(value)) {
        for (const [verb, items] of Object.entries(value)) {
          if (normalizeKey(verb) === 'strip' && list(items as BencodeValue).length > 0) {
            f.extmapStrip = [...(f.extmapStrip ?? []), ...list(items as BencodeValue)];
          }
        }
      }
      return;
    }
    case 'address-family': {
      const v = str(value)?.toUpperCase();
      if (v === 'IP4' || v === 'IP6') f.addressFamily = v === 'IP4' ? 4 : 6;
      else log().debug({ value: v }, 'unknown address family ignored');
      return;
    }
    case 'received-from': {
      const [fam, addr] = list(value);
      const family = fam?.toUpperCase() === 'IP6' ? 6 : 4;
      if (addr && isIP(addr) === family) f.receivedFrom = { family, address: addr };
      else throw new NgCommandError('INVALID_VALUE', '"received-from" must be [IP4|IP6, address]');
      return;
    }
    case 'ice': {
      for (const v of list(value)) {
        const n = normalizeKey(v);
        if ((ICE as readonly string[]).includes(n)) f.ice = n as IceOption;
        else log().debug({ value: v }, 'unknown ICE option ignored');
      }
      return;
    }
    case 'ice-lite': {
      const v = normalizeKey(str(value) ?? '');
      if ((ICE_LITE as readonly string[]).includes(v)) f.iceLite = v as IceLiteOption;
      else log().debug({ value: v }, 'unknown ICE-lite option ignored');
      return;
    }
    case 'endpoint-learning': {
      const v = normalizeKey(str(value) ?? '');
      if ((LEARNING as readonly string[]).includes(v)) f.endpointLearning = v as LearningMode;
      return;
    }
    case 'sdes': for (const v of list(value)) applySdes(f.sdes, v); return;
    case 'osrtp': for (const v of list(value)) applyOsrtp(f.osrtp, v); return;
    case 'dtls': {
      const v = normalizeKey(str(value) ?? '');
      if (v === 'off' || v === 'no' || v === 'disable') f.dtls = 'off';
      else if (v === 'passive' || v === 'active') f.dtls = v;
      else log().debug({ value: v }, 'unknown DTLS option ignored');
      return;
    }
    case 'dtls-reverse': {
      const v = normalizeKey(str(value) ?? '');
      if (v === 'passive' || v === 'active') f.dtlsReverse = v;
      else log().debug({ value: v }, 'unknown DTLS-reverse option ignored');
      return;
    }
    case 'dtls-fingerprint': {
      const v = normalizeKey(str(value) ?? '').replace(/^sha-?/, 'sha-');
      if (['sha-1', 'sha-224', 'sha-256', 'sha-384', 'sha-512'].includes(v)) f.dtlsFingerprint = v;
      // as rtpengine: an unknown hash is warned about and the default (or the peer's) is used
      else log().warn({ value: v }, "Unknown 'DTLS-fingerprint' value ignored");
      return;
    }
    case 'codec': {
      if (value && typeof value === 'object' && !Array.isArray(value) && !Buffer.isBuffer(value)) {
        for (const [verb, items] of Object.entries(value)) {
          const v = normalizeKey(verb) as (typeof CODEC_VERBS)[number];
          if ((CODEC_VERBS as readonly string[]).includes(v)) addCodec(f, v, list(items as BencodeValue));
        }
      }
      return;
    }
    default: {
      // a boolean flag may also come as a dictionary key (`"strict-source": "yes"`)
      const v = str(value)?.toLowerCase();
      const on = v === undefined || !['no', 'off', 'false', '0', ''].includes(v);
      if (KNOWN_FLAGS.has(key)) {
        if (on) {
          f.flags.add(key);
          noteUnsupported(f, key);
        }
        return;
      }
      if (unsupportedEntry(key)) {
        if (on) noteUnsupported(f, key);
        return;
      }
      log().debug({ key }, 'Unknown dictionary key encountered');
    }
  }
}

/** `frequencies`: a list of integers or one comma-separated string of them (Hz). */
function frequencies(value: BencodeValue | RtppValue, key: string): number[] {
  const items = Array.isArray(value) ? value.map((v) => (typeof v === 'number' ? String(v) : str(v as BencodeValue) ?? '')) : (str(value) ?? '').split(',');
  return items.map((x) => {
    const t = x.trim();
    if (!/^\d+$/.test(t)) throw new NgCommandError('INVALID_VALUE', `"${key}" must be integers (Hz)`);
    return Number(t);
  });
}

/** A list of dictionaries (`tags`, `medias`); anything else is an error reply. */
function dictList(value: BencodeValue | RtppValue, key: string): Array<Record<string, BencodeValue>> {
  if (!Array.isArray(value)) throw new NgCommandError('INVALID_VALUE', `"${key}" must be a list of dictionaries`);
  return value.map((v) => {
    if (!v || typeof v !== 'object' || Array.isArray(v) || Buffer.isBuffer(v)) throw new NgCommandError('INVALID_VALUE', `"${key}" must be a list of dictionaries`);
    return v as Record<string, BencodeValue>;
  });
}

/** Records an rtpengine-documented flag/key/value this daemon does not implement yet (by its table name). */
function noteUnsupported(f: NgFlags, name: string): void {
  const entry = unsupportedEntry(name);
  if (entry) (f.unsupported ??= new Set()).add(entry.name);
}

function addCodec(f: NgFlags, verb: (typeof CODEC_VERBS)[number], items: string[]): void {
  if (items.length === 0) return;
  f.codec[verb].push(...items);
  noteUnsupported(f, `codec-${verb}`);
}

/** ptime values: 0 or absent means "not set"; negative is an error. */
function positive(v: number | undefined, key: string): number | undefined {
  if (v === undefined || v === 0) return undefined;
  if (v < 0 || v > 1000) throw new NgCommandError('INVALID_VALUE', `"${key}" must be a packet time in ms`);
  return v;
}

function addEnum<T extends string>(set: Set<T>, allowed: readonly T[], value: string, key: string): void {
  if ((allowed as readonly string[]).includes(value)) set.add(value as T);
  else log().debug({ key, value }, 'unknown value ignored');
}

const PREFIXED: Array<[string, (f: NgFlags, rest: string) => void]> = [
  ...CODEC_VERBS.map((verb) => [`codec-${verb}-`, (f: NgFlags, rest: string) => addCodec(f, verb, [rest])] as [string, (f: NgFlags, rest: string) => void]),
  // Kamailio's short form of codec-transcode-X
  ['transcode-', (f, rest) => addCodec(f, 'transcode', [rest])],
  ['replace-', (f, rest) => addEnum(f.replace, REPLACE, normalizeKey(rest), 'replace')],
  ['rtcp-mux-', (f, rest) => addEnum(f.rtcpMux, RTCP_MUX, normalizeKey(rest), 'rtcp-mux')],
  ['bundle-', (f, rest) => addEnum(f.bundle, BUNDLE, normalizeKey(rest), 'bundle')],
  ['endpoint-learning-', (f, rest) => applyKey(f, 'endpoint-learning', rest)],
  ['ice-', (f, rest) => applyKey(f, 'ice', rest)],
  ['sdes-', (f, rest) => applySdes(f.sdes, rest)],
  ['osrtp-', (f, rest) => applyOsrtp(f.osrtp, rest)],
];

/**
 * `WebRTC`, rtpengine's shortcut for what a browser needs: `transport-protocol=UDP/TLS/RTP/SAVPF`,
 * `ICE=force`, `trickle-ICE`, `rtcp-mux-offer`, `rtcp-mux-require`, `no-rtcp-attribute`,
 * `SDES-off`, `generate-mid`. Keys given explicitly in the same message win.
 */
function applyWebRtc(f: NgFlags): void {
  f.transportProtocol ??= 'UDP/TLS/RTP/SAVPF';
  f.ice ??= 'force';
  f.rtcpMux.add('offer').add('require');
  f.sdes.off = true;
  for (const flag of ['trickle-ice', 'no-rtcp-attribute', 'generate-mid']) f.flags.add(flag);
}

function applyFlag(f: NgFlags, word: string): void {
  // codec names keep their case (`codec-strip-PCMA`); the prefix is matched case-insensitively
  const lower = word.toLowerCase().replace(/[\s_]+/g, '-');
  for (const [prefix, apply] of PREFIXED) {
    if (lower.startsWith(prefix) && lower.length > prefix.length) {
      apply(f, word.slice(prefix.length));
      return;
    }
  }
  // the legacy transport-protocol flags (`RTP/SAVP` …), as rtpengine accepts them in `flags`
  const proto = legacyTransportProtocol(word);
  if (proto) {
    f.transportProtocol = proto;
    return;
  }
  const n = normalizeKey(word);
  // rtpengine's older spelling of SDES-pad
  if (n === 'pad-crypto') {
    f.sdes.pad = true;
    return;
  }
  if (unsupportedEntry(n)) noteUnsupported(f, n);
  else if (!KNOWN_FLAGS.has(n)) log().debug({ flag: word }, 'Unknown flag encountered');
  f.flags.add(n);
}
