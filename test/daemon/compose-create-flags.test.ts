/**
 * `create` honours the transport flags as an offer does (they go through the offer's own code,
 * the created participant standing on both sides): `transport-protocol` RTP/SAVP with the SDES
 * flags gives a=crypto lines, the `create answer` picks one and media is SRTP toward the created
 * party (checked with libsrtp); `ICE=force` gives our ICE credentials and candidates, `ICE-lite`
 * the session attribute, and an answer without ICE falls back to plain media; `OSRTP=offer` on
 * RTP/AVP. Zero-leak assertion at the end.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, type DaemonHandle } from '../helpers/daemon.js';
import { expectNoLeaks } from '../helpers/leaks.js';
import { LibSrtpPeer } from '../helpers/libsrtp-peer.js';
import { deleteCall, relayPortsOf, uniqueCallId } from '../helpers/media-call.js';
import { RtpPeer, rtpPacket } from '../helpers/rtp-peer.js';

function answerSdp(peer: RtpPeer, proto = 'RTP/AVP', extra: string[] = []): string {
  return ['v=0', `o=- 7 1 IN IP4 ${peer.address}`, 's=-', 't=0 0', `m=audio ${peer.port} ${proto} 8`,
    `c=IN IP4 ${peer.address}`, 'a=sendrecv', ...extra, ''].join('\r\n');
}

describe('create with transport flags', () => {
  let d: DaemonHandle;
  let lib: LibSrtpPeer;
  const peers: RtpPeer[] = [];

  beforeAll(async () => {
    d = await startDaemon([]);
    lib = new LibSrtpPeer();
  });

  afterAll(async () => {
    lib.close();
    for (const p of peers) p.close();
    await expectNoLeaks(d);
  });

  async function peer(): Promise<RtpPeer> {
    const p = await RtpPeer.open();
    peers.push(p);
    return p;
  }

  it('RTP/SAVP with SDES-only: one a=crypto line; the answer picks it and media toward the party is SRTP', async () => {
    const [px, py] = [await peer(), await peer()];
    const callId = uniqueCallId('create-sdes');
    const cx = await d.ng.request({ command: 'create', 'call-id': callId, 'from-tag': 'x', 'transport-protocol': 'RTP/SAVP', SDES: ['only-AES_CM_128_HMAC_SHA1_80'] });
    expect(cx.result).toBe('ok');
    const sdp = cx.sdp as string;
    expect(sdp).toMatch(/^m=audio \d+ RTP\/SAVP 8 0\r?$/m);
    const lines = [...sdp.matchAll(/^a=crypto:(\d+) (\S+) inline:(\S+)\r?$/gm)];
    expect(lines.map((l) => l[2])).toEqual(['AES_CM_128_HMAC_SHA1_80']);
    const ourKey = Buffer.from(lines[0]![3]!, 'base64');
    const peerKey = randomBytes(30);
    const ax = await d.ng.request({ command: 'create answer', 'call-id': callId, 'from-tag': 'x',
      sdp: answerSdp(px, 'RTP/SAVP', [`a=crypto:${lines[0]![1]} AES_CM_128_HMAC_SHA1_80 inline:${peerKey.toString('base64')}`]) });
    expect(ax.result).toBe('ok');
    const cy = await d.ng.request({ command: 'create', 'call-id': callId, 'from-tag': 'y' });
    expect(cy.sdp).not.toMatch(/a=crypto/);
    await d.ng.request({ command: 'create answer', 'call-id': callId, 'from-tag': 'y', sdp: answerSdp(py) });
    expect((await d.ng.request({ command: 'connect', 'call-id': callId, 'from-tag': 'x', 'to-tag': 'y' })).result).toBe('ok');
    const q = await d.ng.request({ command: 'query', 'call-id': callId });
    expect(q.tags.x.medias[0].flags).toContain('SDES');
    // y (plain) → x (SRTP with the key we offered x)
    const plain = rtpPacket(10, { ssrc: 0x1111, pt: 8, payload: Buffer.alloc(160, 0xd5) });
    py.send(plain, relayPortsOf(cy.sdp as string).rtp);
    const got = await px.waitFor(1);
    expect(got.length).toBe(1);
    expect(got[0]!.data.length).toBe(plain.length + 10);
    const rx = await lib.session('AES_CM_128_HMAC_SHA1_80', 'in', ourKey);
    expect(await lib.rtp(rx, got[0]!.data)).toEqual(plain);
    // x (SRTP with its own key) → y (plain)
    const tx = await lib.session('AES_CM_128_HMAC_SHA1_80', 'out', peerKey);
    const sent = rtpPacket(20, { ssrc: 0x2222, pt: 8, payload: Buffer.alloc(160, 0x55) });
    px.send((await lib.rtp(tx, sent)) as Buffer, relayPortsOf(sdp).rtp);
    const back = await py.waitFor(1);
    expect(back[0]!.data.equals(sent)).toBe(true);
    await deleteCall(d, callId);
  });

  it('ICE=force gives our ICE; an answer with ICE keeps the agent, one without falls back to plain media', async () => {
    const [pi, pj] = [await peer(), await peer()];
    const callId = uniqueCallId('create-ice');
    const ci = await d.ng.request({ command: 'create', 'call-id': callId, 'from-tag': 'i', ICE: 'force' });
    const sdp = ci.sdp as string;
    expect(sdp).toMatch(/^a=ice-ufrag:\S+\r?$/m);
    expect(sdp).toMatch(/^a=ice-pwd:\S+\r?$/m);
    expect(sdp).toMatch(/^a=candidate:\S+ 1 UDP \d+ 127\.0\.0\.1 \d+ typ host\r?$/m);
    expect(sdp).toMatch(/^a=end-of-candidates\r?$/m);
    expect(sdp).not.toMatch(/^a=ice-lite/m);
    // the default (no ICE key): none, as no incoming SDP had ICE
    const cj = await d.ng.request({ command: 'create', 'call-id': callId, 'from-tag': 'j' });
    expect(cj.sdp).not.toMatch(/ice-ufrag/);
    // ICE-lite toward the created party
    const cl = await d.ng.request({ command: 'create', 'call-id': callId, 'from-tag': 'l', ICE: 'force', 'ICE-lite': 'forward' });
    expect(cl.sdp).toMatch(/^a=ice-lite\r?$/m);
    await d.ng.request({ command: 'create answer', 'call-id': callId, 'from-tag': 'l',
      sdp: answerSdp(pj, 'RTP/AVP', ['a=ice-ufrag:abcd', 'a=ice-pwd:abcdefghijklmnopqrstuv', `a=candidate:1 1 UDP 2130706431 127.0.0.1 ${pj.port} typ host`]) });
    let q = await d.ng.request({ command: 'query', 'call-id': callId });
    expect(q.tags.i.medias[0].flags).toContain('ICE');
    expect(q.tags.l.medias[0].flags).toContain('ICE');
    // i answers without ICE: its agent goes, media is plain
    await d.ng.request({ command: 'create answer', 'call-id': callId, 'from-tag': 'i', sdp: answerSdp(pi) });
    await d.ng.request({ command: 'create answer', 'call-id': callId, 'from-tag': 'j', sdp: answerSdp(pj) });
    q = await d.ng.request({ command: 'query', 'call-id': callId });
    expect(q.tags.i.medias[0].flags).not.toContain('ICE');
    await d.ng.request({ command: 'connect', 'call-id': callId, 'from-tag': 'i', 'to-tag': 'j' });
    const p = rtpPacket(1, { ssrc: 0x77, pt: 8 });
    pj.send(p, relayPortsOf(cj.sdp as string).rtp);
    const got = await pi.waitFor(1);
    expect(got[0]!.data.equals(p)).toBe(true);
    await deleteCall(d, callId);
  });

  it('DTLS: UDP/TLS/RTP/SAVPF gives our fingerprint and a=setup (no a=crypto); DTLS=passive and DTLS-fingerprint as in an offer', async () => {
    const p = await peer();
    const callId = uniqueCallId('create-dtls');
    const c = await d.ng.request({ command: 'create', 'call-id': callId, 'from-tag': 'w', 'transport-protocol': 'UDP/TLS/RTP/SAVPF', ICE: 'force' });
    expect(c.result, JSON.stringify(c)).toBe('ok');
    const sdp = c.sdp as string;
    expect(sdp).toMatch(/^m=audio \d+ UDP\/TLS\/RTP\/SAVPF 8 0\r?$/m);
    expect(sdp).toMatch(/^a=setup:actpass\r?$/m);
    expect(sdp).toMatch(/^a=fingerprint:sha-256 [0-9A-F:]{95}\r?$/m);
    expect(sdp).not.toMatch(/a=crypto/);
    const passive = await d.ng.request({ command: 'create', 'call-id': callId, 'from-tag': 'v', 'transport-protocol': 'UDP/TLS/RTP/SAVP', DTLS: 'passive', 'DTLS-fingerprint': 'SHA-1' });
    expect(passive.sdp).toMatch(/^a=setup:passive\r?$/m);
    expect(passive.sdp).toMatch(/^a=fingerprint:sha-1 [0-9A-F:]{59}\r?$/m);
    // SDES keys an RTP/SAVP offer: no DTLS unless asked for
    const sdes = await d.ng.request({ command: 'create', 'call-id': callId, 'from-tag': 'u', 'transport-protocol': 'RTP/SAVP' });
    expect(sdes.sdp).toMatch(/a=crypto:1 /);
    expect(sdes.sdp).not.toMatch(/a=fingerprint/);
    // the party answers active with its own fingerprint: taken as an offer's answer is
    const fp = Array.from({ length: 32 }, () => 'AB').join(':');
    const a = await d.ng.request({ command: 'create answer', 'call-id': callId, 'from-tag': 'w',
      sdp: answerSdp(p, 'UDP/TLS/RTP/SAVPF', ['a=setup:active', `a=fingerprint:sha-256 ${fp}`]) });
    expect(a.result, JSON.stringify(a)).toBe('ok');
    await deleteCall(d, callId);
  });

  it('OSRTP=offer puts a=crypto on RTP/AVP; SDES=off with RTP/SAVP offers no lines', async () => {
    const callId = uniqueCallId('create-osrtp');
    const c1 = await d.ng.request({ command: 'create', 'call-id': callId, 'from-tag': 'o', OSRTP: ['offer'] });
    expect(c1.sdp).toMatch(/^m=audio \d+ RTP\/AVP 8 0\r?$/m);
    expect(c1.sdp).toMatch(/^a=crypto:1 AEAD_AES_256_GCM inline:/m);
    const c2 = await d.ng.request({ command: 'create', 'call-id': callId, 'from-tag': 'p', 'transport-protocol': 'RTP/SAVP', SDES: ['off'] });
    expect(c2.sdp).not.toMatch(/a=crypto/);
    await deleteCall(d, callId);
  });
});
