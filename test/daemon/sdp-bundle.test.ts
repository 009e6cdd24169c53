/**
 * The SDP side of WebRTC through a real daemon, auto-daemon style (PORT, ICEUFRAG, ICEPWD,
 * ICEBASE placeholders): BUNDLE (`bundle`: accept, offer, require, strict), a=mid and
 * `generate mid`, AVPF/a=rtcp-fb, a=extmap (and `strip extmap`), a=ssrc/a=msid pass-through,
 * the `WebRTC` shortcut, `ICE=force-relay`, and trickle ICE over ng (`fragment`): a trickled
 * candidate is checked by the relay's agent over real UDP. Ends with the zero-leak assertion.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeStun, METHOD_BINDING, StunClass } from '../../daemon/ice/stun.js';
import { AutoTest } from '../helpers/autotest.js';
import { startDaemon, type DaemonHandle } from '../helpers/daemon.js';
import { expectNoLeaks } from '../helpers/leaks.js';
import { RtpPeer } from '../helpers/rtp-peer.js';

let d: DaemonHandle;
let t: AutoTest;
const peers: RtpPeer[] = [];

beforeAll(async () => {
  d = await startDaemon();
  t = new AutoTest(d);
});

afterAll(async () => {
  for (const p of peers) p.close();
  await t.cleanup();
  await expectNoLeaks(d);
  await d.stop();
});

const sep = '----------------------------------';

/** A browser-like bundled offer: audio and video on one port, mids, MID extension, ssrc/msid, rtcp-fb, ICE. */
const bundledOffer = `
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
a=group:BUNDLE 0 1
a=msid-semantic: WMS stream1
m=audio 2000 RTP/AVPF 111 0
c=IN IP4 198.51.100.1
a=mid:0
a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid
a=rtpmap:111 opus/48000/2
a=rtcp-fb:111 transport-cc
a=fmtp:111 minptime=10;useinbandfec=1
a=ssrc:1111 cname:abc
a=msid:stream1 audio1
a=sendrecv
a=rtcp-mux
a=ice-ufrag:abcd
a=ice-pwd:abcdefghijklmnopqrstuvwx
a=candidate:1 1 UDP 2130706431 198.51.100.1 2000 typ host
m=video 2000 RTP/AVPF 96
c=IN IP4 198.51.100.1
a=mid:1
a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid
a=rtpmap:96 VP8/90000
a=rtcp-fb:96 nack
a=rtcp-fb:96 nack pli
a=ssrc:2222 cname:abc
a=msid:stream1 video1
a=sendrecv
a=rtcp-mux
a=ice-ufrag:abcd
a=ice-pwd:abcdefghijklmnopqrstuvwx
a=candidate:1 1 UDP 2130706431 198.51.100.1 2000 typ host
`;

const plainAnswer = `
v=0
o=- 1545997028 1 IN IP4 198.51.100.3
s=tester
t=0 0
m=audio 3000 RTP/AVP 111 0
c=IN IP4 198.51.100.3
a=rtpmap:111 opus/48000/2
a=sendrecv
m=video 3002 RTP/AVP 96
c=IN IP4 198.51.100.3
a=rtpmap:96 VP8/90000
a=sendrecv
`;

describe('BUNDLE', () => {
  it('default: a bundled offer is taken as unbundled; no group goes out', async () => {
    t.newCall();
    const caps = await t.offer('bundle ignored', { ICE: 'remove' }, `${bundledOffer}${sep}
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
a=msid-semantic: WMS stream1
m=audio PORT RTP/AVPF 111 0
c=IN IP4 127.0.0.1
a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid
a=ssrc:1111 cname:abc
a=msid:stream1 audio1
a=mid:0
a=rtpmap:111 opus/48000/2
a=fmtp:111 minptime=10;useinbandfec=1
a=rtcp-fb:111 transport-cc
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
a=rtcp-mux
m=video PORT RTP/AVPF 96
c=IN IP4 127.0.0.1
a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid
a=ssrc:2222 cname:abc
a=msid:stream1 video1
a=mid:1
a=rtpmap:96 VP8/90000
a=rtcp-fb:96 nack
a=rtcp-fb:96 nack pli
a=sendrecv
a=rtcp:PORT
a=rtcp-mux
`);
    expect(caps[0]).not.toBe(caps[2]);
    const ans = await t.answer('bundle ignored answer', {}, `${plainAnswer}${sep}
v=0
o=- 1545997028 1 IN IP4 198.51.100.3
s=tester
t=0 0
m=audio PORT RTP/AVPF 111 0
c=IN IP4 127.0.0.1
a=mid:0
a=rtpmap:111 opus/48000/2
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
a=ice-ufrag:ICEUFRAG
a=ice-pwd:ICEPWD
a=ice-options:trickle
a=candidate:ICEBASE 1 UDP 2130706431 127.0.0.1 PORT typ host
a=candidate:ICEBASE 2 UDP 2130706430 127.0.0.1 PORT typ host
a=end-of-candidates
m=video PORT RTP/AVPF 96
c=IN IP4 127.0.0.1
a=mid:1
a=rtpmap:96 VP8/90000
a=sendrecv
a=rtcp:PORT
a=ice-ufrag:ICEUFRAG
a=ice-pwd:ICEPWD
a=ice-options:trickle
a=candidate:ICEBASE 1 UDP 2130706431 127.0.0.1 PORT typ host
a=candidate:ICEBASE 2 UDP 2130706430 127.0.0.1 PORT typ host
a=end-of-candidates
`);
    // the answerer did not mux: RTCP toward the offerer is on its own port again
    expect(ans[0]).not.toBe(ans[9]);
  });

  it('accept: the answer to the bundled offerer is bundled (one port, ICE on the tagged line); the offer passed on is not', async () => {
    t.newCall();
    await t.offer('bundle accept', { bundle: ['accept'], ICE: 'remove', 'transport-protocol': 'RTP/AVP' }, `${bundledOffer}${sep}
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
a=msid-semantic: WMS stream1
m=audio PORT RTP/AVP 111 0
c=IN IP4 127.0.0.1
a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid
a=ssrc:1111 cname:abc
a=msid:stream1 audio1
a=mid:0
a=rtpmap:111 opus/48000/2
a=fmtp:111 minptime=10;useinbandfec=1
a=rtcp-fb:111 transport-cc
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
a=rtcp-mux
m=video PORT RTP/AVP 96
c=IN IP4 127.0.0.1
a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid
a=ssrc:2222 cname:abc
a=msid:stream1 video1
a=mid:1
a=rtpmap:96 VP8/90000
a=rtcp-fb:96 nack
a=rtcp-fb:96 nack pli
a=sendrecv
a=rtcp:PORT
a=rtcp-mux
`);
    const caps = await t.answer('bundle accept answer', {}, `${plainAnswer}${sep}
v=0
o=- 1545997028 1 IN IP4 198.51.100.3
s=tester
t=0 0
a=group:BUNDLE 0 1
m=audio PORT RTP/AVPF 111 0
c=IN IP4 127.0.0.1
a=mid:0
a=rtpmap:111 opus/48000/2
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
a=rtcp-mux
a=ice-ufrag:ICEUFRAG
a=ice-pwd:ICEPWD
a=ice-options:trickle
a=candidate:ICEBASE 1 UDP 2130706431 127.0.0.1 PORT typ host
a=end-of-candidates
m=video PORT RTP/AVPF 96
c=IN IP4 127.0.0.1
a=mid:1
a=rtpmap:96 VP8/90000
a=sendrecv
a=rtcp:PORT
a=rtcp-mux
`);
    const [audio, audioRtcp, , , , candPort, video, videoRtcp] = caps;
    expect(new Set([audio, audioRtcp, candPort, video, videoRtcp]).size).toBe(1);
    // the callee re-offers (no bundle flags): the bundle the caller uses stays, with its mids
    t.reverseTags();
    const re = await t.offer('bundle kept in a reverse re-offer', {}, `${plainAnswer.replace(' 1 IN IP4 198.51.100.3', ' 2 IN IP4 198.51.100.3')}${sep}
v=0
o=- 1545997028 2 IN IP4 198.51.100.3
s=tester
t=0 0
a=group:BUNDLE 0 1
m=audio PORT RTP/AVP 111 0
c=IN IP4 127.0.0.1
a=mid:0
a=rtpmap:111 opus/48000/2
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
a=rtcp-mux
m=video PORT RTP/AVP 96
c=IN IP4 127.0.0.1
a=mid:1
a=rtpmap:96 VP8/90000
a=sendrecv
a=rtcp:PORT
a=rtcp-mux
`);
    // (no ICE: the re-offer had none and no `ICE` flag asked for it)
    expect(re[0]).toBe(audio);
    expect(re[2]).toBe(audio);
  });

  it('offer: a group toward the receiver, a port per m= line; its bundled answer makes them one transport', async () => {
    t.newCall();
    const caps = await t.offer('bundle offer', { bundle: ['offer'], 'rtcp-mux': ['offer'] }, `
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio 2000 RTP/AVP 0
c=IN IP4 198.51.100.1
a=sendrecv
m=video 2002 RTP/AVP 96
c=IN IP4 198.51.100.1
a=rtpmap:96 VP8/90000
a=sendrecv
${sep}
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
a=group:BUNDLE 1 2
m=audio PORT RTP/AVP 0
c=IN IP4 127.0.0.1
a=mid:1
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
a=rtcp-mux
m=video PORT RTP/AVP 96
c=IN IP4 127.0.0.1
a=mid:2
a=rtpmap:96 VP8/90000
a=sendrecv
a=rtcp:PORT
a=rtcp-mux
`);
    expect(caps[0]).not.toBe(caps[2]);
    await t.answer('bundle offer answered bundled', {}, `
v=0
o=- 1545997028 1 IN IP4 198.51.100.3
s=tester
t=0 0
a=group:BUNDLE 1 2
m=audio 3000 RTP/AVP 0
c=IN IP4 198.51.100.3
a=mid:1
a=rtcp-mux
a=sendrecv
m=video 3000 RTP/AVP 96
c=IN IP4 198.51.100.3
a=mid:2
a=rtpmap:96 VP8/90000
a=rtcp-mux
a=sendrecv
${sep}
v=0
o=- 1545997028 1 IN IP4 198.51.100.3
s=tester
t=0 0
m=audio PORT RTP/AVP 0
c=IN IP4 127.0.0.1
a=mid:1
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
m=video PORT RTP/AVP 96
c=IN IP4 127.0.0.1
a=mid:2
a=rtpmap:96 VP8/90000
a=sendrecv
a=rtcp:PORT
`);
    const q = await t.query();
    const medias = (q.tags as Record<string, { medias: Array<{ streams: Array<{ 'local port': number }> }> }>)[t.toTag]!.medias;
    // the answerer's video now uses the tagged (audio) m= line's port
    expect(medias[1]!.streams[0]!['local port']).toBe(medias[0]!.streams[0]!['local port']);
    expect(medias[0]!.streams[0]!['local port']).toBe(Number(caps[0]));
  });

  it('require: one port for every m= line from the start; strict: RFC bundle-only lines (port 0), not remembered', async () => {
    const plain = `
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio 2000 RTP/AVP 0
c=IN IP4 198.51.100.1
a=sendrecv
m=video 2002 RTP/AVP 96
c=IN IP4 198.51.100.1
a=rtpmap:96 VP8/90000
a=sendrecv
`;
    t.newCall();
    const caps = await t.offer('bundle require', { bundle: ['require'] }, `${plain}${sep}
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
a=group:BUNDLE 1 2
m=audio PORT RTP/AVP 0
c=IN IP4 127.0.0.1
a=mid:1
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
a=rtcp-mux
m=video PORT RTP/AVP 96
c=IN IP4 127.0.0.1
a=mid:2
a=rtpmap:96 VP8/90000
a=sendrecv
a=rtcp:PORT
a=rtcp-mux
`);
    expect(new Set(caps).size).toBe(1);
    // remembered: a re-offer without the flag is still bundled
    const again = await t.offer('bundle require remembered', {}, `${plain}${sep}
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
a=group:BUNDLE 1 2
m=audio PORT RTP/AVP 0
c=IN IP4 127.0.0.1
a=mid:1
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
a=rtcp-mux
m=video PORT RTP/AVP 96
c=IN IP4 127.0.0.1
a=mid:2
a=rtpmap:96 VP8/90000
a=sendrecv
a=rtcp:PORT
a=rtcp-mux
`);
    expect(again[0]).toBe(caps[0]);
    t.newCall();
    await t.offer('bundle strict', { bundle: ['strict'] }, `${plain}${sep}
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
a=group:BUNDLE 1 2
m=audio PORT RTP/AVP 0
c=IN IP4 127.0.0.1
a=mid:1
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
a=rtcp-mux
m=video 0 RTP/AVP 96
c=IN IP4 127.0.0.1
a=mid:2
a=bundle-only
a=rtpmap:96 VP8/90000
a=sendrecv
a=rtcp-mux
`);
    // strict is not remembered: the re-offer has the group (require is) but no bundle-only line
    const re = await t.offer('bundle strict re-offer', {}, `${plain}${sep}
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
a=group:BUNDLE 1 2
m=audio PORT RTP/AVP 0
c=IN IP4 127.0.0.1
a=mid:1
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
a=rtcp-mux
m=video PORT RTP/AVP 96
c=IN IP4 127.0.0.1
a=mid:2
a=rtpmap:96 VP8/90000
a=sendrecv
a=rtcp:PORT
a=rtcp-mux
`);
    expect(new Set(re).size).toBe(1);
  });

  it('accept with a bundle-only m= line: it is part of the group, not rejected', async () => {
    t.newCall();
    const offer = bundledOffer.replace('m=video 2000 RTP/AVPF 96', 'm=video 0 RTP/AVPF 96').replace('a=mid:1\n', 'a=mid:1\na=bundle-only\n');
    const caps = await t.offer('bundle-only accepted', { bundle: ['accept'], ICE: 'remove', flags: ['strip-extmap'] }, `${offer}${sep}
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
a=msid-semantic: WMS stream1
m=audio PORT RTP/AVPF 111 0
c=IN IP4 127.0.0.1
a=ssrc:1111 cname:abc
a=msid:stream1 audio1
a=mid:0
a=rtpmap:111 opus/48000/2
a=fmtp:111 minptime=10;useinbandfec=1
a=rtcp-fb:111 transport-cc
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
a=rtcp-mux
m=video PORT RTP/AVPF 96
c=IN IP4 127.0.0.1
a=ssrc:2222 cname:abc
a=msid:stream1 video1
a=mid:1
a=rtpmap:96 VP8/90000
a=rtcp-fb:96 nack
a=rtcp-fb:96 nack pli
a=sendrecv
a=rtcp:PORT
a=rtcp-mux
`);
    expect(caps[0]).not.toBe('0');
    expect(caps[2]).not.toBe('0');
  });
});

describe('WebRTC flag', () => {
  it('UDP/TLS/RTP/SAVPF, ICE forced, rtcp-mux required, no a=rtcp, no SDES but DTLS (actpass), mids generated', async () => {
    t.newCall();
    await t.offer('WebRTC', { flags: ['WebRTC'] }, `
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio 2000 RTP/AVP 0 8
c=IN IP4 198.51.100.1
a=sendrecv
${sep}
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio PORT UDP/TLS/RTP/SAVPF 0 8
c=IN IP4 127.0.0.1
a=mid:1
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=sendrecv
a=rtcp-mux
a=setup:actpass
a=fingerprint:sha-256 FINGERPRINT256
a=tls-id:TLS_ID
a=ice-ufrag:ICEUFRAG
a=ice-pwd:ICEPWD
a=ice-options:trickle
a=candidate:ICEBASE 1 UDP 2130706431 127.0.0.1 PORT typ host
a=end-of-candidates
`);
  });
});

describe('ICE=force-relay', () => {
  it('the peers keep their own c=/m= and candidates (relay ones removed); the relay is added as a relay candidate', async () => {
    t.newCall();
    await t.offer('force-relay', { ICE: 'force-relay' }, `
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio 2000 RTP/AVP 0
c=IN IP4 198.51.100.1
a=sendrecv
a=rtcp-mux
a=ice-ufrag:abcd
a=ice-pwd:abcdefghijklmnopqrstuvwx
a=candidate:1 1 UDP 2130706431 198.51.100.1 2000 typ host
a=candidate:2 1 UDP 16777215 192.0.2.9 40000 typ relay raddr 198.51.100.1 rport 2000
${sep}
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio 2000 RTP/AVP 0
c=IN IP4 198.51.100.1
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp-mux
a=ice-ufrag:abcd
a=ice-pwd:abcdefghijklmnopqrstuvwx
a=candidate:1 1 UDP 2130706431 198.51.100.1 2000 typ host
a=candidate:ICEBASE 1 UDP 16777215 127.0.0.1 PORT typ relay raddr 127.0.0.1 rport PORT
`);
    await t.answer('force-relay answer', {}, `
v=0
o=- 1545997028 1 IN IP4 198.51.100.3
s=tester
t=0 0
m=audio 3000 RTP/AVP 0
c=IN IP4 198.51.100.3
a=sendrecv
a=rtcp-mux
a=ice-ufrag:efgh
a=ice-pwd:zyxwvutsrqponmlkjihgfedcba
a=candidate:1 1 UDP 2130706431 198.51.100.3 3000 typ host
a=end-of-candidates
${sep}
v=0
o=- 1545997028 1 IN IP4 198.51.100.3
s=tester
t=0 0
m=audio 3000 RTP/AVP 0
c=IN IP4 198.51.100.3
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp-mux
a=ice-ufrag:efgh
a=ice-pwd:zyxwvutsrqponmlkjihgfedcba
a=candidate:1 1 UDP 2130706431 198.51.100.3 3000 typ host
a=candidate:ICEBASE 1 UDP 16777215 127.0.0.1 PORT typ relay raddr 127.0.0.1 rport PORT
a=end-of-candidates
`);
  });
});

describe('trickle ICE over ng (SDP fragments)', () => {
  const fragment = (ufrag: string, port: number, mid = '0') => [
    `a=ice-ufrag:${ufrag}`, 'a=ice-pwd:abcdefghijklmnopqrstuvwx', 'm=audio 9 RTP/AVP 0', `a=mid:${mid}`,
    `a=candidate:7 1 UDP 2130706431 127.0.0.1 ${port} typ host`, 'a=end-of-candidates', '',
  ].join('\r\n');

  it('a trickled candidate is checked by the relay; stale ufrags and unknown m= lines are ignored; the reply is ok without SDP', async () => {
    const trickled = await RtpPeer.open();
    const stale = await RtpPeer.open();
    peers.push(trickled, stale);
    t.newCall();
    // the offerer's SDP has ICE credentials but no candidates yet
    await t.offer('trickle offer', { ICE: 'remove' }, `
v=0
o=- 1 1 IN IP4 127.0.0.1
s=tester
t=0 0
m=audio 9 RTP/AVP 0
c=IN IP4 127.0.0.1
a=mid:0
a=ice-ufrag:tric
a=ice-pwd:abcdefghijklmnopqrstuvwx
a=ice-options:trickle
a=rtcp-mux
a=sendrecv
${sep}
v=0
o=- 1 1 IN IP4 127.0.0.1
s=tester
t=0 0
m=audio PORT RTP/AVP 0
c=IN IP4 127.0.0.1
a=mid:0
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
a=rtcp-mux
`);
    const old = await d.ng.request({ command: 'offer', 'call-id': t.callId, 'from-tag': t.fromTag, flags: ['fragment'], sdp: fragment('olduf', stale.port) });
    expect(old.result).toBe('ok');
    expect(old.sdp).toBeUndefined();
    const reply = await d.ng.request({ command: 'offer', 'call-id': t.callId, 'from-tag': t.fromTag, flags: ['fragment'], sdp: fragment('tric', trickled.port) });
    expect(reply.result).toBe('ok');
    expect(reply.sdp).toBeUndefined();
    // the relay (controlled toward the offerer until the answer? it checks as soon as it knows the peer) sends binding requests to the trickled candidate
    const got = await trickled.waitFor(1, 3000);
    expect(got.length).toBeGreaterThan(0);
    const msg = decodeStun(got[0]!.data);
    expect(msg?.method).toBe(METHOD_BINDING);
    expect(msg?.cls).toBe(StunClass.Request);
    expect((await stale.settle(300)).length, 'a candidate of an older ICE generation is ignored').toBe(0);
    // a fragment that is no SDP at all fails this command only
    const bad = await d.ng.request({ command: 'offer', 'call-id': t.callId, 'from-tag': t.fromTag, flags: ['fragment'], sdp: 'garbage\r\n' });
    expect(bad.result).toBe('error');
  });

  it('a fragment that arrives before its SDP is kept and applied when the SDP comes', async () => {
    const early = await RtpPeer.open();
    peers.push(early);
    t.newCall();
    const reply = await d.ng.request({ command: 'offer', 'call-id': t.callId, 'from-tag': t.fromTag, flags: ['fragment'], sdp: fragment('erly', early.port) });
    expect(reply.result).toBe('ok');
    t.calls.add(t.callId);
    await t.offer('offer after its fragment', { ICE: 'remove' }, `
v=0
o=- 1 1 IN IP4 127.0.0.1
s=tester
t=0 0
m=audio 9 RTP/AVP 0
c=IN IP4 127.0.0.1
a=mid:0
a=ice-ufrag:erly
a=ice-pwd:abcdefghijklmnopqrstuvwx
a=rtcp-mux
a=sendrecv
${sep}
v=0
o=- 1 1 IN IP4 127.0.0.1
s=tester
t=0 0
m=audio PORT RTP/AVP 0
c=IN IP4 127.0.0.1
a=mid:0
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
a=rtcp-mux
`);
    const got = await early.waitFor(1, 3000);
    expect(got.length).toBeGreaterThan(0);
    expect(decodeStun(got[0]!.data)?.cls).toBe(StunClass.Request);
  });
});
