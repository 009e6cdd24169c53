/**
 * ICE host candidates for every address of an interface (rtpengine offers them all): with two
 * addresses on one interface the relay writes a host candidate on each (own port pair, own
 * foundation, local preference by position), answers checks on either, and once a pair on the
 * second address is selected, media to that participant leaves from it. Ends with the zero-leak
 * assertion.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Attr, decodeStun, encodeStun, METHOD_BINDING, newTransactionId, StunClass, u32, xorAddressValue } from '../../daemon/ice/stun.js';
import { AutoTest } from '../helpers/autotest.js';
import { startDaemon, type DaemonHandle } from '../helpers/daemon.js';
import { expectNoLeaks } from '../helpers/leaks.js';
import { RtpPeer, rtpPacket } from '../helpers/rtp-peer.js';

let d: DaemonHandle;
let t: AutoTest;
const peers: RtpPeer[] = [];

beforeAll(async () => {
  d = await startDaemon([], { interfaces: ['127.0.0.1', '127.0.0.2'] });
  t = new AutoTest(d);
});

afterAll(async () => {
  for (const p of peers) p.close();
  await t.cleanup();
  await expectNoLeaks(d);
  await d.stop();
});

const sep = '----------------------------------';

describe('ICE host candidates on every address of the interface', () => {
  it('one host candidate per address; a pair selected on the second address carries the media', async () => {
    const a = await RtpPeer.open();
    const b = await RtpPeer.open();
    peers.push(a, b);
    t.newCall();
    await t.offer('ICE offer', { ICE: 'remove' }, `
v=0
o=- 1 1 IN IP4 127.0.0.1
s=tester
t=0 0
m=audio 9 RTP/AVP 0
c=IN IP4 127.0.0.1
a=ice-ufrag:hOsTsUfR
a=ice-pwd:hostspasswordhostspasswd
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
    const caps = await t.answer('ICE answer: both addresses', {}, `
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
a=candidate:ICEBASE 1 UDP 2130706175 127.0.0.2 PORT typ host
a=end-of-candidates
`);
    const [primaryPort, , relayUfrag, relayPwd, base1, candPort1, base2, secondPort] = caps;
    expect(candPort1).toBe(primaryPort);
    expect(base2).not.toBe(base1);
    expect(secondPort).not.toBe(undefined);
    // A checks (nominated) the candidate on 127.0.0.2 and answers the relay's checks
    const check = encodeStun(METHOD_BINDING, StunClass.Request, newTransactionId(), [
      { type: Attr.Username, value: Buffer.from(`${relayUfrag}:hOsTsUfR`) },
      { type: Attr.Priority, value: u32(1853824767) },
      { type: Attr.IceControlling, value: Buffer.from('0102030405060708', 'hex') },
      { type: Attr.UseCandidate, value: Buffer.alloc(0) },
    ], { integrityKey: relayPwd!, fingerprint: true });
    a.send(check, Number(secondPort), '127.0.0.2');
    let answeredFrom = '';
    let relayChecks = 0;
    const media: Array<{ data: Buffer; address: string; port: number }> = [];
    /** What reached A: the relay's checks answered (as an ICE agent does), responses noted, media kept. */
    const drain = (): void => {
      for (const r of a.received.splice(0)) {
        const m = decodeStun(r.data);
        if (m === null) media.push(r);
        else if (m.cls === StunClass.Success) answeredFrom = `${r.address}:${r.port}`;
        else if (m.cls === StunClass.Request) {
          relayChecks++;
          a.send(encodeStun(METHOD_BINDING, StunClass.Success, m.transactionId,
            [{ type: Attr.XorMappedAddress, value: xorAddressValue({ address: r.address, port: r.port, family: 4 }, m.transactionId) }],
            { integrityKey: 'hostspasswordhostspasswd', fingerprint: true }), r.port, r.address);
        }
      }
    };
    const deadline = Date.now() + 2000;
    while ((answeredFrom === '' || relayChecks === 0) && Date.now() < deadline) {
      await a.waitFor(1, 200);
      drain();
    }
    expect(answeredFrom).toBe(`127.0.0.2:${secondPort}`);
    expect(relayChecks).toBeGreaterThan(0);
    a.send(check, Number(secondPort), '127.0.0.2');
    // B sends to the relay port named in the offer it got
    const query = await t.query();
    const tags = query.tags as Record<string, { medias: Array<{ streams: Array<{ 'local port': number }> }> }>;
    const toB = tags[t.toTag]!.medias[0]!.streams[0]!['local port'];
    // B keeps sending (as a phone does) until the relay forwards to A; A keeps answering the
    // relay's checks meanwhile: the nominated pair is selected once the relay's own check on it
    // (its triggered check, which may come after the checks counted above) has an answer
    const end = Date.now() + 5000;
    for (let seq = 2; Date.now() < end && media.length === 0; seq++) {
      b.send(rtpPacket(seq, { ssrc: 0x33 }), toB);
      await a.waitFor(1, 200);
      drain();
    }
    expect(media.length).toBeGreaterThan(0);
    expect(`${media[0]!.address}:${media[0]!.port}`).toBe(`127.0.0.2:${secondPort}`);
  });
});
