/**
 * streamPacket(): where a packet's handling starts (rtpengine's stream_packet). It operates on
 * the StreamFd the packet arrived on, under the call's read side: if a signalling command holds
 * the write lock, the packet is deferred and handled in order once the writer releases.
 *
 * Steps (docs/pipeline.md): classify (RFC 7983: STUN → the stream's ICE hook, DTLS → its DTLS
 * hook, RTP/RTCP validation) → input handler (plain, or SRTP decrypt: before learning, so a
 * forged packet teaches nothing) → endpoint learning → stats and per-SSRC input state → every
 * sink of the RTP or RTCP list: codec handler by payload type (none: pass-through), then the
 * sink's per-SSRC output state, output handler and send.
 */
import { PLAIN } from '../crypto/plain.js';
import type { SsrcContext } from '../codec/ssrc.js';
import type { Counters } from '../stats/counters.js';
import { classifyPacket, MAX_PACKET_SIZE, PacketKind, rtpPayloadType } from './rtp.js';
import { sameEndpoint, type Endpoint, type PacketStream, type StreamFd } from './packet-stream.js';

/** rtpengine's learning window for delayed and heuristic learning. */
export const LEARNING_WINDOW_MS = 3000;

export function streamPacket(fd: StreamFd, data: Buffer, from: Endpoint, counters: Counters, now = Date.now()): void {
  let stream = fd.stream;
  if (!stream) return; // fd already detached at teardown: nothing may reach a dead call
  if (stream.gate.writeLocked) {
    if (!stream.gate.defer(fd, data, from)) counters.add('droppedDeferredOverflow');
    return;
  }
  const kind = stream.plainUdp
    ? (data.length === 0 || data.length > MAX_PACKET_SIZE ? PacketKind.Invalid : PacketKind.Rtp)
    : classifyPacket(data, stream.isRtcp, stream.rtcpMux);
  if (kind === PacketKind.Stun && stream.stun !== null && stream.stun.stun(data, from, fd.socket)) return;
  if (kind === PacketKind.Dtls && stream.dtls !== null && stream.dtls.dtls(data, from, fd.socket)) return;
  if (kind === PacketKind.Stun && stream.stunPassthrough) {
    relayStun(stream, data, from, now);
    return;
  }
  if (kind === PacketKind.Invalid || kind === PacketKind.Dtls || kind === PacketKind.Stun) {
    // STUN/DTLS without a hook on this stream: counted, never forwarded
    stream.stats.errors++;
    counters.add('droppedInvalidPackets');
    return;
  }
  if (stream.bundle !== null) {
    // BUNDLE: the m= line this packet belongs to takes it from here (RFC 8843 section 9.2)
    const target = stream.bundle.route(data, kind);
    if (target === null) {
      stream.stats.errors++;
      counters.add('droppedInvalidPackets');
      return;
    }
    stream = target;
  }
  const rtp = kind === PacketKind.Rtp && !stream.plainUdp;
  let pkt: Buffer | null = data;
  let ssrc: SsrcContext | null = null;
  const input = stream.input;
  if (input !== PLAIN) {
    if (rtp) {
      ssrc = stream.ssrcIn.get(data.readUInt32BE(8));
      pkt = input.rtp(data, ssrc);
    } else if (kind === PacketKind.Rtcp) {
      pkt = input.rtcp(data);
    }
    if (pkt === null) {
      stream.stats.errors++;
      counters.add('droppedInvalidPackets');
      return;
    }
  }
  if (!learnEndpoint(stream, from, now)) {
    stream.stats.errors++;
    counters.add('droppedStrictSource');
    return;
  }
  const stats = stream.stats;
  stats.packets++;
  stats.bytes += data.length;
  stats.lastPacketMs = now;

  if (kind === PacketKind.Rtcp) {
    if (stream.rtcpQuality !== null && !stream.rtcpQuality.receive(pkt, now)) {
      // report counts or lengths that overrun the packet: counted, never relayed
      stats.errors++;
      counters.add('droppedInvalidPackets');
      return;
    }
    if (stream.consumeRtcp) return;
    const sinks = stream.rtcpSinks;
    for (let i = 0; i < sinks.length; i++) {
      const sink = sinks[i]!;
      sink.sendRtcp(sink.rtcpTranslate === null ? pkt : sink.rtcpTranslate.translate(pkt));
    }
    return;
  }
  const sinks = stream.rtpSinks;
  if (!rtp) {
    for (let i = 0; i < sinks.length; i++) sinks[i]!.sendRaw(pkt);
    return;
  }
  if (ssrc === null) ssrc = stream.ssrcIn.get(data.readUInt32BE(8));
  ssrc.count(data);
  ssrc.arrival(now, stream.clockRate);
  const control = stream.control;
  if (control !== null) {
    const kept = control.filter(pkt, from, now);
    if (kept === null) {
      // a transcoder ordering by sequence number must not wait for what we dropped ourselves
      for (let i = 0; i < sinks.length; i++) sinks[i]!.codec?.skipped(pkt);
      return;
    }
    pkt = kept;
  }
  for (let i = 0; i < sinks.length; i++) {
    const sink = sinks[i]!;
    const codec = sink.codec;
    if (codec === null) sink.sendRtp(pkt);
    else codec.dispatch(pkt, ssrc);
  }
}

/**
 * `ICE=force-relay`: the peers run ICE end to end through our relay candidates; their STUN is
 * relayed to the other side as it is (it teaches us where the peer is, like media does).
 */
function relayStun(stream: PacketStream, data: Buffer, from: Endpoint, now: number): void {
  if (!learnEndpoint(stream, from, now)) return;
  const sinks = stream.isRtcp ? stream.rtcpSinks : stream.rtpSinks;
  for (let i = 0; i < sinks.length; i++) sinks[i]!.sendRaw(data);
}

/**
 * Endpoint learning (rtpengine's modes): returns false when the packet must be dropped
 * (strict-source and not from the confirmed endpoint).
 */
export function learnEndpoint(stream: PacketStream, from: Endpoint, now: number): boolean {
  if (stream.confirmed) {
    if (sameEndpoint(stream.endpoint, from.address, from.port)) return true;
    if (stream.mediaHandover) {
      stream.endpoint = { ...from };
      stream.gate.endpointChanged(stream);
      return true;
    }
    return !stream.strictSource;
  }
  const sdp = stream.advertisedEndpoint;
  switch (stream.learning) {
    case 'off':
      // Media goes to the SDP address; learning never happens. Strict-source still applies.
      stream.confirmed = sdp !== null;
      return !stream.strictSource || sameEndpoint(sdp, from.address, from.port) || sdp === null;
    case 'immediate':
      confirm(stream, from);
      return true;
    case 'delayed': {
      if (stream.firstPacketMs === 0) stream.firstPacketMs = now;
      if (sameEndpoint(sdp, from.address, from.port) || now - stream.firstPacketMs >= LEARNING_WINDOW_MS) {
        confirm(stream, from);
      } else if (!sameEndpoint(stream.endpoint, from.address, from.port)) {
        stream.endpoint = { ...from };
        stream.gate.endpointChanged(stream);
      }
      return true;
    }
    case 'heuristic': {
      if (stream.firstPacketMs === 0) stream.firstPacketMs = now;
      const score = sdp === null ? 1
        : sdp.address === from.address && sdp.port === from.port ? 4
        : sdp.address === from.address ? 3
        : sdp.port === from.port ? 2 : 1;
      if (score > stream.learnScore) {
        stream.learnScore = score;
        if (!sameEndpoint(stream.endpoint, from.address, from.port)) {
          stream.endpoint = { ...from };
          stream.gate.endpointChanged(stream);
        }
      }
      if (score === 4 || now - stream.firstPacketMs >= LEARNING_WINDOW_MS) stream.confirmed = true;
      return true;
    }
  }
}

function confirm(stream: PacketStream, from: Endpoint): void {
  const changed = !sameEndpoint(stream.endpoint, from.address, from.port);
  stream.endpoint = { ...from };
  stream.confirmed = true;
  if (changed || !stream.kernelized) stream.gate.endpointChanged(stream);
}
