/**
 * ICE (RFC 8445) through a real daemon: the SDP rules of the `ICE` and `ICE-lite` values
 * (auto-daemon style, ICEUFRAG/ICEPWD/ICEBASE placeholders), then real connectivity checks
 * from a test peer: its check is answered (authenticated, XOR-MAPPED-ADDRESS), the relay's
 * triggered check reaches it, the nominated pair decides where media goes, and forged or
 * garbage STUN is dropped without moving media. Ends with the zero-leak assertion.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Attr,
  METHOD_BINDING,
  StunClass,
  attribute,
  checkFingerprint,
  checkIntegrity,
  decodeStun,
  encodeStun,
  newTransactionId,
  readXorAddress,
  u32,
  xorAddressValue,
} from '../../daemon/ice/stun.js';
import { AutoTest } from '../helpers/autotest.js';
import { startDaemon, type DaemonHandle } from '../helpers/daemon.js';
import { expectNoLeaks } from '../helpers/leaks.js';
import { RtpPeer, rtpPacket } from '../helpers/rtp-peer.js';
import { sleep } from '../../support/sleep.js';

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

const plainOffer = `
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio 2000 RTP/AVP 0
c=IN IP4 198.51.100.1
a=sendrecv
`;

describe('ICE SDP rules', () => {
  it('force: our ufrag, pwd, trickle and host candidates (both components) toward the receiver', async () => {
    t.newCall();
    await t.offer('ICE force', { ICE: 'force' }, `${plainOffer}${sep}
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio PORT RTP/AVP 0
c=IN IP4 127.0.0.1
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
a=ice-ufrag:ICEUFRAG
a=ice-pwd:ICEPWD
a=ice-options:trickle
a=candidate:ICEBASE 1 UDP 2130706431 127.0.0.1 PORT typ host
a=candidate:ICEBASE 2 UDP 2130706430 127.0.0.1 PORT typ host
a=end-of-candidates
`);
    // the answerer does no ICE, the offerer did none: the answer carries none
    await t.answer('ICE force answer', {}, `
v=0
o=- 1545997028 1 IN IP4 198.51.100.3
s=tester
t=0 0
m=audio 2002 RTP/AVP 0
c=IN IP4 198.51.100.3
a=sendrecv
${sep}
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
  });

  it('candidates: component 1 is the RTP port, component 2 the RTCP port; rtcp-mux required: one component', async () => {
    t.newCall();
    const caps = await t.offer('ICE force ports', { ICE: 'force' }, `${plainOffer}${sep}
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio PORT RTP/AVP 0
c=IN IP4 127.0.0.1
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
a=ice-ufrag:ICEUFRAG
a=ice-pwd:ICEPWD
a=ice-options:trickle
a=candidate:ICEBASE 1 UDP 2130706431 127.0.0.1 PORT typ host
a=candidate:ICEBASE 2 UDP 2130706430 127.0.0.1 PORT typ host
a=end-of-candidates
`);
    const [port, rtcp, , , base1, c1, base2, c2] = caps;
    expect(c1).toBe(port);
    expect(c2).toBe(rtcp);
    expect(Number(rtcp)).toBe(Number(port) + 1);
    expect(base1).toBe(base2);
    t.newCall();
    await t.offer('ICE force mux', { ICE: 'force', 'rtcp-mux': ['require'] }, `${plainOffer}${sep}
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio PORT RTP/AVP 0
c=IN IP4 127.0.0.1
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
a=rtcp-mux
a=ice-ufrag:ICEUFRAG
a=ice-pwd:ICEPWD
a=ice-options:trickle
a=candidate:ICEBASE 1 UDP 2130706431 127.0.0.1 PORT typ host
a=end-of-candidates
`);
  });

  const iceOffer = `
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio 2000 RTP/AVP 0
c=IN IP4 198.51.100.1
a=ice-ufrag:q2eRfx8Z
a=ice-pwd:Ln8i2CXk3dVq7yQ0cHb5ww1a
a=candidate:1 1 UDP 2130706431 198.51.100.1 2000 typ host
a=candidate:1 2 UDP 2130706430 198.51.100.1 2001 typ host
a=sendrecv
`;
  const plainAnswer = `
v=0
o=- 1545997028 1 IN IP4 198.51.100.3
s=tester
t=0 0
m=audio 2002 RTP/AVP 0
c=IN IP4 198.51.100.3
a=sendrecv
`;
  const answerWithIce = `
v=0
o=- 1545997028 1 IN IP4 198.51.100.3
s=tester
t=0 0
m=audio PORT RTP/AVP 0
c=IN IP4 127.0.0.1
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
a=ice-ufrag:ICEUFRAG
a=ice-pwd:ICEPWD
a=ice-options:trickle
a=candidate:ICEBASE 1 UDP 2130706431 127.0.0.1 PORT typ host
a=candidate:ICEBASE 2 UDP 2130706430 127.0.0.1 PORT typ host
a=end-of-candidates
`;

  it('default: ICE offered → the relay terminates it on both sides, with its own credentials', async () => {
    t.newCall();
    const offerCaps = await t.offer('ICE default', {}, `${iceOffer}${sep}
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio PORT RTP/AVP 0
c=IN IP4 127.0.0.1
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
a=ice-ufrag:ICEUFRAG
a=ice-pwd:ICEPWD
a=ice-options:trickle
a=candidate:ICEBASE 1 UDP 2130706431 127.0.0.1 PORT typ host
a=candidate:ICEBASE 2 UDP 2130706430 127.0.0.1 PORT typ host
a=end-of-candidates
`);
    expect(offerCaps[2], 'never the offerer\'s ufrag').not.toBe('q2eRfx8Z');
    const answerCaps = await t.answer('ICE default answer', {}, `${plainAnswer}${sep}${answerWithIce}`);
    expect(answerCaps[2], 'each side has its own credentials').not.toBe(offerCaps[2]);
  });

  it('remove on the offer: the receiver gets none, the ICE offerer still gets ICE back in the answer', async () => {
    t.newCall();
    await t.offer('ICE remove', { ICE: 'remove' }, `${iceOffer}${sep}
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
    await t.answer('ICE remove answer', {}, `${plainAnswer}${sep}${answerWithIce}`);
  });

  it('reject: none toward the receiver and none back toward the offerer', async () => {
    t.newCall();
    await t.offer('ICE reject', { ICE: 'reject' }, `${iceOffer}${sep}
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
    await t.answer('ICE reject answer', {}, `${plainAnswer}${sep}
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
  });

  it('restart: a re-offer with new credentials gets new relay credentials on both sides; an unchanged one keeps them', async () => {
    t.newCall();
    const out = (o: number) => `
v=0
o=- 1545997027 ${o} IN IP4 198.51.100.1
s=tester
t=0 0
m=audio PORT RTP/AVP 0
c=IN IP4 127.0.0.1
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
a=ice-ufrag:ICEUFRAG
a=ice-pwd:ICEPWD
a=ice-options:trickle
a=candidate:ICEBASE 1 UDP 2130706431 127.0.0.1 PORT typ host
a=candidate:ICEBASE 2 UDP 2130706430 127.0.0.1 PORT typ host
a=end-of-candidates
`;
    const offerWith = (o: number, ufrag: string) => iceOffer.replace('q2eRfx8Z', ufrag).replace(' 1 IN IP4 198.51.100.1', ` ${o} IN IP4 198.51.100.1`);
    const first = await t.offer('restart 1', {}, `${offerWith(1, 'q2eRfx8Z')}${sep}${out(1)}`);
    // the answerer does ICE too (otherwise its agent ends with this answer)
    const iceAnswer = plainAnswer.replace('a=sendrecv', 'a=ice-ufrag:bBbBbBbB\na=ice-pwd:bpasswordbpasswordbpasswo\na=sendrecv');
    const firstAnswer = await t.answer('restart 1 answer', {}, `${iceAnswer}${sep}${answerWithIce}`);
    const same = await t.offer('restart 2 (unchanged)', {}, `${offerWith(2, 'q2eRfx8Z')}${sep}${out(2)}`);
    expect(same[2]).toBe(first[2]);
    expect(same[3]).toBe(first[3]);
    const restarted = await t.offer('restart 3 (new ufrag)', {}, `${offerWith(3, 'nEwUfRaG')}${sep}${out(3)}`);
    expect(restarted[2], 'new ufrag toward the receiver').not.toBe(first[2]);
    expect(restarted[3], 'new pwd toward the receiver').not.toBe(first[3]);
    const secondAnswer = await t.answer('restart 3 answer', {}, `${iceAnswer.replace('bBbBbBbB', 'cCcCcCcC')}${sep}${answerWithIce}`);
    expect(secondAnswer[2], 'new ufrag toward the offerer').not.toBe(firstAnswer[2]);
  });

  it('ICE-lite forward: session-level a=ice-lite toward the receiver only', async () => {
    t.newCall();
    await t.offer('ICE-lite forward', { ICE: 'force', 'ICE-lite': 'forward' }, `${plainOffer}${sep}
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
a=ice-lite
m=audio PORT RTP/AVP 0
c=IN IP4 127.0.0.1
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
a=ice-ufrag:ICEUFRAG
a=ice-pwd:ICEPWD
a=ice-options:trickle
a=candidate:ICEBASE 1 UDP 2130706431 127.0.0.1 PORT typ host
a=candidate:ICEBASE 2 UDP 2130706430 127.0.0.1 PORT typ host
a=end-of-candidates
`);
  });
});

/** A test ICE peer: answers every authenticated check, keeps what else arrives. */
class StunPeer {
  readonly ufrag = 'pEeRuFrG';
  readonly pwd = 'peerpasswordpeerpassword22';
  requestsSeen = 0;
  constructor(readonly sock: RtpPeer, private readonly relayUfrag: () => string) {}

  /** Handles STUN that arrived so far: answers requests; returns the non-STUN and the responses. */
  drain(): { rtp: Buffer[]; responses: Buffer[] } {
    const rtp: Buffer[] = [];
    const responses: Buffer[] = [];
    for (const r of this.sock.received.splice(0)) {
      const m = decodeStun(r.data);
      if (!m) {
        rtp.push(r.data);
        continue;
      }
      if (m.cls === StunClass.Request) {
        expect(attribute(m, Attr.Username)!.toString()).toBe(`${this.ufrag}:${this.relayUfrag()}`);
        expect(checkIntegrity(m, this.pwd), 'the relay keys its checks with our password').toBe(true);
        expect(checkFingerprint(m)).toBe(true);
        this.requestsSeen++;
        const reply = encodeStun(METHOD_BINDING, StunClass.Success, m.transactionId,
          [{ type: Attr.XorMappedAddress, value: xorAddressValue({ address: r.address, port: r.port, family: 4 }, m.transactionId) }],
          { integrityKey: this.pwd, fingerprint: true });
        this.sock.send(reply, r.port, r.address);
      } else responses.push(r.data);
    }
    return { rtp, responses };
  }
}

function check(username: string, key: string, extra: Array<{ type: number; value: Buffer }> = []): { tid: Buffer; msg: Buffer } {
  const tid = newTransactionId();
  const msg = encodeStun(METHOD_BINDING, StunClass.Request, tid, [
    { type: Attr.Username, value: Buffer.from(username) },
    { type: Attr.Priority, value: u32(1853824767) },
    { type: Attr.IceControlling, value: Buffer.from('0102030405060708', 'hex') },
    ...extra,
  ], { integrityKey: key, fingerprint: true });
  return { tid, msg };
}

describe('ICE connectivity checks over real UDP', () => {
  it('an authenticated nominated check selects the pair: media goes there, forged STUN changes nothing', async () => {
    const a = await RtpPeer.open();
    const b = await RtpPeer.open();
    const forger = await RtpPeer.open();
    peers.push(a, b, forger);
    let relayUfrag = '';
    const ice = new StunPeer(a, () => relayUfrag);
    t.newCall();
    // A (ICE) advertises a dead port in m=/c=; only its candidate names its real socket
    const offerCaps = await t.offer('ICE checks offer', { ICE: 'remove' }, `
v=0
o=- 1 1 IN IP4 127.0.0.1
s=tester
t=0 0
m=audio 9 RTP/AVP 0
c=IN IP4 127.0.0.1
a=ice-ufrag:${ice.ufrag}
a=ice-pwd:${ice.pwd}
a=candidate:1 1 UDP 2130706431 127.0.0.1 ${a.port} typ host
a=rtcp-mux
a=sendrecv
${sep}
v=0
o=- 1 1 IN IP4 127.0.0.1
s=tester
t=0 0
m=audio PORT RTP/AVP 0
c=IN IP4 127.0.0.1
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
a=rtcp-mux
`);
    const relayToB = Number(offerCaps[0]);
    const answerCaps = await t.answer('ICE checks answer', {}, `
v=0
o=- 2 1 IN IP4 127.0.0.1
s=tester
t=0 0
m=audio ${b.port} RTP/AVP 0
c=IN IP4 127.0.0.1
a=rtcp-mux
a=sendrecv
${sep}
v=0
o=- 2 1 IN IP4 127.0.0.1
s=tester
t=0 0
m=audio PORT RTP/AVP 0
c=IN IP4 127.0.0.1
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
a=rtcp-mux
a=ice-ufrag:ICEUFRAG
a=ice-pwd:ICEPWD
a=ice-options:trickle
a=candidate:ICEBASE 1 UDP 2130706431 127.0.0.1 PORT typ host
a=end-of-candidates
`);
    const relayToA = Number(answerCaps[0]);
    relayUfrag = answerCaps[2]!;
    const relayPwd = answerCaps[3]!;

    // garbage and forged STUN first: no answer, nothing selected
    forger.send(Buffer.from('0001000021120000deadbeef', 'hex'), relayToA);
    forger.send(check(`${relayUfrag}:${ice.ufrag}`, 'not the password at all', [{ type: Attr.UseCandidate, value: Buffer.alloc(0) }]).msg, relayToA);
    forger.send(check(`wrongufr:${ice.ufrag}`, relayPwd, [{ type: Attr.UseCandidate, value: Buffer.alloc(0) }]).msg, relayToA);
    expect((await forger.settle(200)).length, 'unauthenticated STUN is never answered').toBe(0);

    // A's nominated check (A controls: the relay answered A's offer)
    const { tid, msg } = check(`${relayUfrag}:${ice.ufrag}`, relayPwd, [{ type: Attr.UseCandidate, value: Buffer.alloc(0) }]);
    a.send(msg, relayToA);
    let response: Buffer | undefined;
    for (let i = 0; i < 40 && (!response || ice.requestsSeen === 0); i++) {
      await a.waitFor(1, 100);
      const { responses } = ice.drain();
      response ??= responses.find((r) => decodeStun(r)?.transactionId.equals(tid));
    }
    expect(response, 'the check is answered').toBeDefined();
    const res = decodeStun(response!)!;
    expect(res.cls).toBe(StunClass.Success);
    expect(checkIntegrity(res, relayPwd)).toBe(true);
    expect(checkFingerprint(res)).toBe(true);
    expect(readXorAddress(attribute(res, Attr.XorMappedAddress)!, res.transactionId)).toEqual({ family: 4, address: '127.0.0.1', port: a.port });
    expect(ice.requestsSeen, 'the relay sent its own (triggered) check to A').toBeGreaterThan(0);
    await sleep(100);
    ice.drain();

    // B speaks first: its RTP reaches A's real socket, not the port in A's m= line
    for (let i = 0; i < 5; i++) b.send(rtpPacket(i, { ssrc: 0xb }), relayToB);
    let got: Buffer[] = [];
    for (let i = 0; i < 20 && got.length < 5; i++) {
      await a.waitFor(1, 100);
      got = got.concat(ice.drain().rtp);
    }
    expect(got.length).toBe(5);
    expect(got[0]!.equals(rtpPacket(0, { ssrc: 0xb }))).toBe(true);

    // a forged nomination from elsewhere does not move media
    forger.send(check(`${relayUfrag}:${ice.ufrag}`, 'wrong', [{ type: Attr.UseCandidate, value: Buffer.alloc(0) }]).msg, relayToA);
    await sleep(100);
    b.send(rtpPacket(9, { ssrc: 0xb }), relayToB);
    await a.waitFor(1, 500);
    expect(ice.drain().rtp.length).toBe(1);
    expect((await forger.settle(100)).length).toBe(0);

    const q = await t.query();
    const stream = q.tags[t.fromTag].medias[0].streams[0];
    expect(stream.endpoint).toEqual({ family: 'IPv4', address: '127.0.0.1', port: a.port });
    expect(stream.stats.errors, 'garbage and forged STUN were counted').toBeGreaterThanOrEqual(4);
    await t.deleteCall();
  });
});
