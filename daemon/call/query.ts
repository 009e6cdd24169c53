/**
 * The call statistics in rtpengine's `query`/`delete` reply shape: created times, per-tag
 * medias and streams (local port, endpoint, advertised endpoint, flags, stats) and totals.
 */
import { describeTranscoding } from '../codec/transcode.js';
import type { ReplyValue } from './reply.js';
import type { Endpoint, PacketStream, SinkHandler } from '../media/packet-stream.js';
import type { CallMedia } from './call-media.js';
import { SrtpInputHandler } from '../crypto/srtp-handler.js';
import type { Call } from './call.js';
import { streamStats } from './stream-stats.js';
import type { Monologue } from './monologue.js';
import type { QualitySample, SsrcQuality } from '../media/rtcp.js';

type Dict = { [key: string]: ReplyValue };

function endpointDict(ep: Endpoint | null): Dict {
  if (!ep) return {};
  return { family: ep.family === 6 ? 'IPv6' : 'IPv4', address: ep.address, port: ep.port };
}

/** Whether the native fast path forwards this stream, and if not, why. */
function fastPathDict(call: Call, stream: PacketStream): Dict {
  if (!call.ctx.kernel) return { native: false, reason: 'no fast path (disabled or not available)' };
  return stream.fastPath.native ? { native: true } : { native: false, reason: stream.fastPath.reason };
}

function streamDict(call: Call, media: CallMedia, stream: PacketStream): Dict {
  const stats = streamStats(stream, call.ctx);
  const flags: string[] = [stream.isRtcp ? 'RTCP' : 'RTP'];
  if (stream.advertisedEndpoint) flags.push('filled');
  if (stream.confirmed) flags.push('confirmed');
  if (stream.kernelized) flags.push('kernelized');
  const out: Dict = {
    'local port': stream.selectedFd?.localPort ?? 0,
    'local address': stream.selectedFd?.local.address ?? '',
    endpoint: endpointDict(stream.endpoint),
    'advertised endpoint': endpointDict(stream.advertisedEndpoint),
    'last packet': Math.floor(stats.lastPacketMs / 1000),
    flags,
    SSRC: stream.ssrcIn.ssrcs(),
    stats: { packets: stats.packets, bytes: stats.bytes, errors: stats.errors },
    fastPath: fastPathDict(call, stream),
  };
  // SRTP: the suite the participant sends with, and what its input handler refused
  const crypto = media.cryptoRecv;
  if (crypto) out['crypto suite'] = crypto.suite;
  if (media.dtls && media.dtls.phase !== 'offered') {
    const d = media.dtls;
    out.DTLS = { role: d.active ? 'active' : 'passive', state: d.failed ? 'failed' : d.keys ? 'connected' : 'handshaking', ...(d.failed ? { reason: d.failed } : {}) };
  }
  if (stream.input instanceof SrtpInputHandler) {
    // what the JS path refused plus what the fast path is refusing now
    const f = { ...stream.input.failures };
    const native = call.ctx.kernel?.srtpFailures(stream);
    if (native) {
      f.auth += native.auth;
      f.replay += native.replay;
      f.invalid += native.invalid;
    }
    out.SRTP = f;
  }
  if (stream.control) {
    const c = stream.control;
    out['media control'] = {
      'media blocked': c.blockMedia ? 1 : 0,
      'media silenced': c.silence ? 1 : 0,
      'DTMF blocked': c.security !== null && c.security.mode !== 'off' ? 1 : 0,
      'DTMF-security': c.security?.mode ?? 'off',
      'DTMF detect': c.detect ? 1 : 0,
      'DTMF delay': c.delayMs,
      'blocked packets': c.counters.blocked,
      'silenced packets': c.counters.silenced,
      'malformed DTMF': c.counters.malformedDtmf,
      'DTMF events': c.counters.dtmfEvents,
      'in-band DTMF events': c.counters.detectedInband,
      'replaced DTMF packets': c.counters.replaced,
      'delayed DTMF packets': c.counters.delayed,
      'DTMF trigger switches': c.security?.switches ?? 0,
    };
  }
  // the optional parts below cost nothing for a plain stream (a delete reply has 4 streams per
  // call, and this runs for every delete): loops instead of filter/flatMap/reduce arrays
  let injected: SinkHandler[] | undefined;
  for (const s of stream.rtpSinks) if (s.inject !== null) (injected ??= []).push(s);
  if (injected) {
    out['DTMF injection'] = injected.map((s) => ({
      'generated packets': s.inject?.generated ?? 0,
      'replaced packets': s.inject?.replaced ?? 0,
      playing: s.inject?.playing ? 1 : 0,
    }));
  }
  let translated = 0;
  for (const s of stream.rtcpSinks) translated += s.rtcpTranslate?.translated ?? 0;
  if (translated > 0) out['translated RTCP'] = translated;
  if (stream.rtcpQuality && stream.rtcpQuality.malformed > 0) out['malformed RTCP'] = stream.rtcpQuality.malformed;
  let transcoding: ReturnType<typeof describeTranscoding> | undefined;
  for (const s of stream.rtpSinks) {
    if (!s.codec) continue;
    const d = describeTranscoding(s.codec);
    if (d.length > 0) (transcoding ??= []).push(...d);
  }
  if (transcoding) out.transcoding = transcoding;
  return out;
}

function mediaDict(call: Call, media: CallMedia): Dict {
  const flags: string[] = [];
  if (media.ports) flags.push('initialized');
  if (media.rtcpMux) flags.push('rtcp-mux');
  if (media.rejected) flags.push('rejected');
  if (media.dtls && media.dtls.phase !== 'offered') flags.push('DTLS-SRTP');
  else if (media.cryptoRecv || media.cryptoSend) flags.push('SDES');
  // rtpengine's media flag for ICE handled by the relay toward this participant
  if (media.ice) flags.push('ICE');
  return {
    index: media.index,
    type: media.type,
    protocol: media.protocol,
    direction: media.direction,
    flags,
    streams: [streamDict(call, media, media.rtp), streamDict(call, media, media.rtcp)],
  };
}

function tagDict(call: Call, m: Monologue): Dict {
  const out: Dict = {
    tag: m.tag,
    created: Math.floor(m.created / 1000),
    'in dialogue with': m.peer()?.tag ?? '',
    subscriptions: m.subscriptions.map((s) => ({ tag: s.tag, type: m.subscriptionKind(s) })),
    subscribers: m.subscribers.map((s) => ({ tag: s.tag, type: s.subscriptionKind(m) })),
    medias: [...m.medias].sort((a, b) => a.index - b.index).map((media) => mediaDict(call, media)),
  };
  if (m.label !== undefined) out.label = m.label;
  if (m.viaBranch !== undefined) out['via-branch'] = m.viaBranch;
  return out;
}

export function callStats(call: Call): Dict {
  const createdUs = call.created * 1000;
  // keyed by the participants' tags: a dictionary from the start (a literal would take a new
  // hidden class for every tag ever seen, which costs far more than a hash insert)
  const tags = Object.create(null) as Dict;
  for (const m of call.monologues) tags[m.tag] = tagDict(call, m);
  // per-SSRC entries: which participant sent it and on which media, and the quality its
  // receiver reports about it in RTCP (rtpengine's MOS / round-trip time / jitter / packet loss)
  const ssrc = Object.create(null) as Dict;
  for (const m of call.monologues) {
    for (const media of m.medias) {
      for (const id of media.rtp.ssrcIn.ssrcs()) ssrc[String(id)] = { tag: m.tag, 'media index': media.index, type: media.type };
    }
  }
  for (const stream of call.streams) {
    for (const q of stream.rtcpQuality?.bySsrc.values() ?? []) {
      const key = String(q.ssrc);
      ssrc[key] = { ...((ssrc[key] as Dict | undefined) ?? {}), ...qualityDict(q) };
    }
  }
  const out: Dict = {
    created: Math.floor(call.created / 1000),
    created_us: createdUs % 1_000_000,
    created_ts: createdUs,
    'last signal': Math.floor(call.lastSignal / 1000),
    'last redis update': 0,
    SSRC: ssrc,
    tags,
    totals: call.totals(),
  };
  // rtpengine reports its recording object once forwarding (or recording) was asked for
  if (call.control.forwardingSeen || call.monologues.some((m) => m.control.forwardingSeen)) {
    const fwd = call.control.forwarding || call.monologues.some((m) => m.control.forwarding);
    out.recording = { 'call recording': 0, forwarding: fwd ? 1 : 0 };
  }
  return out;
}

function sampleDict(s: QualitySample, withTime: boolean): Dict {
  const out: Dict = { MOS: s.mos, 'round-trip time': s.rttUs, jitter: s.jitterMs, 'packet loss': s.lossPercent };
  if (withTime) out['reported at'] = Math.floor(s.reportedAt / 1000);
  return out;
}

/** One SSRC's quality as rtpengine's query reports it (MOS × 10, RTT in µs, jitter in ms, loss in %). */
function qualityDict(q: SsrcQuality): Dict {
  const n = q.samples;
  const out: Dict = {
    'average MOS': {
      MOS: Math.round(q.sum.mos / n),
      'round-trip time': Math.round(q.sum.rttUs / n),
      jitter: Math.round(q.sum.jitterMs / n),
      'packet loss': Math.round(q.sum.lossPercent / n),
      samples: n,
    },
    'cumulative packets lost': q.cumulativeLost,
    'highest sequence received': q.highestSeq,
  };
  if (q.lowest) out['lowest MOS'] = sampleDict(q.lowest, true);
  if (q.highest) out['highest MOS'] = sampleDict(q.highest, true);
  return out;
}
