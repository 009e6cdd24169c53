/**
 * Auto-daemon-style SDP tests: the default offer/answer rewrite on one IPv4 interface.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AutoTest, expectSdp } from '../helpers/autotest.js';
import { startDaemon, type DaemonHandle } from '../helpers/daemon.js';
import { expectNoLeaks } from '../helpers/leaks.js';

let d: DaemonHandle;
let t: AutoTest;

beforeAll(async () => {
  d = await startDaemon();
  t = new AutoTest(d);
});

afterAll(async () => {
  await d?.stop('SIGKILL');
});

/** RTP port even, RTCP port = RTP + 1. */
function expectPair(rtp: string | undefined, rtcp: string | undefined): void {
  expect(Number(rtp) % 2, `RTP port ${rtp} is even`).toBe(0);
  expect(Number(rtcp), `RTCP port follows RTP port ${rtp}`).toBe(Number(rtp) + 1);
}

describe('default rewrite', () => {
  it('plain offer and answer', async () => {
    t.newCall();
    const [pa, pax] = await t.offer('plain', {}, `
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio 2000 RTP/AVP 0
c=IN IP4 198.51.100.1
a=sendrecv
----------------------------------
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio PORT RTP/AVP 0
c=IN IP4 127.0.0.1
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
`);
    expectPair(pa, pax);
    expect(Number(pa)).toBeGreaterThanOrEqual(d.portRange[0]);
    expect(Number(pax)).toBeLessThanOrEqual(d.portRange[1]);

    const [pb, pbx] = await t.answer('plain', {}, `
v=0
o=- 1545997028 1 IN IP4 198.51.100.3
s=tester
t=0 0
m=audio 2002 RTP/AVP 0
c=IN IP4 198.51.100.3
a=sendrecv
----------------------------------
v=0
o=- 1545997028 1 IN IP4 198.51.100.3
s=tester
t=0 0
m=audio PORT RTP/AVP 0
c=IN IP4 127.0.0.1
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
`);
    expectPair(pb, pbx);
    expect(pb, 'the two sides get different relay ports').not.toBe(pa);
  });

  it('an SDP with bare LF line ends is answered with CRLF line ends', async () => {
    t.newCall();
    const reply = await t.request('offer', 'LF input', {
      'from-tag': t.fromTag,
      sdp: 'v=0\no=- 1545997027 1 IN IP4 198.51.100.1\ns=tester\nt=0 0\nm=audio 2000 RTP/AVP 8\nc=IN IP4 198.51.100.1\na=sendrecv\n',
    });
    expectSdp(reply.sdp, `
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio PORT RTP/AVP 8
c=IN IP4 127.0.0.1
a=rtpmap:8 PCMA/8000
a=sendrecv
a=rtcp:PORT
`, 'LF input - output SDP');
  });

  it('several codecs with a dynamic payload type, fmtp kept', async () => {
    t.newCall();
    await t.offer('dynamic PT', {}, `
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio 2000 RTP/AVP 0 8 101
c=IN IP4 198.51.100.1
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=sendrecv
----------------------------------
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio PORT RTP/AVP 0 8 101
c=IN IP4 127.0.0.1
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=sendrecv
a=rtcp:PORT
`);
    await t.answer('dynamic PT', {}, `
v=0
o=- 1545997028 1 IN IP4 198.51.100.3
s=tester
t=0 0
m=audio 2002 RTP/AVP 8 101
c=IN IP4 198.51.100.3
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=sendrecv
----------------------------------
v=0
o=- 1545997028 1 IN IP4 198.51.100.3
s=tester
t=0 0
m=audio PORT RTP/AVP 8 101
c=IN IP4 127.0.0.1
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=sendrecv
a=rtcp:PORT
`);
  });

  it('a=rtpmap added for static payload types', async () => {
    t.newCall();
    await t.offer('static PTs', {}, `
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio 2000 RTP/AVP 9 18 3 4 13
c=IN IP4 198.51.100.1
----------------------------------
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio PORT RTP/AVP 9 18 3 4 13
c=IN IP4 127.0.0.1
a=rtpmap:9 G722/8000
a=rtpmap:18 G729/8000
a=rtpmap:3 GSM/8000
a=rtpmap:4 G723/8000
a=rtpmap:13 CN/8000
a=sendrecv
a=rtcp:PORT
`);
  });

  it('audio and video m= lines, codec attributes grouped per payload type', async () => {
    t.newCall();
    const offered = await t.offer('audio+video', {}, `
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio 2000 RTP/AVP 0 8
c=IN IP4 198.51.100.1
a=sendrecv
m=video 2010 RTP/AVP 96 97
c=IN IP4 198.51.100.1
a=rtpmap:96 H264/90000
a=rtpmap:97 VP8/90000
a=fmtp:96 profile-level-id=42e01f;packetization-mode=1
a=rtcp-fb:96 nack
a=rtcp-fb:96 nack pli
a=rtcp-fb:97 nack
a=sendrecv
----------------------------------
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio PORT RTP/AVP 0 8
c=IN IP4 127.0.0.1
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=sendrecv
a=rtcp:PORT
m=video PORT RTP/AVP 96 97
c=IN IP4 127.0.0.1
a=rtpmap:96 H264/90000
a=fmtp:96 profile-level-id=42e01f;packetization-mode=1
a=rtcp-fb:96 nack
a=rtcp-fb:96 nack pli
a=rtpmap:97 VP8/90000
a=rtcp-fb:97 nack
a=sendrecv
a=rtcp:PORT
`);
    expect(offered).toHaveLength(4);
    expectPair(offered[0], offered[1]);
    expectPair(offered[2], offered[3]);
    const answered = await t.answer('audio+video', {}, `
v=0
o=- 1545997028 1 IN IP4 198.51.100.3
s=tester
t=0 0
m=audio 2002 RTP/AVP 0
c=IN IP4 198.51.100.3
a=sendrecv
m=video 2012 RTP/AVP 96
c=IN IP4 198.51.100.3
a=rtpmap:96 H264/90000
a=fmtp:96 profile-level-id=42e01f;packetization-mode=1
a=sendrecv
----------------------------------
v=0
o=- 1545997028 1 IN IP4 198.51.100.3
s=tester
t=0 0
m=audio PORT RTP/AVP 0
c=IN IP4 127.0.0.1
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
m=video PORT RTP/AVP 96
c=IN IP4 127.0.0.1
a=rtpmap:96 H264/90000
a=fmtp:96 profile-level-id=42e01f;packetization-mode=1
a=sendrecv
a=rtcp:PORT
`);
    const all = [...offered, ...answered];
    expect(new Set(all).size, `all eight relay ports distinct: ${all.join(' ')}`).toBe(8);
  });

  it('session-level c= moves into every media section', async () => {
    t.newCall();
    await t.offer('session c=', {}, `
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
c=IN IP4 198.51.100.1
t=0 0
m=audio 2000 RTP/AVP 0
m=video 2010 RTP/AVP 96
a=rtpmap:96 H264/90000
----------------------------------
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio PORT RTP/AVP 0
c=IN IP4 127.0.0.1
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
m=video PORT RTP/AVP 96
c=IN IP4 127.0.0.1
a=rtpmap:96 H264/90000
a=sendrecv
a=rtcp:PORT
`);
    const q = await t.query('session c= endpoint');
    const ep = q.tags?.[t.fromTag]?.medias?.[0]?.streams?.[0]?.endpoint;
    expect(ep, 'offerer endpoint taken from the session-level c=').toMatchObject({ address: '198.51.100.1', port: 2000 });
  });

  it('unknown attributes pass through in order, before the codecs; a=ptime goes last (rtpengine order)', async () => {
    t.newCall();
    await t.offer('pass-through attributes', {}, `
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
a=tool:some-softphone 1.2
m=audio 2000 RTP/AVP 0 8
c=IN IP4 198.51.100.1
a=ptime:20
a=x-custom-thing:foo bar
a=silenceSupp:off - - - -
a=x-flag
a=sendrecv
----------------------------------
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
a=tool:some-softphone 1.2
m=audio PORT RTP/AVP 0 8
c=IN IP4 127.0.0.1
a=x-custom-thing:foo bar
a=silenceSupp:off - - - -
a=x-flag
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=sendrecv
a=rtcp:PORT
a=ptime:20
`);
  });

  it('b= lines stay right after c=', async () => {
    t.newCall();
    await t.offer('bandwidth', {}, `
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio 2000 RTP/AVP 8
c=IN IP4 198.51.100.1
b=AS:80
a=sendrecv
----------------------------------
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio PORT RTP/AVP 8
c=IN IP4 127.0.0.1
b=AS:80
a=rtpmap:8 PCMA/8000
a=sendrecv
a=rtcp:PORT
`);
  });

  it('several b= lines, and a session-level b= stays at session level', async () => {
    t.newCall();
    await t.offer('bandwidth lines', {}, `
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
b=AS:200
t=0 0
m=audio 2000 RTP/AVP 8
c=IN IP4 198.51.100.1
b=AS:80
b=RR:0
b=RS:0
a=sendrecv
----------------------------------
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
b=AS:200
t=0 0
m=audio PORT RTP/AVP 8
c=IN IP4 127.0.0.1
b=AS:80
b=RR:0
b=RS:0
a=rtpmap:8 PCMA/8000
a=sendrecv
a=rtcp:PORT
`);
  });

  it('a=mid comes first among the attributes', async () => {
    t.newCall();
    await t.offer('mid', {}, `
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio 2000 RTP/AVP 0
c=IN IP4 198.51.100.1
a=sendrecv
a=mid:a1
m=video 2010 RTP/AVP 96
c=IN IP4 198.51.100.1
a=rtpmap:96 H264/90000
a=sendrecv
a=mid:v1
----------------------------------
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio PORT RTP/AVP 0
c=IN IP4 127.0.0.1
a=mid:a1
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
m=video PORT RTP/AVP 96
c=IN IP4 127.0.0.1
a=mid:v1
a=rtpmap:96 H264/90000
a=sendrecv
a=rtcp:PORT
`);
  });
});

describe('direction attributes', () => {
  it('sendonly offer, recvonly answer', async () => {
    t.newCall();
    await t.offer('sendonly', {}, `
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio 2000 RTP/AVP 0
c=IN IP4 198.51.100.1
a=sendonly
----------------------------------
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio PORT RTP/AVP 0
c=IN IP4 127.0.0.1
a=rtpmap:0 PCMU/8000
a=sendonly
a=rtcp:PORT
`);
    await t.answer('recvonly', {}, `
v=0
o=- 1545997028 1 IN IP4 198.51.100.3
s=tester
t=0 0
m=audio 2002 RTP/AVP 0
c=IN IP4 198.51.100.3
a=recvonly
----------------------------------
v=0
o=- 1545997028 1 IN IP4 198.51.100.3
s=tester
t=0 0
m=audio PORT RTP/AVP 0
c=IN IP4 127.0.0.1
a=rtpmap:0 PCMU/8000
a=recvonly
a=rtcp:PORT
`);
  });

  it('inactive both ways', async () => {
    t.newCall();
    await t.offer('inactive', {}, `
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio 2000 RTP/AVP 8
c=IN IP4 198.51.100.1
a=inactive
----------------------------------
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio PORT RTP/AVP 8
c=IN IP4 127.0.0.1
a=rtpmap:8 PCMA/8000
a=inactive
a=rtcp:PORT
`);
    await t.answer('inactive', {}, `
v=0
o=- 1545997028 1 IN IP4 198.51.100.3
s=tester
t=0 0
m=audio 2002 RTP/AVP 8
c=IN IP4 198.51.100.3
a=inactive
----------------------------------
v=0
o=- 1545997028 1 IN IP4 198.51.100.3
s=tester
t=0 0
m=audio PORT RTP/AVP 8
c=IN IP4 127.0.0.1
a=rtpmap:8 PCMA/8000
a=inactive
a=rtcp:PORT
`);
  });

});

describe('output shape flags', () => {
  it('generate-mid numbers the media sections', async () => {
    t.newCall();
    await t.offer('generate-mid', { flags: ['generate-mid'] }, `
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio 2000 RTP/AVP 0
c=IN IP4 198.51.100.1
a=sendrecv
m=video 2010 RTP/AVP 96
c=IN IP4 198.51.100.1
a=rtpmap:96 H264/90000
a=sendrecv
----------------------------------
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
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
a=rtpmap:96 H264/90000
a=sendrecv
a=rtcp:PORT
`);
  });

  it('original-sendrecv keeps the direction attributes as received (none here)', async () => {
    t.newCall();
    await t.offer('original-sendrecv', { flags: ['original-sendrecv'] }, `
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio 2000 RTP/AVP 0
c=IN IP4 198.51.100.1
----------------------------------
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio PORT RTP/AVP 0
c=IN IP4 127.0.0.1
a=rtpmap:0 PCMU/8000
a=rtcp:PORT
`);
  });
});

describe('rejected media', () => {
  it('a rejected m= line stays rejected in offer and answer', async () => {
    t.newCall();
    const ports = await t.offer('rejected video', {}, `
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio 2000 RTP/AVP 0
c=IN IP4 198.51.100.1
a=sendrecv
m=video 0 RTP/AVP 96
c=IN IP4 198.51.100.1
a=rtpmap:96 H264/90000
----------------------------------
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio PORT RTP/AVP 0
c=IN IP4 127.0.0.1
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
m=video 0 RTP/AVP 96
c=IN IP4 0.0.0.0
`);
    expect(ports).toHaveLength(2);
    await t.answer('rejected video', {}, `
v=0
o=- 1545997028 1 IN IP4 198.51.100.3
s=tester
t=0 0
m=audio 2002 RTP/AVP 0
c=IN IP4 198.51.100.3
a=sendrecv
m=video 0 RTP/AVP 96
c=IN IP4 198.51.100.3
----------------------------------
v=0
o=- 1545997028 1 IN IP4 198.51.100.3
s=tester
t=0 0
m=audio PORT RTP/AVP 0
c=IN IP4 127.0.0.1
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
m=video 0 RTP/AVP 96
c=IN IP4 0.0.0.0
`);
  });

  it('media the answerer rejects is rejected toward the offerer', async () => {
    t.newCall();
    await t.offer('answer rejects video', {}, `
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio 2000 RTP/AVP 0
c=IN IP4 198.51.100.1
a=sendrecv
m=video 2010 RTP/AVP 96
c=IN IP4 198.51.100.1
a=rtpmap:96 H264/90000
a=sendrecv
----------------------------------
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio PORT RTP/AVP 0
c=IN IP4 127.0.0.1
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
m=video PORT RTP/AVP 96
c=IN IP4 127.0.0.1
a=rtpmap:96 H264/90000
a=sendrecv
a=rtcp:PORT
`);
    await t.answer('answer rejects video', {}, `
v=0
o=- 1545997028 1 IN IP4 198.51.100.3
s=tester
t=0 0
m=audio 2002 RTP/AVP 0
c=IN IP4 198.51.100.3
a=sendrecv
m=video 0 RTP/AVP 96
c=IN IP4 198.51.100.3
----------------------------------
v=0
o=- 1545997028 1 IN IP4 198.51.100.3
s=tester
t=0 0
m=audio PORT RTP/AVP 0
c=IN IP4 127.0.0.1
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
m=video 0 RTP/AVP 96
c=IN IP4 0.0.0.0
`);
  });
});

const OFFER_A = `
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio 2000 RTP/AVP 0 8
c=IN IP4 198.51.100.1
a=sendrecv
----------------------------------
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio PORT RTP/AVP 0 8
c=IN IP4 127.0.0.1
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=sendrecv
a=rtcp:PORT
`;

const ANSWER_B = `
v=0
o=- 1545997028 1 IN IP4 198.51.100.3
s=tester
t=0 0
m=audio 2002 RTP/AVP 0
c=IN IP4 198.51.100.3
a=sendrecv
----------------------------------
v=0
o=- 1545997028 1 IN IP4 198.51.100.3
s=tester
t=0 0
m=audio PORT RTP/AVP 0
c=IN IP4 127.0.0.1
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
`;

describe('re-offers', () => {
  it('an unchanged re-offer and re-answer keep the relay ports', async () => {
    t.newCall();
    const o1 = await t.offer('re-offer 1', {}, OFFER_A);
    const a1 = await t.answer('re-answer 1', {}, ANSWER_B);
    const o2 = await t.offer('re-offer 2', {}, OFFER_A);
    const a2 = await t.answer('re-answer 2', {}, ANSWER_B);
    expect(o2, 'offer ports unchanged').toEqual(o1);
    expect(a2, 'answer ports unchanged').toEqual(a1);
    const o3 = await t.offer('re-offer 3', {}, OFFER_A);
    expect(o3, 'offer ports still unchanged').toEqual(o1);
  });

  it('a re-invite from the callee is relayed on the ports already in use', async () => {
    t.newCall();
    const [po] = await t.offer('callee re-invite: offer', {}, OFFER_A);
    const [pa] = await t.answer('callee re-invite: answer', {}, ANSWER_B);
    const fromA = t.fromTag;
    t.reverseTags();
    // B now offers (from-tag = B, to-tag = A); the SDP goes to A on A's side of the relay
    const [pro] = await t.offer('callee re-invite: re-offer from B', { 'to-tag': fromA }, `
v=0
o=- 1545997028 2 IN IP4 198.51.100.3
s=tester
t=0 0
m=audio 2002 RTP/AVP 0
c=IN IP4 198.51.100.3
a=sendonly
----------------------------------
v=0
o=- 1545997028 2 IN IP4 198.51.100.3
s=tester
t=0 0
m=audio PORT RTP/AVP 0
c=IN IP4 127.0.0.1
a=rtpmap:0 PCMU/8000
a=sendonly
a=rtcp:PORT
`);
    expect(pro, 'A keeps talking to the port it got in the first answer').toBe(pa);
    const [pra] = await t.answer('callee re-invite: answer from A', {}, `
v=0
o=- 1545997027 2 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio 2000 RTP/AVP 0
c=IN IP4 198.51.100.1
a=recvonly
----------------------------------
v=0
o=- 1545997027 2 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio PORT RTP/AVP 0
c=IN IP4 127.0.0.1
a=rtpmap:0 PCMU/8000
a=recvonly
a=rtcp:PORT
`);
    expect(pra, 'B keeps talking to the port it got in the first offer').toBe(po);
  });
});

describe('re-offers with changes', () => {
  it('a hold re-offer (sendonly) keeps the port and states the new direction', async () => {
    t.newCall();
    const [p1] = await t.offer('hold: initial offer', {}, OFFER_A);
    const [a1] = await t.answer('hold: initial answer', {}, ANSWER_B);
    const [p2] = await t.offer('hold: re-offer', {}, `
v=0
o=- 1545997027 2 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio 2000 RTP/AVP 0 8
c=IN IP4 198.51.100.1
a=sendonly
----------------------------------
v=0
o=- 1545997027 2 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio PORT RTP/AVP 0 8
c=IN IP4 127.0.0.1
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=sendonly
a=rtcp:PORT
`);
    expect(p2).toBe(p1);
    const [a2] = await t.answer('hold: answer', {}, `
v=0
o=- 1545997028 2 IN IP4 198.51.100.3
s=tester
t=0 0
m=audio 2002 RTP/AVP 0
c=IN IP4 198.51.100.3
a=recvonly
----------------------------------
v=0
o=- 1545997028 2 IN IP4 198.51.100.3
s=tester
t=0 0
m=audio PORT RTP/AVP 0
c=IN IP4 127.0.0.1
a=rtpmap:0 PCMU/8000
a=recvonly
a=rtcp:PORT
`);
    expect(a2).toBe(a1);
  });

  it('a re-offer adding a video stream keeps the audio ports', async () => {
    t.newCall();
    const [pa, pax] = await t.offer('add video: initial offer', {}, OFFER_A);
    const [ba, bax] = await t.answer('add video: initial answer', {}, ANSWER_B);
    const o2 = await t.offer('add video: re-offer', {}, `
v=0
o=- 1545997027 2 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio 2000 RTP/AVP 0 8
c=IN IP4 198.51.100.1
a=sendrecv
m=video 2010 RTP/AVP 96
c=IN IP4 198.51.100.1
a=rtpmap:96 H264/90000
a=sendrecv
----------------------------------
v=0
o=- 1545997027 2 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio PORT RTP/AVP 0 8
c=IN IP4 127.0.0.1
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=sendrecv
a=rtcp:PORT
m=video PORT RTP/AVP 96
c=IN IP4 127.0.0.1
a=rtpmap:96 H264/90000
a=sendrecv
a=rtcp:PORT
`);
    expect(o2.slice(0, 2), 'audio ports kept').toEqual([pa, pax]);
    expect([pa, pax, ba, bax], 'video ports are new').not.toContain(o2[2]);
    const a2 = await t.answer('add video: answer', {}, `
v=0
o=- 1545997028 2 IN IP4 198.51.100.3
s=tester
t=0 0
m=audio 2002 RTP/AVP 0
c=IN IP4 198.51.100.3
a=sendrecv
m=video 2012 RTP/AVP 96
c=IN IP4 198.51.100.3
a=rtpmap:96 H264/90000
a=sendrecv
----------------------------------
v=0
o=- 1545997028 2 IN IP4 198.51.100.3
s=tester
t=0 0
m=audio PORT RTP/AVP 0
c=IN IP4 127.0.0.1
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
m=video PORT RTP/AVP 96
c=IN IP4 127.0.0.1
a=rtpmap:96 H264/90000
a=sendrecv
a=rtcp:PORT
`);
    expect(a2.slice(0, 2), 'answer audio ports kept').toEqual([ba, bax]);
  });
});

describe('labels and branches', () => {
  it('label is stored per participant', async () => {
    t.newCall();
    await t.offer('labels', { label: 'caller' }, OFFER_A);
    await t.answer('labels', { label: 'callee' }, ANSWER_B);
    const q = await t.query('labels');
    expect(q.tags?.[t.fromTag]?.label).toBe('caller');
    expect(q.tags?.[t.toTag]?.label).toBe('callee');
  });

  it('via-branch tells forked branches apart until the answer names one', async () => {
    t.newCall();
    const [p1] = await t.offer('branch 1', { 'via-branch': 'z9hG4bK-branch-1' }, OFFER_A);
    const [p2] = await t.offer('branch 2', { 'via-branch': 'z9hG4bK-branch-2' }, OFFER_A);
    expect(p2, 'a second branch gets its own relay port').not.toBe(p1);
    const [p1again] = await t.offer('branch 1 again', { 'via-branch': 'z9hG4bK-branch-1' }, OFFER_A);
    expect(p1again, 'a retransmitted branch keeps its port').toBe(p1);
    const [pb] = await t.answer('branch 2 answers', { 'via-branch': 'z9hG4bK-branch-2' }, ANSWER_B);
    expect(pb).not.toBe(p1);
    expect(pb).not.toBe(p2);
    const q = await t.query('branches');
    expect(Object.keys(q.tags ?? {})).toEqual(expect.arrayContaining([t.fromTag, t.toTag]));
    expect(q.tags[t.toTag]['via-branch'], 'the answered monologue is the branch-2 one').toBe('z9hG4bK-branch-2');
  });
});

describe('cleanup', () => {
  it('deletes every call and leaves no leaks', async () => {
    await t.cleanup();
    const list = await d.ng.request({ command: 'list' });
    expect(list.calls).toEqual([]);
    await expectNoLeaks(d);
  });
});
