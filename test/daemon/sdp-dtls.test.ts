/**
 * DTLS-SRTP SDP rules through a real daemon (auto-daemon style, FINGERPRINT256 / FINGERPRINT /
 * TLS_ID placeholders): a=setup/a=fingerprint/a=tls-id toward each side, the `DTLS`,
 * `DTLS-reverse`, `DTLS-fingerprint` and `no-tls-id` flags, UDP/TLS/RTP/SAVPF ↔ RTP/AVP; then
 * bad input on the wire: garbage DTLS records counted and dropped, a handshake that never
 * finishes fails within its (shortened) limit with its timers stopped; and the clear error reply
 * of a daemon without DTLS. Each daemon ends with the zero-leak assertion.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AutoTest } from '../helpers/autotest.js';
import { startDaemon, type DaemonHandle } from '../helpers/daemon.js';
import { expectNoLeaks } from '../helpers/leaks.js';
import { RtpPeer } from '../helpers/rtp-peer.js';
import { sleep } from '../../support/sleep.js';

let d: DaemonHandle;
let t: AutoTest;

beforeAll(async () => {
  d = await startDaemon([], { env: { RTPENGINE_TS_DTLS_HANDSHAKE_MS: '1500' } });
  t = new AutoTest(d);
});

afterAll(async () => {
  await t.cleanup();
  await expectNoLeaks(d);
  await d.stop();
});

const sep = '----------------------------------';
/** Some peer's certificate fingerprint (the handshake is not run in the SDP-only cases). */
const PEER_FP = 'sha-256 ' + Array.from({ length: 32 }, (_, i) => ((i * 7 + 3) & 0xff).toString(16).padStart(2, '0').toUpperCase()).join(':');

function dtlsOffer(port: number, setup = 'actpass', extra = ''): string {
  return `
v=0
o=- 1545997027 1 IN IP4 198.51.100.23
s=tester
c=IN IP4 127.0.0.1
t=0 0
m=audio ${port} RTP/SAVP 0
a=setup:${setup}
a=fingerprint:${PEER_FP}
a=tls-id:xxxxxxxxxxxxxxxx
${extra}`;
}

/** An SDP body as sent on the wire (the templates start with a newline, as AutoTest's do). */
/** `statistics` → totalstatistics. */
async function totals(): Promise<Record<string, unknown>> {
  const stats = (await d.ng.request({ command: 'statistics' })).statistics as Record<string, Record<string, unknown>>;
  return stats.totalstatistics!;
}

function crlf(sdp: string): string {
  return sdp.replace(/^\n/, '').replace(/\n/g, '\r\n');
}

const plainOut = `
v=0
o=- 1545997027 1 IN IP4 198.51.100.23
s=tester
t=0 0
m=audio PORT RTP/AVP 0
c=IN IP4 127.0.0.1
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
`;

function plainAnswer(port: number): string {
  return `
v=0
o=- 1545997027 1 IN IP4 198.51.100.23
s=tester
c=IN IP4 127.0.0.1
t=0 0
m=audio ${port} RTP/AVP 0
`;
}

describe('DTLS SDP rules', () => {
  it('a DTLS offerer toward plain RTP: its lines go, the answer says active with our fingerprint', async () => {
    t.newCall();
    await t.offer('DTLS bkw', { 'transport-protocol': 'RTP/AVP' }, `${dtlsOffer(3008)}${sep}${plainOut}`);
    await t.answer('DTLS bkw', {}, `${plainAnswer(3010)}${sep}
v=0
o=- 1545997027 1 IN IP4 198.51.100.23
s=tester
t=0 0
m=audio PORT RTP/SAVP 0
c=IN IP4 127.0.0.1
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
a=setup:active
a=fingerprint:sha-256 FINGERPRINT256
a=tls-id:TLS_ID
`);
    const q = await t.query();
    const media = (q.tags as Record<string, { medias: Array<{ flags: string[]; streams: Array<Record<string, unknown>> }> }>)[t.fromTag]!.medias[0]!;
    expect(media.flags).toContain('DTLS-SRTP');
    expect(media.streams[0]!.DTLS).toEqual({ role: 'active', state: 'handshaking' });
    await t.deleteCall();
  });

  it('DTLS=passive, DTLS-fingerprint=sha-1, no-tls-id', async () => {
    t.newCall();
    await t.offer('DTLS passive', { 'transport-protocol': 'RTP/AVP', DTLS: 'passive', 'DTLS-fingerprint': 'SHA-1', flags: ['no-tls-id'] }, `${dtlsOffer(3012)}${sep}${plainOut}`);
    await t.answer('DTLS passive', { 'DTLS-fingerprint': 'SHA-1', flags: ['no-tls-id'] }, `${plainAnswer(3014)}${sep}
v=0
o=- 1545997027 1 IN IP4 198.51.100.23
s=tester
t=0 0
m=audio PORT RTP/SAVP 0
c=IN IP4 127.0.0.1
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
a=setup:passive
a=fingerprint:sha-1 FINGERPRINT
`);
    await t.deleteCall();
  });

  it("the offerer's a=setup:passive makes us active whatever we prefer; DTLS-reverse=passive toward actpass", async () => {
    t.newCall();
    await t.offer('offerer passive', { 'transport-protocol': 'RTP/AVP', DTLS: 'passive' }, `${dtlsOffer(3016, 'passive')}${sep}${plainOut}`);
    const [, , fp] = await t.answer('offerer passive', {}, `${plainAnswer(3018)}${sep}
v=0
o=- 1545997027 1 IN IP4 198.51.100.23
s=tester
t=0 0
m=audio PORT RTP/SAVP 0
c=IN IP4 127.0.0.1
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
a=setup:active
a=fingerprint:sha-256 FINGERPRINT256
a=tls-id:TLS_ID
`);
    expect(fp).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    await t.deleteCall();
    t.newCall();
    await t.offer('DTLS-reverse', { 'transport-protocol': 'RTP/AVP', 'DTLS-reverse': 'passive' }, `${dtlsOffer(3020)}${sep}${plainOut}`);
    await t.answer('DTLS-reverse', {}, `${plainAnswer(3022)}${sep}
v=0
o=- 1545997027 1 IN IP4 198.51.100.23
s=tester
t=0 0
m=audio PORT RTP/SAVP 0
c=IN IP4 127.0.0.1
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
a=setup:passive
a=fingerprint:sha-256 FINGERPRINT256
a=tls-id:TLS_ID
`);
    await t.deleteCall();
  });

  it('plain RTP toward UDP/TLS/RTP/SAVPF: actpass, no a=crypto; the answerer\'s active makes us passive', async () => {
    t.newCall();
    await t.offer('DTLS fwd', { 'transport-protocol': 'UDP/TLS/RTP/SAVPF', ICE: 'remove' }, `${plainAnswer(3024)}${sep}
v=0
o=- 1545997027 1 IN IP4 198.51.100.23
s=tester
t=0 0
m=audio PORT UDP/TLS/RTP/SAVPF 0
c=IN IP4 127.0.0.1
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
a=setup:actpass
a=fingerprint:sha-256 FINGERPRINT256
a=tls-id:TLS_ID
`);
    await t.answer('DTLS fwd', { 'transport-protocol': 'RTP/AVP' }, `
v=0
o=- 1545997027 1 IN IP4 198.51.100.23
s=tester
c=IN IP4 127.0.0.1
t=0 0
m=audio 3026 UDP/TLS/RTP/SAVPF 0
a=setup:active
a=fingerprint:${PEER_FP}
${sep}${plainOut}`);
    const q = await t.query();
    const media = (q.tags as Record<string, { medias: Array<{ streams: Array<Record<string, unknown>> }> }>)[t.toTag]!.medias[0]!;
    expect(media.streams[0]!.DTLS).toEqual({ role: 'passive', state: 'handshaking' });
    await t.deleteCall();
  });

  it('DTLS=off: SAVP toward the receiver is keyed by SDES only', async () => {
    t.newCall();
    const [, , crypto] = await t.offer('DTLS off', { 'transport-protocol': 'RTP/SAVP', DTLS: 'off', SDES: ['only-AES_CM_128_HMAC_SHA1_80'] }, `${plainAnswer(3028)}${sep}
v=0
o=- 1545997027 1 IN IP4 198.51.100.23
s=tester
t=0 0
m=audio PORT RTP/SAVP 0
c=IN IP4 127.0.0.1
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:CRYPTO128
`);
    expect(crypto).toHaveLength(40);
    await t.deleteCall();
  });
});

describe('DTLS bad input on the wire', () => {
  it('a handshake that never finishes: ClientHellos retransmitted, then failed and counted, timers stopped', async () => {
    const peer = await RtpPeer.open();
    try {
      t.newCall();
      await t.request('offer', 'never finishes', { 'from-tag': t.fromTag, sdp: crlf(dtlsOffer(peer.port, 'passive')), 'transport-protocol': 'RTP/AVP', ICE: 'remove' });
      await t.request('answer', 'never finishes', { 'from-tag': t.fromTag, 'to-tag': t.toTag, sdp: crlf(plainAnswer(3030)) });
      const before = Number((await totals()).dtlsfailures);
      // we are active toward an offerer that said passive: our ClientHello goes to it at once
      await peer.waitFor(1, 2000);
      expect(peer.received[0]!.data[0], 'a DTLS handshake record').toBe(22);
      await sleep(2200);
      const hellos = peer.received.filter((r) => r.data[0] === 22).length;
      expect(hellos, 'first flight and at least one retransmission').toBeGreaterThanOrEqual(2);
      const q = await t.query();
      const stream = (q.tags as Record<string, { medias: Array<{ streams: Array<Record<string, unknown>> }> }>)[t.fromTag]!.medias[0]!.streams[0]!;
      expect(stream.DTLS).toMatchObject({ role: 'active', state: 'failed' });
      expect(String((stream.DTLS as Record<string, unknown>).reason)).toMatch(/did not finish within 1500 ms/);
      const after = Number((await totals()).dtlsfailures);
      // both components failed: without rtcp-mux, RTCP runs its own association (RFC 5764 §4.1.2)
      expect(after).toBe(before + 2);
      await sleep(1500);
      expect(peer.received.filter((r) => r.data[0] === 22).length, 'nothing sent after the failure').toBe(hellos);
      await t.deleteCall();
    } finally {
      peer.close();
    }
  });

  it('garbage DTLS records are counted and dropped; media stays blocked before keys', async () => {
    const peer = await RtpPeer.open();
    const plain = await RtpPeer.open();
    try {
      t.newCall();
      const offer = await t.request('offer', 'garbage', { 'from-tag': t.fromTag, sdp: crlf(dtlsOffer(peer.port, 'active')), 'transport-protocol': 'RTP/AVP', ICE: 'remove' });
      const answer = await t.request('answer', 'garbage', { 'from-tag': t.fromTag, 'to-tag': t.toTag, sdp: crlf(plainAnswer(plain.port)) });
      const relayToDtls = Number(/m=audio (\d+)/.exec(String(answer.sdp))![1]);
      const relayToPlain = Number(/m=audio (\d+)/.exec(String(offer.sdp))![1]);
      const before = Number((await totals()).droppedinvalidpackets);
      peer.send(Buffer.from([22, 0xfe, 0xfd, 0, 1, 2]), relayToDtls);
      peer.send(Buffer.concat([Buffer.from([23, 0xfe, 0xfd]), Buffer.alloc(8), Buffer.from([0xff, 0xff])]), relayToDtls);
      peer.send(Buffer.alloc(50, 63), relayToDtls);
      // RTP from either side before the handshake: blocked, never relayed in the clear
      peer.send(Buffer.concat([Buffer.from([0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1]), Buffer.alloc(160)]), relayToDtls);
      plain.send(Buffer.concat([Buffer.from([0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2]), Buffer.alloc(160)]), relayToPlain);
      await sleep(300);
      const after = Number((await totals()).droppedinvalidpackets);
      expect(after - before).toBeGreaterThanOrEqual(4);
      expect(plain.received).toHaveLength(0);
      expect(peer.received.filter((r) => r.data[0]! >= 128)).toHaveLength(0);
      await t.deleteCall();
    } finally {
      peer.close();
      plain.close();
    }
  });
});

describe('a daemon without DTLS', () => {
  let nd: DaemonHandle;
  let nt: AutoTest;
  beforeAll(async () => {
    nd = await startDaemon([], { env: { RTPENGINE_TS_NO_DTLS: '1' } });
    nt = new AutoTest(nd);
  });
  afterAll(async () => {
    await nt.cleanup();
    await expectNoLeaks(nd);
    await nd.stop();
  });

  it('an offer that needs DTLS gets a clear error reply; SDES offers still work', async () => {
    nt.newCall();
    const reason = await nt.offerError('no DTLS', { 'transport-protocol': 'RTP/AVP' }, dtlsOffer(3040));
    expect(reason).toBe('DTLS-SRTP unavailable: DTLS disabled (RTPENGINE_TS_NO_DTLS=1)');
    nt.newCall();
    const reason2 = await nt.offerError('no DTLS toward UDP/TLS', { 'transport-protocol': 'UDP/TLS/RTP/SAVPF' }, plainAnswer(3042));
    expect(reason2).toMatch(/^DTLS-SRTP unavailable/);
    nt.newCall();
    await nt.offer('SDES still', { 'transport-protocol': 'RTP/SAVP', SDES: ['only-AES_CM_128_HMAC_SHA1_80'] }, `${plainAnswer(3044)}${sep}
v=0
o=- 1545997027 1 IN IP4 198.51.100.23
s=tester
t=0 0
m=audio PORT RTP/SAVP 0
c=IN IP4 127.0.0.1
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:CRYPTO128
`);
  });
});
