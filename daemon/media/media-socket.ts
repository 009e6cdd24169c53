/**
 * streamPacket(): where a packet's handling starts (rtpengine's stream_packet). It operates on
 * the StreamFd the packet arrived on, under the call's read side: if a signalling command holds
 * the write lock, the packet is deferred and handled in order once the writer releases.
 *
 * Steps: classify (STUN/DTLS/RTP/RTCP, validation) → SRTP/SRTCP decrypt + authenticate (a
 * packet that fails is counted and dropped before it can teach an endpoint) → endpoint
 * learning → stats → every sink of the RTP or RTCP list: SRTP encrypt toward the sink if it
 * speaks SRTP, send from the sink's selected fd to its endpoint.
 */
import type { Counters } from '../stats/counters.js';
import type { SrtpFailure } from '../crypto/srtp.js';
import { classifyPacket, MAX_PACKET_SIZE, PacketKind, rtpSsrc } from './rtp.js';
import { MAX_SSRCS, sameEndpoint, type Endpoint, type PacketStream, type StreamFd } from './packet-stream.js';

/** rtpengine's learning window for delayed and heuristic learning. */
export const LEARNING_WINDOW_MS = 3000;

export function streamPacket(fd: StreamFd, data: Buffer, from: Endpoint, counters: Counters, now = Date.now()): void {
  const stream = fd.stream;
  if (!stream) return; // fd already detached at teardown: nothing may reach a dead call
  if (stream.gate.writeLocked) {
    if (!stream.gate.defer(fd, data, from)) counters.add('droppedDeferredOverflow');
    return;
  }
  const kind = stream.plainUdp
    ? (data.length === 0 || data.length > MAX_PACKET_SIZE ? PacketKind.Invalid : PacketKind.Rtp)
    : classifyPacket(data, stream.isRtcp, stream.rtcpMux);
  if (kind === PacketKind.Invalid || kind === PacketKind.Dtls || kind === PacketKind.Stun) {
    // No ICE/DTLS on this path yet: such packets are counted, never forwarded.
    stream.stats.errors++;
    counters.add('droppedInvalidPackets');
    return;
  }
  let pkt = data;
  const srtpIn = stream.srtpIn;
  if (srtpIn) {
    const plain = kind === PacketKind.Rtcp ? srtpIn.unprotectRtcp(data) : srtpIn.unprotectRtp(data);
    if (typeof plain === 'string') {
      stream.stats.errors++;
      counters.add(SRTP_DROP[plain]);
      return;
    }
    pkt = plain;
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
  if (kind === PacketKind.Rtp && !stream.plainUdp && stream.ssrcs.size < MAX_SSRCS) stream.ssrcs.add(rtpSsrc(pkt));

  const sinks = kind === PacketKind.Rtcp ? stream.rtcpSinks : stream.rtpSinks;
  for (let i = 0; i < sinks.length; i++) {
    const dst = (sinks[i] as { dst: PacketStream }).dst;
    const ep = dst.sendable();
    const out = dst.selectedFd;
    if (!ep || !out) {
      counters.add('droppedNoSink');
      continue;
    }
    const srtpOut = dst.srtpOut;
    let wire: Buffer | null = pkt;
    if (srtpOut) wire = kind === PacketKind.Rtcp ? srtpOut.protectRtcp(pkt) : srtpOut.protectRtp(pkt);
    if (!wire) {
      counters.add('droppedSrtpInvalid');
      continue;
    }
    if (!out.socket.send(wire, ep.port, ep.address)) counters.add('sendErrors');
  }
}

const SRTP_DROP = {
  auth: 'droppedSrtpAuth',
  replay: 'droppedSrtpReplay',
  short: 'droppedSrtpInvalid',
  mki: 'droppedSrtpInvalid',
} as const satisfies Record<SrtpFailure, string>;

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
