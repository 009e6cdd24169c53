/**
 * Auto-daemon-style SDP tests: rtcp-mux negotiation (offer / demux / accept / require / reject)
 * and ICE removal.
 *
 * rtcp-mux semantics follow rtpengine (call.c __rtcp_mux_logic, sdp.c print_rtcp): where mux is
 * only offered, a=rtcp names the separate RTCP port (RTP + 1) next to a=rtcp-mux, because the
 * answerer may still decline; where mux is settled (an answer, or `require` in an offer),
 * a=rtcp names the RTP port itself.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AutoTest } from '../helpers/autotest.js';
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

const sep = '----------------------------------';

const offerIn = (mux: boolean) => `
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio 2000 RTP/AVP 0
c=IN IP4 198.51.100.1
a=sendrecv
${mux ? 'a=rtcp-mux\n' : ''}`;

const answerIn = (mux: boolean) => `
v=0
o=- 1545997028 1 IN IP4 198.51.100.3
s=tester
t=0 0
m=audio 2002 RTP/AVP 0
c=IN IP4 198.51.100.3
a=sendrecv
${mux ? 'a=rtcp-mux\n' : ''}`;

const offerOut = (mux: boolean) => `
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio PORT RTP/AVP 0
c=IN IP4 127.0.0.1
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
${mux ? 'a=rtcp-mux\n' : ''}`;

const answerOut = (mux: boolean) => `
v=0
o=- 1545997028 1 IN IP4 198.51.100.3
s=tester
t=0 0
m=audio PORT RTP/AVP 0
c=IN IP4 127.0.0.1
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
${mux ? 'a=rtcp-mux\n' : ''}`;

/** a=rtcp names the separate RTCP port. */
function separateRtcp([rtp, rtcp]: string[], what: string): void {
  expect(Number(rtcp), `${what}: a=rtcp is RTP port + 1`).toBe(Number(rtp) + 1);
}
/** a=rtcp names the RTP port (mux settled). */
function muxedRtcp([rtp, rtcp]: string[], what: string): void {
  expect(rtcp, `${what}: a=rtcp is the RTP port itself`).toBe(rtp);
}

describe('rtcp-mux', () => {
  it('default: offered mux is passed on and accepted when the answerer accepts it', async () => {
    t.newCall();
    separateRtcp(await t.offer('mux default', {}, offerIn(true) + sep + offerOut(true)), 'offer');
    muxedRtcp(await t.answer('mux default', {}, answerIn(true) + sep + answerOut(true)), 'answer');
  });

  it('default: the answerer declines mux, so the offerer gets no mux', async () => {
    t.newCall();
    separateRtcp(await t.offer('mux declined', {}, offerIn(true) + sep + offerOut(true)), 'offer');
    separateRtcp(await t.answer('mux declined', {}, answerIn(false) + sep + answerOut(false)), 'answer');
  });

  it('default: no mux offered, none added', async () => {
    t.newCall();
    separateRtcp(await t.offer('no mux', {}, offerIn(false) + sep + offerOut(false)), 'offer');
    separateRtcp(await t.answer('no mux', {}, answerIn(false) + sep + answerOut(false)), 'answer');
  });

  it('demux: not offered to the answerer, but accepted toward the offerer', async () => {
    t.newCall();
    separateRtcp(await t.offer('demux', { 'rtcp-mux': ['demux'] }, offerIn(true) + sep + offerOut(false)), 'offer');
    muxedRtcp(await t.answer('demux', {}, answerIn(false) + sep + answerOut(true)), 'answer');
  });

  it('demux as a flag (rtcp-mux-demux)', async () => {
    t.newCall();
    separateRtcp(await t.offer('rtcp-mux-demux', { flags: ['rtcp-mux-demux'] }, offerIn(true) + sep + offerOut(false)), 'offer');
    muxedRtcp(await t.answer('rtcp-mux-demux', {}, answerIn(false) + sep + answerOut(true)), 'answer');
  });

  it('offer: mux offered to the answerer although the offerer did not, never accepted back', async () => {
    t.newCall();
    separateRtcp(await t.offer('mux offer', { 'rtcp-mux': ['offer'] }, offerIn(false) + sep + offerOut(true)), 'offer');
    separateRtcp(await t.answer('mux offer', {}, answerIn(true) + sep + answerOut(false)), 'answer');
  });

  it('require: mux offered as already settled (a=rtcp is the RTP port)', async () => {
    t.newCall();
    muxedRtcp(await t.offer('mux require', { 'rtcp-mux': ['require'] }, offerIn(false) + sep + offerOut(true)), 'offer');
    separateRtcp(await t.answer('mux require', {}, answerIn(true) + sep + answerOut(false)), 'answer');
  });

  it('accept: mux is accepted toward the offerer even if the answerer declines', async () => {
    t.newCall();
    separateRtcp(await t.offer('mux accept', { 'rtcp-mux': ['accept'] }, offerIn(true) + sep + offerOut(true)), 'offer');
    muxedRtcp(await t.answer('mux accept', {}, answerIn(false) + sep + answerOut(true)), 'answer');
  });

  it('reject: mux is refused toward the offerer even if the answerer accepts', async () => {
    t.newCall();
    separateRtcp(await t.offer('mux reject', { 'rtcp-mux': ['reject'] }, offerIn(true) + sep + offerOut(true)), 'offer');
    separateRtcp(await t.answer('mux reject', {}, answerIn(true) + sep + answerOut(false)), 'answer');
  });

  it('the offerer\'s own a=rtcp line is replaced by the relay\'s', async () => {
    t.newCall();
    const ports = await t.offer('offerer a=rtcp', {}, `
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio 2000 RTP/AVP 0
c=IN IP4 198.51.100.1
a=rtcp:2001 IN IP4 198.51.100.1
a=sendrecv
${sep}
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
    separateRtcp(ports, 'offer');
  });
});

describe('a=rtcp attribute flags', () => {
  it('full-rtcp-attribute names the address too', async () => {
    t.newCall();
    separateRtcp(await t.offer('full-rtcp-attribute', { flags: ['full-rtcp-attribute'] }, `${offerIn(false)}${sep}
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio PORT RTP/AVP 0
c=IN IP4 127.0.0.1
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT IN IP4 127.0.0.1
`), 'offer');
  });

  it('no-rtcp-attribute leaves a=rtcp out', async () => {
    t.newCall();
    await t.offer('no-rtcp-attribute', { flags: ['no-rtcp-attribute'] }, `${offerIn(false)}${sep}
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio PORT RTP/AVP 0
c=IN IP4 127.0.0.1
a=rtpmap:0 PCMU/8000
a=sendrecv
`);
  });
});

describe('ICE remove', () => {
  it('strips candidates, ufrag, pwd and ICE options from offer and answer', async () => {
    t.newCall();
    await t.offer('ICE remove', { ICE: 'remove' }, `
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
a=ice-options:trickle
m=audio 2000 RTP/AVP 0 8
c=IN IP4 198.51.100.1
a=ice-ufrag:q2eRfx8Z
a=ice-pwd:Ln8i2CXk3dVq7yQ0cHb5ww1a
a=candidate:1 1 UDP 2130706431 198.51.100.1 2000 typ host
a=candidate:1 2 UDP 2130706430 198.51.100.1 2001 typ host
a=candidate:2 1 UDP 1694498815 192.0.2.44 40000 typ srflx raddr 198.51.100.1 rport 2000
a=end-of-candidates
a=sendrecv
${sep}
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
`);
    await t.answer('ICE remove', { ICE: 'remove' }, `
v=0
o=- 1545997028 1 IN IP4 198.51.100.3
s=tester
t=0 0
m=audio 2002 RTP/AVP 8
c=IN IP4 198.51.100.3
a=ice-ufrag:Z9xw8vU7
a=ice-pwd:pWq7uY6tR5eE4wW3qQ2aA1sS
a=candidate:7 1 UDP 2130706431 198.51.100.3 2002 typ host
a=candidate:7 2 UDP 2130706430 198.51.100.3 2003 typ host
a=sendrecv
${sep}
v=0
o=- 1545997028 1 IN IP4 198.51.100.3
s=tester
t=0 0
m=audio PORT RTP/AVP 8
c=IN IP4 127.0.0.1
a=rtpmap:8 PCMA/8000
a=sendrecv
a=rtcp:PORT
`);
  });

  it('session-level ICE credentials are removed as well', async () => {
    t.newCall();
    await t.offer('ICE remove session-level', { ICE: 'remove' }, `
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
a=ice-ufrag:q2eRfx8Z
a=ice-pwd:Ln8i2CXk3dVq7yQ0cHb5ww1a
a=ice-lite
m=audio 2000 RTP/AVP 0
c=IN IP4 198.51.100.1
a=candidate:1 1 UDP 2130706431 198.51.100.1 2000 typ host
a=sendrecv
${sep}
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
  });

  it('ICE removal together with rtcp-mux keeps the mux attributes in place', async () => {
    t.newCall();
    const ports = await t.offer('ICE remove + mux', { ICE: 'remove' }, `
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio 2000 RTP/AVP 0
c=IN IP4 198.51.100.1
a=ice-ufrag:q2eRfx8Z
a=ice-pwd:Ln8i2CXk3dVq7yQ0cHb5ww1a
a=candidate:1 1 UDP 2130706431 198.51.100.1 2000 typ host
a=sendrecv
a=rtcp-mux
${sep}
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
`);
    separateRtcp(ports, 'offer');
  });
});

describe('cleanup', () => {
  it('deletes every call and leaves no leaks', async () => {
    await t.cleanup();
    await expectNoLeaks(d);
  });
});
