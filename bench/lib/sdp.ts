/** SDP bodies for the benchmarks' calls and reading the relay ports back from the daemon's SDP. */
/** `crypto`: an a=crypto value; the m= line is then RTP/SAVP. */
export function sdpFor(address: string, port: number, version = 1, crypto?: string): string {
  const ipv = address.includes(':') ? 'IP6' : 'IP4';
  return [
    'v=0',
    `o=- 1545997027 ${version} IN ${ipv} ${address}`,
    's=bench',
    't=0 0',
    `m=audio ${port} ${crypto ? 'RTP/SAVP' : 'RTP/AVP'} 0 8`,
    `c=IN ${ipv} ${address}`,
    'a=sendrecv',
    ...(crypto ? [`a=crypto:${crypto}`] : []),
    '',
  ].join('\r\n');
}

export function relayPortOf(sdp: string): number {
  const m = /^m=\w+ (\d+) /m.exec(sdp);
  if (!m) throw new Error(`no m= line in SDP:\n${sdp}`);
  return Number(m[1]);
}
