/** SDP bodies for one audio participant, and the relay ports read back from the daemon's SDP. */

export interface SdpOptions {
  /** add a=rtcp-mux */
  mux?: boolean;
  /** default sendrecv */
  direction?: string;
  /** add a=rtcp:PORT */
  rtcpPort?: number;
  /** o= session version, default 1 */
  version?: number;
  /** an a=crypto value: the m= line is then RTP/SAVP (SDES) */
  crypto?: string;
}

export function sdpFor(peer: { address: string; port: number }, opts: SdpOptions = {}): string {
  const ipv = peer.address.includes(':') ? 'IP6' : 'IP4';
  const lines = [
    'v=0',
    `o=- 1545997027 ${opts.version ?? 1} IN ${ipv} ${peer.address}`,
    's=tester',
    't=0 0',
    `m=audio ${peer.port} ${opts.crypto ? 'RTP/SAVP' : 'RTP/AVP'} 0 8`,
    `c=IN ${ipv} ${peer.address}`,
    `a=${opts.direction ?? 'sendrecv'}`,
  ];
  if (opts.rtcpPort !== undefined) lines.push(`a=rtcp:${opts.rtcpPort}`);
  if (opts.mux) lines.push('a=rtcp-mux');
  if (opts.crypto) lines.push(`a=crypto:${opts.crypto}`);
  return `${lines.join('\r\n')}\r\n`;
}

/** The first m= line's port, its RTCP port (a=rtcp, else port + 1) and the c= address. */
export function relayPortsOf(sdp: string): { rtp: number; rtcp: number; address: string } {
  const m = /^m=\w+ (\d+) /m.exec(sdp);
  const rtcp = /^a=rtcp:(\d+)/m.exec(sdp);
  const c = /^c=IN IP[46] (\S+)/m.exec(sdp);
  if (!m || !c) throw new Error(`no m=/c= in SDP:\n${sdp}`);
  const rtp = Number(m[1]);
  return { rtp, rtcp: rtcp ? Number(rtcp[1]) : rtp + 1, address: c[1] as string };
}

let callCounter = 0;

/** A call-id no other test or benchmark run uses. */
export function uniqueCallId(prefix = 'media'): string {
  return `${prefix}-${process.pid}-${++callCounter}-${Date.now()}`;
}
