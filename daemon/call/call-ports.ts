/**
 * A call's sockets and ports (rtpengine's stream_fd / __get_consecutive_ports side of call.c):
 * binding an RTP/RTCP pair for a media, the ICE host extras on the interface's other addresses,
 * sharing one transport between BUNDLE members, and giving all of it back.
 *
 * Owner and lifetime: everything opened here becomes the call's at once (`call.fds`,
 * `media.ports`, `media.iceHosts`, each leak-registered under the call-id) so teardown releases
 * it whatever happens next; nothing here keeps state of its own. Lock rule: called by commands
 * holding `call.write()` and by the call's own teardown. An allocation that finds the call torn
 * down after its awaits gives back what it opened itself and stops the command.
 */
import { NgCommandError, PortsExhaustedError } from '../errors.js';
import type { LeakHandle } from '../leak/registry.js';
import { streamPacket } from '../media/media-socket.js';
import { StreamFd, type PacketStream } from '../media/packet-stream.js';
import { LocalAddress, type OpenedPair } from '../net/interfaces.js';
import type { AddressFamily, MediaSocket, PacketHandler } from '../net/media-socket.js';
import type { CallMedia } from './call-media.js';
import type { Call } from './call.js';

/**
 * Binds an RTP/RTCP pair for `media`: on the interface the name `where` resolves to for
 * `family`, preferring the logical interface `prefer`, or on the local address `where` itself
 * (awaits: packets may be deferred meanwhile). A call found torn down when the sockets are open gets nothing: the pair is
 * closed and returned, and the command stops with "Unknown call-id".
 */
export async function allocatePorts(call: Call, media: CallMedia, where: LocalAddress | string | undefined, family?: AddressFamily, prefer?: string): Promise<void> {
  call.refuseIfDestroyed('port allocation');
  let rtpFd: StreamFd | null = null;
  let rtcpFd: StreamFd | null = null;
  const counters = call.ctx.counters;
  const onRtp: PacketHandler = (data, from) => { if (rtpFd) streamPacket(rtpFd, data, from, counters); };
  const onRtcp: PacketHandler = (data, from) => { if (rtcpFd) streamPacket(rtcpFd, data, from, counters); };
  const interfaces = call.ctx.interfaces;
  const allocations = call.ctx.allocations;
  // from the open to the register the addon counts sockets the registry does not hold yet
  allocations.begin();
  let fds: ReturnType<typeof adoptPair>;
  let local: LocalAddress;
  let port: number;
  try {
    const pair = where instanceof LocalAddress
      ? await interfaces.openPair(where, call.ctx.sockets, onRtp, onRtcp)
      : await interfaces.openFor(where, family, call.ctx.sockets, onRtp, onRtcp, prefer);
    local = pair.local;
    port = pair.port;
    if (call.destroyed) {
      // nothing of this allocation is registered yet: it gives back what it holds itself
      pair.rtp.close();
      pair.rtcp.close();
      local.pool.release(pair.port);
      call.log().warn('call torn down while its ports were being allocated; command stopped');
      throw new NgCommandError('UNKNOWN_CALL');
    }
    fds = adoptPair(call, media, pair);
  } finally {
    allocations.end();
  }
  rtpFd = fds.rtpFd;
  rtcpFd = fds.rtcpFd;
  media.rtp.selectedFd = rtpFd;
  media.rtcp.selectedFd = rtcpFd;
  media.ports = { local, port, leak: fds.leak };
}

/** An opened pair becomes the call's: registered StreamFds of `media`'s streams and a port reservation. */
function adoptPair(call: Call, media: CallMedia, pair: OpenedPair): { rtpFd: StreamFd; rtcpFd: StreamFd; leak: LeakHandle } {
  const leak = call.ctx.leaks.register('PortReservation', call.callId);
  const rtpFd = new StreamFd(media.rtp, pair.rtp, pair.local, call.ctx.leaks.register('StreamFd', call.callId));
  const rtcpFd = new StreamFd(media.rtcp, pair.rtcp, pair.local, call.ctx.leaks.register('StreamFd', call.callId));
  if (call.ctx.sockets.kind === 'native') {
    rtpFd.nativeLeak = call.ctx.leaks.register('NativeSocket', call.callId);
    rtcpFd.nativeLeak = call.ctx.leaks.register('NativeSocket', call.callId);
  }
  // owned by the call from here on: teardown releases them whatever happens next
  call.fds = call.fds.concat(rtpFd, rtcpFd);
  if (call.tos !== null) {
    pair.rtp.setTos(call.tos);
    pair.rtcp.setTos(call.tos);
  }
  return { rtpFd, rtcpFd, leak };
}

/**
 * ICE: a host candidate on every other address of the media's interface, as rtpengine offers
 * them all: a port pair on each, feeding the same streams. An address without a free pair is
 * left out (logged).
 */
export async function allocateIceHosts(call: Call, media: CallMedia): Promise<void> {
  const primary = media.ports?.local;
  if (!primary || media.bundleHead || !media.ice) return;
  for (const local of call.ctx.interfaces.addresses) {
    if (local.name !== primary.name || local === primary || media.iceHosts.some((h) => h.local === local)) continue;
    let fds: { rtpFd: StreamFd; rtcpFd: StreamFd } | null = null;
    const counters = call.ctx.counters;
    let pair: OpenedPair;
    try {
      pair = await call.ctx.interfaces.openPair(local, call.ctx.sockets,
        (data, from) => { if (fds) streamPacket(fds.rtpFd, data, from, counters); },
        (data, from) => { if (fds) streamPacket(fds.rtcpFd, data, from, counters); });
    } catch (err) {
      if (!(err instanceof PortsExhaustedError)) throw err;
      call.log().warn({ address: local.address }, 'no free port pair for an ICE host candidate on this address');
      continue;
    }
    if (call.destroyed || !media.ports || !media.ice) {
      pair.rtp.close();
      pair.rtcp.close();
      local.pool.release(pair.port);
      if (call.destroyed) throw new NgCommandError('UNKNOWN_CALL');
      continue;
    }
    const adopted = adoptPair(call, media, pair);
    fds = adopted;
    media.iceHosts.push({ local, port: pair.port, leak: adopted.leak, rtpFd: adopted.rtpFd, rtcpFd: adopted.rtcpFd });
    media.ice.localsChanged();
  }
}

/** The fds of `stream` that are not ICE host extras (its primary socket), if any. */
export function primaryFd(call: Call, media: CallMedia, stream: PacketStream): StreamFd | null {
  return call.fds.find((f) => f.stream === stream && !media.iceHosts.some((h) => h.rtpFd === f || h.rtcpFd === f)) ?? null;
}

/** Every local socket of a media's component: the primary, then the ICE host extras. */
export function hostSockets(call: Call, media: CallMedia, component: number): MediaSocket[] {
  const stream = component === 1 ? media.rtp : media.rtcp;
  const primary = primaryFd(call, media, stream);
  const extras = media.iceHosts.map((h) => (component === 1 ? h.rtpFd : h.rtcpFd).socket);
  return primary ? [primary.socket, ...extras] : extras;
}

/** Closes a media's ICE host extras (its streams send from the primary socket again). */
export function releaseIceHosts(call: Call, media: CallMedia): void {
  if (media.iceHosts.length === 0) return;
  for (const stream of [media.rtp, media.rtcp]) {
    if (media.iceHosts.some((h) => h.rtpFd === stream.selectedFd || h.rtcpFd === stream.selectedFd)) {
      call.ctx.kernel?.remove(stream);
      stream.selectedFd = primaryFd(call, media, stream);
    }
  }
  for (const h of media.iceHosts) {
    for (const fd of [h.rtpFd, h.rtcpFd]) {
      closeFd(call, fd);
      const i = call.fds.indexOf(fd);
      if (i >= 0) call.fds.splice(i, 1);
    }
    h.local.pool.release(h.port);
    call.release('PortReservation', h.leak, h);
  }
  media.iceHosts = [];
}


/**
 * BUNDLE: `member` uses `head`'s transport from now on (its own ports, if any, are returned
 * first); it owns nothing of it, so releasing it never closes the head's sockets.
 */
export function shareTransport(call: Call, member: CallMedia, head: CallMedia): void {
  call.refuseIfDestroyed('bundle');
  const fd = head.rtp.selectedFd;
  if (member.bundleHead === head && member.rtp.selectedFd === fd && member.ports === head.ports) return;
  releasePorts(call, member);
  call.closeIce(member);
  member.bundleHead = head;
  member.ports = head.ports;
  // BUNDLE requires rtcp-mux: RTCP goes through the head's RTP socket too
  member.rtp.selectedFd = fd;
  member.rtcp.selectedFd = fd;
}

/** A BUNDLE member stops using its head's transport (it gets ports of its own next). */
function unshareTransport(call: Call, member: CallMedia): void {
  for (const stream of [member.rtp, member.rtcp]) {
    call.ctx.kernel?.remove(stream);
    stream.selectedFd = null;
  }
  member.ports = null;
  member.bundleHead = null;
}

/** Closes a media's sockets and returns its ports (re-offer moving interfaces, media removal). */
export function releasePorts(call: Call, media: CallMedia): void {
  if (media.bundleHead) {
    unshareTransport(call, media);
    return;
  }
  // BUNDLE members using this media's transport lose it with it
  for (const m of call.medias) if (m.bundleHead === media) unshareTransport(call, m);
  releaseIceHosts(call, media);
  for (const stream of [media.rtp, media.rtcp]) {
    const fd = stream.selectedFd;
    if (!fd) continue;
    call.ctx.kernel?.remove(stream);
    closeFd(call, fd);
    stream.selectedFd = null;
    const i = call.fds.indexOf(fd);
    if (i >= 0) call.fds.splice(i, 1);
  }
  if (media.ports) {
    media.ports.local.pool.release(media.ports.port);
    call.release('PortReservation', media.ports.leak, media.ports);
    media.ports = null;
  }
}

export function closeFd(call: Call, fd: StreamFd): void {
  fd.stream = null; // the socket's callback can no longer reach the call
  fd.socket.close();
  if (fd.nativeLeak) call.release('NativeSocket', fd.nativeLeak, fd.socket);
  call.release('StreamFd', fd.leak, fd);
}
