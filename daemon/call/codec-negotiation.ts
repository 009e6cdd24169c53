/**
 * Codec negotiation with transcoding (rtpengine's codec store and codec_handlers_update, seen
 * through SDP in and SDP out): the `codec` dictionary (strip, offer, transcode, mask, consume,
 * accept, except, ignore, set), `always transcode`, `force transcoding`, `single codec`,
 * `reuse codecs`, `static codecs`, `ptime` / `ptime-reverse`.
 *
 * An offer from A produces a CodecOffer (kept on the answerer's media until the answer): A's
 * codecs, the list offered to B (A's codecs that survived plus codecs added for transcoding)
 * and what the flags asked for. The answer from B turns it into the codec list for A's answer
 * and one CodecRoute per payload type and direction, which the media path follows:
 * pass-through, or decode → (resample) → (repacketise) → encode into the peer's codec.
 */
import { canTranscode, canonicalName, codecDefaults, isSupplemental, type CodecFormat } from '../codec/codec-lib.js';
import type { CodecRoute } from '../codec/transcode.js';
import { STATIC_PAYLOAD_TYPES, type SdpCodec } from '../sdp/sdp-model.js';
import { codecMatches } from './codecs.js';

export type { CodecRoute };
import type { CodecFlags, NgFlags } from './flags.js';

/** A codec spec as rtpengine parses it: `name/rate/channels/bitrate/ptime/fmtp/options`. */
export interface CodecSpec {
  name: string;
  clockRate: number | null;
  channels: number | null;
  bitrate: number | null;
  ptime: number | null;
  fmtp: string | null;
  options: string | null;
}

export function parseCodecSpec(text: string): CodecSpec {
  // `--` stands for `=` where a literal `=` would be taken for a key/value separator
  const parts = text.replace(/--/g, '=').split('/');
  const num = (s: string | undefined) => (s && /^\d+$/.test(s) ? Number(s) : null);
  return {
    name: parts[0] ?? '',
    clockRate: num(parts[1]),
    channels: num(parts[2]),
    bitrate: num(parts[3]),
    ptime: num(parts[4]),
    fmtp: parts[5] || null,
    options: parts.slice(6).join('/') || null,
  };
}

export function codecFormat(c: SdpCodec): CodecFormat {
  const fallback = STATIC_PAYLOAD_TYPES[c.payloadType];
  const name = canonicalName(c.encoding || fallback?.encoding || '');
  return {
    name,
    clockRate: c.clockRate || fallback?.clockRate || 0,
    channels: c.channels ?? fallback?.channels ?? 1,
  };
}

export function sameFormat(a: CodecFormat, b: CodecFormat): boolean {
  return a.name.toLowerCase() === b.name.toLowerCase() && a.clockRate === b.clockRate && a.channels === b.channels;
}

const supplemental = (c: SdpCodec) => isSupplemental(codecFormat(c).name);
const transcodable = (c: SdpCodec) => canTranscode(codecFormat(c));
/** Known to rtpengine's codec library (kept when the transcoding engine strips the rest). */
const known = (c: SdpCodec) => codecDefaults(codecFormat(c).name) !== null;

/** Matching that also understands `all`/`full` and codec specs with extra `/params`. */
function specMatches(c: SdpCodec, spec: string): boolean {
  if (/^(all|full|any)$/i.test(spec)) return true;
  const s = parseCodecSpec(spec);
  const short = [s.name, s.clockRate ?? '', s.channels ?? ''].join('/').replace(/\/+$/, '');
  return codecMatches(c, short || spec);
}

const matchesAny = (c: SdpCodec, specs: readonly string[]) => specs.some((s) => specMatches(c, s));
const isAll = (specs: readonly string[]) => specs.some((s) => /^(all|full)$/i.test(s));

export interface OfferedCodec {
  codec: SdpCodec;
  /** Added for transcoding (not offered by A). */
  added: boolean;
}

/** The state of one offer, kept until the answer (rtpengine keeps it in the codec store). */
export interface CodecOffer {
  /** A's codecs (after `ignore`/`strip`), in A's order: what A may send and receive. */
  sender: SdpCodec[];
  /** What B is offered. */
  offered: OfferedCodec[];
  /** A's codecs removed by name with `mask`/`consume`: never listed in A's answer. */
  maskedByName: Set<number>;
  accept: string[];
  consume: string[];
  forceTranscoding: boolean;
  /** The transcoding engine was engaged by the offer's flags. */
  engaged: boolean;
  ptime: number | null;
  ptimeReverse: number | null;
  /** A's a=ptime. */
  senderPtime: number | null;
}

/** What an answer settles for one m= line. */
export interface CodecAnswer {
  /** The codec list written into the answer toward A. */
  toOfferer: SdpCodec[];
  /** B's codecs (the answer's codecs that were offered). */
  answerer: SdpCodec[];
  /** Packets from A toward B, by A's payload type. */
  forward: CodecRoute[];
  /** Packets from B toward A, by B's payload type. */
  reverse: CodecRoute[];
  /** a=ptime written toward A: undefined = as B's SDP says, null = none, or a value. */
  ptimeToOfferer: number | null | undefined;
}

/** Previous negotiation of this m= line, for `reuse codecs` and `static codecs`. */
export interface PreviousCodecs {
  offerer: SdpCodec[];
  answerer: SdpCodec[];
  offered: OfferedCodec[];
}

function ptimeOf(attributes: ReadonlyArray<{ name: string; value: string | null }>): number | null {
  const a = attributes.find((x) => x.name === 'ptime');
  return a?.value && /^\d+$/.test(a.value.trim()) ? Number(a.value.trim()) : null;
}

/** Orders `list` with the codecs of `previous` first, in their previous order (`reuse codecs`). */
function reuseOrder(list: SdpCodec[], previous: readonly SdpCodec[]): SdpCodec[] {
  const key = (c: SdpCodec) => `${c.payloadType}`;
  const prev = previous.map(key);
  const kept = prev.flatMap((k) => list.filter((c) => key(c) === k));
  return [...kept, ...list.filter((c) => !kept.includes(c))];
}

/** A free payload type for an added codec: its static number if unused, else 96… (rtpengine's order). */
function allocatePt(format: CodecFormat, used: Set<number>): number | null {
  for (const [pt, def] of Object.entries(STATIC_PAYLOAD_TYPES)) {
    const n = Number(pt);
    if (def.encoding.toLowerCase() === format.name.toLowerCase() && def.clockRate === format.clockRate
      && (def.channels ?? 1) === format.channels && !used.has(n)) return n;
  }
  for (let pt = 96; pt <= 127; pt++) if (!used.has(pt)) return pt;
  for (let pt = 35; pt <= 63; pt++) if (!used.has(pt)) return pt;
  return null;
}

function newCodec(spec: CodecSpec, used: Set<number>): SdpCodec | null {
  const name = canonicalName(spec.name);
  const defaults = codecDefaults(name);
  const format: CodecFormat = {
    name,
    clockRate: spec.clockRate ?? defaults?.clockRate ?? 8000,
    channels: spec.channels ?? defaults?.channels ?? 1,
  };
  const pt = allocatePt(format, used);
  if (pt === null) return null;
  used.add(pt);
  const channels = format.channels !== 1 ? format.channels : null;
  return {
    payloadType: pt,
    encoding: name,
    clockRate: format.clockRate,
    channels,
    rtpmap: `${pt} ${name}/${format.clockRate}${channels ? `/${channels}` : ''}`,
    fmtp: spec.fmtp ? [`${pt} ${spec.fmtp}`] : [],
    rtcpFb: [],
  };
}

function hasPtimeFlag(flags: NgFlags): boolean {
  return flags.ptime !== undefined || flags.ptimeReverse !== undefined;
}

/** The transcoding engine is engaged by these flags (rtpengine then drops codecs it does not know). */
function engagesTranscoding(cf: CodecFlags, flags: NgFlags, addsCodec: boolean): boolean {
  return addsCodec || cf.transcode.length > 0 || cf.consume.length > 0 || cf.accept.length > 0 || flags.flags.has('always-transcode')
    || flags.flags.has('force-transcoding') || hasPtimeFlag(flags);
}

/**
 * The offer side: A's SDP codecs and the flags → A's codec list and the list offered to B.
 * `previous` (a re-offer) keeps codec order with `reuse codecs` and the whole list with
 * `static codecs`.
 */
export function negotiateOffer(
  input: readonly SdpCodec[],
  attributes: ReadonlyArray<{ name: string; value: string | null }>,
  flags: NgFlags,
  previous: PreviousCodecs | null,
): CodecOffer {
  const cf = flags.codec;
  const accept = [...cf.accept, ...(flags.flags.has('always-transcode') ? ['all'] : [])];
  // `ignore`: as if A never offered them; `strip` by name: gone for transcoding too
  let sender = input.filter((c) => !matchesAny(c, cf.ignore));
  const explicitStrip = cf.strip.filter((s) => !/^(all|full)$/i.test(s));
  const protect = (c: SdpCodec) => matchesAny(c, cf.except) || matchesAny(c, cf.offer);
  sender = sender.filter((c) => protect(c) || !matchesAny(c, explicitStrip));
  const reuse = previous && (flags.flags.has('reuse-codecs') || flags.flags.has('no-codec-renegotiation'));
  if (reuse) sender = reuseOrder(sender, previous.offerer);

  if (previous && flags.flags.has('static-codecs')) {
    return {
      sender: previous.offerer.length ? previous.offerer : sender,
      offered: previous.offered,
      maskedByName: new Set(),
      accept, consume: [...cf.consume],
      forceTranscoding: flags.flags.has('force-transcoding'),
      engaged: false,
      ptime: flags.ptime ?? null,
      ptimeReverse: flags.ptimeReverse ?? null,
      senderPtime: ptimeOf(attributes),
    };
  }

  const removeAll = isAll(cf.strip) || isAll(cf.mask) || isAll(cf.consume);
  const hide = [...cf.mask, ...cf.consume].filter((s) => !/^(all|full)$/i.test(s));
  const maskedByName = new Set(sender.filter((c) => !protect(c) && matchesAny(c, hide)).map((c) => c.payloadType));
  let kept = sender.filter((c) => protect(c) || (!removeAll && !maskedByName.has(c.payloadType)));
  if (cf.offer.length > 0) {
    const ordered: SdpCodec[] = [];
    for (const spec of cf.offer) for (const c of kept) if (specMatches(c, spec) && !ordered.includes(c)) ordered.push(c);
    kept = [...ordered, ...kept.filter((c) => !ordered.includes(c) && matchesAny(c, cf.except))];
  }

  // `transcode`: restore what `all` removed, add what A never had (only if something of A's
  // can be decoded, or there is nothing to transcode from)
  const offered: OfferedCodec[] = kept.map((codec) => ({ codec, added: false }));
  // payload types of codecs stripped by name are free again
  const used = new Set(sender.map((c) => c.payloadType));
  const canFeed = sender.some(transcodable);
  let addsCodec = false;
  for (const text of cf.transcode) {
    const spec = parseCodecSpec(text);
    const original = sender.find((c) => specMatches(c, text));
    if (original) {
      const explicitlyRemoved = maskedByName.has(original.payloadType) || matchesAny(original, explicitStrip);
      const fullRemoved = [...cf.strip, ...cf.mask].some((s) => /^full$/i.test(s));
      if (!offered.some((o) => o.codec === original) && !explicitlyRemoved && !fullRemoved) {
        offered.push({ codec: original, added: false });
        continue;
      }
      if (!explicitlyRemoved && !fullRemoved) continue;
    }
    const format: CodecFormat = { name: canonicalName(spec.name), clockRate: spec.clockRate ?? codecDefaults(spec.name)?.clockRate ?? 8000, channels: spec.channels ?? codecDefaults(spec.name)?.channels ?? 1 };
    if (isSupplemental(format.name)) {
      if (!offered.some((o) => sameFormat(codecFormat(o.codec), format))) {
        const c = newCodec(spec, used);
        if (c) offered.push({ codec: c, added: true });
      }
      continue;
    }
    // only codecs we can both decode and encode can be added, and only when A speaks one too
    if (!canTranscode(format) || !canFeed) continue;
    if (offered.some((o) => sameFormat(codecFormat(o.codec), format))) continue;
    const c = newCodec(spec, used);
    if (c) {
      offered.push({ codec: c, added: true });
      addsCodec = true;
    }
  }

  const engaged = engagesTranscoding(cf, flags, addsCodec);
  let list = offered;
  if (engaged) {
    // the transcoding engine takes only codecs it knows; supplemental codecs stay only beside
    // an audio codec of their clock rate
    list = list.filter((o) => known(o.codec));
    const rates = new Set(list.filter((o) => !supplemental(o.codec)).map((o) => codecFormat(o.codec).clockRate));
    list = list.filter((o) => !supplemental(o.codec) || rates.has(codecFormat(o.codec).clockRate));
    // DTMF for every clock rate of an added codec, when A offered DTMF
    const dtmf = sender.find((c) => codecFormat(c).name === 'telephone-event');
    if (dtmf) {
      for (const o of list.filter((x) => x.added && !supplemental(x.codec))) {
        const rate = codecFormat(o.codec).clockRate;
        const has = list.some((x) => codecFormat(x.codec).name === 'telephone-event' && codecFormat(x.codec).clockRate === rate);
        if (!has) {
          const fmtp = dtmf.fmtp[0]?.replace(/^\d+\s+/, '') ?? null;
          const c = newCodec({ ...parseCodecSpec(`telephone-event/${rate}`), fmtp }, used);
          if (c) list.push({ codec: c, added: true });
        }
      }
    }
  }
  // the transcoder lists audio codecs first, then DTMF and comfort noise (rtpengine's order);
  // without it the offer keeps A's order
  if (engaged) list = [...list.filter((o) => !supplemental(o.codec)), ...list.filter((o) => supplemental(o.codec))];
  if (reuse) {
    const order = reuseOrder(list.map((o) => o.codec), previous.answerer.length ? previous.answerer : previous.offered.map((o) => o.codec));
    list = order.map((c) => list.find((o) => o.codec === c) as OfferedCodec);
  }
  // stripping everything is an error: the original list stays (rtpengine's rule)
  if (list.filter((o) => !supplemental(o.codec)).length === 0 && input.length > 0) {
    list = input.map((codec) => ({ codec, added: false }));
  }
  return {
    sender,
    offered: list,
    maskedByName,
    accept,
    consume: [...cf.consume],
    forceTranscoding: flags.flags.has('force-transcoding'),
    engaged,
    ptime: flags.ptime ?? null,
    ptimeReverse: flags.ptimeReverse ?? null,
    senderPtime: ptimeOf(attributes),
  };
}

function firstAudio(list: readonly SdpCodec[]): SdpCodec | undefined {
  return list.find((c) => !supplemental(c));
}

/**
 * The answer side: B's answer codecs → the list for A's answer and the routes both ways.
 */
export function negotiateAnswer(
  offer: CodecOffer,
  answerCodecs: readonly SdpCodec[],
  flags: NgFlags,
): CodecAnswer {
  // B may only pick what it was offered: the same payload type and codec, or (numbered its own
  // way) a codec offered under another number that B does not answer with that number
  const fmtOf = (c: SdpCodec) => codecFormat(c);
  const offeredFor = new Map<SdpCodec, OfferedCodec>();
  for (const c of answerCodecs) {
    const samePt = offer.offered.find((o) => o.codec.payloadType === c.payloadType && sameFormat(fmtOf(o.codec), fmtOf(c)));
    const exact = (x: SdpCodec) => offer.offered.some((o) => o.codec.payloadType === x.payloadType && sameFormat(fmtOf(o.codec), fmtOf(x)));
    // a codec B also answers under an offered number is not taken twice
    const renumbered = !samePt && !answerCodecs.some((x) => x !== c && exact(x) && sameFormat(fmtOf(x), fmtOf(c)));
    const byFormat = samePt ?? (renumbered ? offer.offered.find((o) => sameFormat(fmtOf(o.codec), fmtOf(c))
      && !answerCodecs.some((x) => x.payloadType === o.codec.payloadType && sameFormat(fmtOf(x), fmtOf(o.codec)))) : undefined);
    if (byFormat && ![...offeredFor.values()].includes(byFormat)) offeredFor.set(c, byFormat);
  }
  let answerer = answerCodecs.filter((c) => offeredFor.has(c));
  if (answerer.length === 0) answerer = [...answerCodecs]; // nothing recognisable: pass the answer on
  const isAdded = (c: SdpCodec) => offeredFor.get(c)?.added === true;
  const fromSender = (c: SdpCodec) => { const o = offeredFor.get(c); return o !== undefined && !o.added && offer.sender.includes(o.codec); };
  /** A's own codec for one of B's (A's numbering). */
  const inA = (c: SdpCodec) => offer.sender.find((s) => s.payloadType === c.payloadType && sameFormat(fmtOf(s), fmtOf(c)))
    ?? offer.sender.find((s) => sameFormat(fmtOf(s), fmtOf(c))) ?? c;
  const passthrough = answerer.filter((c) => !supplemental(c) && fromSender(c));
  const bAudio = answerer.filter((c) => !supplemental(c));
  const acceptedAdded = bAudio.some(isAdded);

  let audio: SdpCodec[];
  const forced = [...offer.consume, ...offer.accept];
  const forcedTarget = forced.length > 0
    ? offer.sender.find((c) => !supplemental(c) && transcodable(c) && matchesAny(c, forced))
    : undefined;
  if (forcedTarget && bAudio.some(transcodable)) {
    // accept/consume/always transcode: A gets the accepted codec, everything B sends is
    // transcoded into it
    audio = [passthrough.find((p) => sameFormat(fmtOf(p), fmtOf(forcedTarget))) ?? forcedTarget];
  } else if (acceptedAdded || (passthrough.length === 0 && bAudio.some(transcodable))) {
    // transcoding engaged: what passes through first, then A's other codecs we can transcode
    const rest = offer.sender.filter((c) => !supplemental(c) && transcodable(c)
      && !offer.maskedByName.has(c.payloadType) && !passthrough.some((p) => sameFormat(fmtOf(p), fmtOf(c))));
    audio = [...passthrough, ...rest];
  } else {
    audio = passthrough;
  }
  if (audio.length === 0) audio = bAudio; // nothing we can do: pass B's codecs on
  if (flags.flags.has('single-codec')) audio = audio.slice(0, 1);

  // DTMF and CN toward A, when B took the same at a clock rate A keeps (they are forwarded,
  // never converted between clock rates); written as B answered them, like the pass-through
  // codecs, while transcoded codecs are written as A offered them
  const rates = new Set(audio.map((c) => fmtOf(c).clockRate));
  const supp = answerer.filter((b) => supplemental(b) && fromSender(b) && rates.has(fmtOf(b).clockRate));
  // transcoding with an answerer that has no telephone-event: the offerer keeps its own, the
  // relay turns its events into tones and detected tones into events
  const transcodingEngaged = audio.some((c) => !passthrough.includes(c));
  const offererDtmf = transcodingEngaged && !answerer.some((b) => fmtOf(b).name.toLowerCase() === 'telephone-event')
    ? offer.sender.filter((c) => fmtOf(c).name.toLowerCase() === 'telephone-event' && rates.has(fmtOf(c).clockRate)).slice(0, 1)
    : [];
  const toOfferer = [...audio, ...supp, ...offererDtmf];
  const toOffererInA = toOfferer.map(inA);

  // routes
  const aPrimary = firstAudio(toOffererInA);
  const bPrimary = firstAudio(answerer);
  const repackFwd = offer.ptime ?? 0;
  const repackRev = offer.ptimeReverse ?? (offer.ptime !== null ? offer.senderPtime ?? 20 : 0);
  const forward = routes(offer.sender, answerer, bPrimary, repackFwd, offer.forceTranscoding, null);
  const reverse = routes(answerer, toOffererInA, aPrimary, repackRev, offer.forceTranscoding,
    flags.flags.has('allow-asymmetric-codecs') ? offer.sender : null);

  let ptimeToOfferer: number | null | undefined;
  if (offer.ptimeReverse !== null) ptimeToOfferer = offer.ptimeReverse;
  else if (offer.ptime !== null) ptimeToOfferer = offer.senderPtime;
  return { toOfferer, answerer, forward, reverse, ptimeToOfferer };
}

/**
 * Routes for packets from a side speaking `from` toward a side that accepts `to`: a codec the
 * receiver accepts passes through (unless forced or repacketised); a decodable one is
 * transcoded into the receiver's primary codec; anything else passes unchanged.
 */
function routes(
  from: readonly SdpCodec[],
  to: readonly SdpCodec[],
  primary: SdpCodec | undefined,
  ptime: number,
  force: boolean,
  alsoAccepted: readonly SdpCodec[] | null,
): CodecRoute[] {
  const out: CodecRoute[] = [];
  for (const c of from) {
    const f = codecFormat(c);
    const match = to.find((t) => t.payloadType === c.payloadType && sameFormat(codecFormat(t), f))
      ?? to.find((t) => sameFormat(codecFormat(t), f))
      ?? alsoAccepted?.find((t) => t.payloadType === c.payloadType && sameFormat(codecFormat(t), f));
    if (supplemental(c)) {
      // DTMF/CN are never transcoded here: through if the peer took them, else dropped by the handler
      if (match) out.push({ inPt: c.payloadType, inFormat: f, outPt: match.payloadType, outFormat: f, transcode: false, ptime: 0 });
      else if (f.name.toLowerCase() === 'telephone-event' && primary && transcodable(primary) && ptime === 0
        && codecFormat(primary).clockRate === f.clockRate && codecFormat(primary).channels === 1) {
        // events toward a side without telephone-event: in-band tones (only once the engine is engaged)
        out.push({ inPt: c.payloadType, inFormat: f, outPt: primary.payloadType, outFormat: codecFormat(primary), transcode: false, ptime: 0, dtmfTone: true });
      } else if (f.name.toUpperCase() === 'CN' && primary && transcodable(primary) && codecFormat(primary).channels === 1) {
        // CN toward a side without CN: consumed into comfort noise in its codec (once the engine is engaged)
        out.push({ inPt: c.payloadType, inFormat: f, outPt: primary.payloadType, outFormat: codecFormat(primary), transcode: false, ptime: 0, cnNoise: true });
      }
      continue;
    }
    const canRepack = ptime > 0 && transcodable(c);
    if (match && !force && !canRepack) {
      out.push({ inPt: c.payloadType, inFormat: f, outPt: match.payloadType, outFormat: f, transcode: false, ptime: 0 });
      continue;
    }
    const target = match ?? primary;
    if (target && transcodable(c) && transcodable(target)) {
      const route: CodecRoute = { inPt: c.payloadType, inFormat: f, outPt: target.payloadType, outFormat: codecFormat(target), transcode: true, ptime };
      // tones from a side without telephone-event toward one with it become events
      const te = to.find((t) => codecFormat(t).name.toLowerCase() === 'telephone-event' && codecFormat(t).clockRate === codecFormat(target).clockRate);
      if (te && ptime === 0 && !from.some((x) => codecFormat(x).name.toLowerCase() === 'telephone-event')) route.dtmfEventPt = te.payloadType;
      // a receiver that offered CN at the output rate may get CN for silent frames (--silence-detect)
      const cn = to.find((t) => codecFormat(t).name.toUpperCase() === 'CN' && codecFormat(t).clockRate === codecFormat(target).clockRate);
      if (cn) route.cnPt = cn.payloadType;
      out.push(route);
    } else if (match) {
      out.push({ inPt: c.payloadType, inFormat: f, outPt: match.payloadType, outFormat: f, transcode: false, ptime: 0 });
    }
  }
  return out;
}

/**
 * Participants joined without an offer/answer between them (connect, mesh): null when `from`
 * and `to` share a codec (the ordinary chain renumbers as needed), routes that transcode into
 * `to`'s primary codec when they share none and the codecs can be transcoded, and 'impossible'
 * otherwise.
 */
export function joinRoutes(from: readonly SdpCodec[], to: readonly SdpCodec[]): CodecRoute[] | null | 'impossible' {
  const media = (cs: readonly SdpCodec[]) => cs.filter((c) => !supplemental(c));
  const a = media(from);
  const b = media(to);
  if (a.length === 0 || b.length === 0) return null;
  if (a.some((c) => b.some((t) => sameFormat(codecFormat(c), codecFormat(t))))) return null;
  const out = routes(from, to, b[0], 0, false, null);
  return out.some((r) => r.transcode) ? out : 'impossible';
}
