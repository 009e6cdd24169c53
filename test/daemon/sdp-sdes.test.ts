/**
 * Auto-daemon-style tests of SDES negotiation (`a=crypto`, RFC 4568) and transport protocol
 * conversion, as rtpengine behaves: pass-through of the offerer's lines, rtpengine's own
 * suites appended (GCM first), the SDES flag family, RTP↔SRTP conversion, OSRTP (RFC 8643),
 * malformed lines ignored, keys stable across re-INVITEs.
 *
 * Keys in the input SDPs are made fresh per run; the relay's keys are matched with the
 * CRYPTO128/CRYPTO192/CRYPTO256 (and …S for GCM) placeholders.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
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
/** A key of `n` bytes as an offerer writes it (with base64 padding) and as rtpengine repeats it (without). */
function key(n: number): { in: string; out: string } {
  const b64 = randomBytes(n).toString('base64');
  return { in: b64, out: b64.replace(/=+$/, '') };
}
const K128 = () => key(30);
const K256 = () => key(46);

const head = (addr: string) => `v=0
o=- 1545997027 1 IN IP4 ${addr}
s=tester
t=0 0
`;
const outMedia = (proto: string) => `m=audio PORT ${proto} 0
c=IN IP4 127.0.0.1
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
`;
const offerHead = (proto: string) => `${head('198.51.100.1')}m=audio 2000 ${proto} 0
c=IN IP4 198.51.100.1
a=sendrecv
`;
const answerHead = (proto: string) => `${head('198.51.100.3')}m=audio 2002 ${proto} 0
c=IN IP4 198.51.100.3
a=sendrecv
`;

/** rtpengine's own suites after the offerer's, numbered from `from`, except `skip`. */
function generated(from: number, skip: string[] = []): string {
  const all: Array<[string, string]> = [
    ['AEAD_AES_256_GCM', 'CRYPTO256S'], ['AEAD_AES_128_GCM', 'CRYPTO128S'],
    ['AES_256_CM_HMAC_SHA1_80', 'CRYPTO256'], ['AES_256_CM_HMAC_SHA1_32', 'CRYPTO256'],
    ['AES_192_CM_HMAC_SHA1_80', 'CRYPTO192'], ['AES_192_CM_HMAC_SHA1_32', 'CRYPTO192'],
    ['AES_CM_128_HMAC_SHA1_80', 'CRYPTO128'], ['AES_CM_128_HMAC_SHA1_32', 'CRYPTO128'],
    ['F8_128_HMAC_SHA1_80', 'CRYPTO128'], ['F8_128_HMAC_SHA1_32', 'CRYPTO128'],
    ['NULL_HMAC_SHA1_80', 'CRYPTO128'], ['NULL_HMAC_SHA1_32', 'CRYPTO128'],
  ];
  let tag = from;
  return all.filter(([n]) => !skip.includes(n)).map(([n, p]) => `a=crypto:${tag++} ${n} inline:${p}\n`).join('');
}

describe('SDES pass-through and rtpengine suites', () => {
  it('SRTP offer: the offerer\'s lines pass, rtpengine\'s suites follow; the answerer\'s line goes back unchanged', async () => {
    t.newCall();
    const a = K128();
    const b = K256();
    const c = K128();
    await t.offer('pass-through', { ICE: 'remove' }, `${offerHead('RTP/SAVP')}a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${a.in}
a=crypto:2 AES_256_CM_HMAC_SHA1_80 inline:${b.in}
${sep}
${head('198.51.100.1')}${outMedia('RTP/SAVP')}a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${a.out}
a=crypto:2 AES_256_CM_HMAC_SHA1_80 inline:${b.out}
${generated(3, ['AES_CM_128_HMAC_SHA1_80', 'AES_256_CM_HMAC_SHA1_80'])}`);
    await t.answer('pass-through', { ICE: 'remove' }, `${answerHead('RTP/SAVP')}a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${c.in}
${sep}
${head('198.51.100.3')}${outMedia('RTP/SAVP')}a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${c.out}
`);
  });

  it('the answerer picks one of rtpengine\'s suites: the offerer gets its first line with a new key (re-keyed)', async () => {
    t.newCall();
    const a = K128();
    const [, , gcm] = await t.offer('re-key', {}, `${offerHead('RTP/SAVP')}a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${a.in}
${sep}
${head('198.51.100.1')}${outMedia('RTP/SAVP')}a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${a.out}
${generated(2, ['AES_CM_128_HMAC_SHA1_80'])}`);
    expect(gcm).toHaveLength(59);
    const [, , ours] = await t.answer('re-key', {}, `${answerHead('RTP/SAVP')}a=crypto:2 AEAD_AES_256_GCM inline:${key(44).in}
${sep}
${head('198.51.100.3')}${outMedia('RTP/SAVP')}a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:CRYPTO128
`);
    expect(ours).not.toBe(a.out);
  });

  it('RTP → SRTP (transport-protocol): every suite of rtpengine; the answer goes back plain', async () => {
    t.newCall();
    await t.offer('to SRTP', { 'transport-protocol': 'RTP/SAVP' }, `${offerHead('RTP/AVP')}${sep}
${head('198.51.100.1')}${outMedia('RTP/SAVP')}${generated(1)}`);
    await t.answer('to SRTP', {}, `${answerHead('RTP/SAVP')}a=crypto:7 AES_CM_128_HMAC_SHA1_80 inline:${K128().in}
${sep}
${head('198.51.100.3')}${outMedia('RTP/AVP')}`);
  });

  it('the legacy RTP/SAVPF flag converts too', async () => {
    t.newCall();
    await t.offer('legacy flag', { flags: ['RTP/SAVPF'], SDES: ['only-AES_CM_128_HMAC_SHA1_80'] }, `${offerHead('RTP/AVP')}${sep}
${head('198.51.100.1')}${outMedia('RTP/SAVPF')}a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:CRYPTO128
`);
  });

  it('SRTP → RTP: no crypto toward the answerer; the offerer gets its first line with a key of ours', async () => {
    t.newCall();
    const a = K128();
    await t.offer('to RTP', { 'transport-protocol': 'RTP/AVP' }, `${offerHead('RTP/SAVP')}a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${a.in}
a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:${K128().in}
${sep}
${head('198.51.100.1')}${outMedia('RTP/AVP')}`);
    const [, , ours] = await t.answer('to RTP', {}, `${answerHead('RTP/AVP')}${sep}
${head('198.51.100.3')}${outMedia('RTP/SAVP')}a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:CRYPTO128
`);
    expect(ours).not.toBe(a.out);
  });

  it('SDES off: no crypto lines are generated (DTLS keys the SRTP instead, as rtpengine)', async () => {
    t.newCall();
    await t.offer('SDES off', { 'transport-protocol': 'RTP/SAVP', SDES: ['off'] }, `${offerHead('RTP/AVP')}${sep}
${head('198.51.100.1')}${outMedia('RTP/SAVP')}a=setup:actpass
a=fingerprint:sha-256 FINGERPRINT256
a=tls-id:TLS_ID
`);
  });
});

describe('SDES flags', () => {
  const offer4 = () => {
    const k = [K128(), K128(), K256(), K256()];
    const lines = (which: 'in' | 'out', tags: number[]) => tags.map((tag) => {
      const suite = ['AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32', 'AES_256_CM_HMAC_SHA1_80', 'AES_256_CM_HMAC_SHA1_32'][tag - 1];
      return `a=crypto:${tag} ${suite} inline:${(k[tag - 1] as { in: string; out: string })[which]}\n`;
    }).join('');
    return { k, lines };
  };
  const four = ['AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32', 'AES_256_CM_HMAC_SHA1_80', 'AES_256_CM_HMAC_SHA1_32'];

  it('no-SUITE removes the offerer\'s line and rtpengine\'s', async () => {
    t.newCall();
    const o = offer4();
    await t.offer('no-', { SDES: ['no-AES_CM_128_HMAC_SHA1_32', 'no-F8_128_HMAC_SHA1_80'] }, `${offerHead('RTP/SAVP')}${o.lines('in', [1, 2, 3, 4])}${sep}
${head('198.51.100.1')}${outMedia('RTP/SAVP')}${o.lines('out', [1, 3, 4])}${generated(5, [...four, 'F8_128_HMAC_SHA1_80'])}`);
  });

  it('SDES-only-SUITE as a flag: only that suite, made by us when the offerer lacks it', async () => {
    t.newCall();
    const o = offer4();
    await t.offer('only, not offered', { flags: ['SDES-only-AES_192_CM_HMAC_SHA1_80'] }, `${offerHead('RTP/SAVP')}${o.lines('in', [1, 2])}${sep}
${head('198.51.100.1')}${outMedia('RTP/SAVP')}a=crypto:1 AES_192_CM_HMAC_SHA1_80 inline:CRYPTO192
`);
    // the answerer takes it; the offerer gets its own first suite with a key of ours
    await t.answer('only, not offered', {}, `${answerHead('RTP/SAVP')}a=crypto:1 AES_192_CM_HMAC_SHA1_80 inline:${key(38).in}
${sep}
${head('198.51.100.3')}${outMedia('RTP/SAVP')}a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:CRYPTO128
`);
  });

  it('nonew: only the offerer\'s lines', async () => {
    t.newCall();
    const o = offer4();
    await t.offer('nonew', { SDES: ['nonew'] }, `${offerHead('RTP/SAVP')}${o.lines('in', [1, 2, 3, 4])}${sep}
${head('198.51.100.1')}${outMedia('RTP/SAVP')}${o.lines('out', [1, 2, 3, 4])}`);
  });

  it('order: listed suites first, in the listed order', async () => {
    t.newCall();
    const o = offer4();
    await t.offer('order', { SDES: ['nonew', 'order:AES_256_CM_HMAC_SHA1_32;AES_CM_128_HMAC_SHA1_32'] }, `${offerHead('RTP/SAVP')}${o.lines('in', [1, 2, 3, 4])}${sep}
${head('198.51.100.1')}${outMedia('RTP/SAVP')}${o.lines('out', [4, 2, 1, 3])}`);
  });

  it('offerer_pref: the answer to the offerer uses its preferred suite even if the answerer took another', async () => {
    t.newCall();
    const o = offer4();
    await t.offer('offerer_pref', { SDES: ['nonew', 'offerer_pref:AES_256_CM_HMAC_SHA1_32;AES_256_CM_HMAC_SHA1_80'] }, `${offerHead('RTP/SAVP')}${o.lines('in', [1, 2, 3, 4])}${sep}
${head('198.51.100.1')}${outMedia('RTP/SAVP')}${o.lines('out', [1, 2, 3, 4])}`);
    await t.answer('offerer_pref', {}, `${answerHead('RTP/SAVP')}a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${K128().in}
${sep}
${head('198.51.100.3')}${outMedia('RTP/SAVP')}a=crypto:4 AES_256_CM_HMAC_SHA1_32 inline:CRYPTO256
`);
  });

  it('pad keeps base64 padding, lifetime adds |2^31, unencrypted_srtcp marks our lines', async () => {
    t.newCall();
    const [, , k] = await t.offer('pad lifetime', { 'transport-protocol': 'RTP/SAVP', SDES: ['only-AES_256_CM_HMAC_SHA1_80', 'pad', 'lifetime', 'unencrypted_srtcp'] }, `${offerHead('RTP/AVP')}${sep}
${head('198.51.100.1')}${outMedia('RTP/SAVP')}a=crypto:1 AES_256_CM_HMAC_SHA1_80 inline:CRYPTO256==|2^31 UNENCRYPTED_SRTCP
`);
    expect(Buffer.from(k as string, 'base64')).toHaveLength(46);
  });

  it('MKI and session parameters of the offerer pass through', async () => {
    t.newCall();
    const a = K128();
    await t.offer('mki', { SDES: ['nonew'] }, `${offerHead('RTP/SAVP')}a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${a.in}|2^20|1:4 UNENCRYPTED_SRTP
${sep}
${head('198.51.100.1')}${outMedia('RTP/SAVP')}a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${a.out}|1:4 UNENCRYPTED_SRTP
`);
  });
});

describe('malformed a=crypto lines', () => {
  it('are ignored (bad base64, wrong key length, unknown suite, absurd MKI or lifetime), never fatal', async () => {
    t.newCall();
    const good = K128();
    await t.offer('malformed', { SDES: ['nonew'] }, `${offerHead('RTP/SAVP')}a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:not*base64!
a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:${key(20).in}
a=crypto:3 FOO_BAR_SUITE inline:${K128().in}
a=crypto:4 AES_CM_128_HMAC_SHA1_80 inline:${K128().in}|1:999
a=crypto:5 AES_CM_128_HMAC_SHA1_80 inline:${K128().in}|2^99
a=crypto:6 AES_CM_128_HMAC_SHA1_80
a=crypto:x AES_CM_128_HMAC_SHA1_80 inline:${K128().in}
a=crypto:8 AES_CM_128_HMAC_SHA1_80 inline:${K128().in}|99999999999:2
a=crypto:9 AES_CM_128_HMAC_SHA1_80 inline:${K128().in} KDR=5
a=crypto:10 AES_CM_128_HMAC_SHA1_80 inline:${good.in}
${sep}
${head('198.51.100.1')}${outMedia('RTP/SAVP')}a=crypto:10 AES_CM_128_HMAC_SHA1_80 inline:${good.out}
`);
    // the daemon is still fine
    expect((await d.ng.request({ command: 'ping' })).result).toBe('pong');
  });
});

describe('re-INVITE', () => {
  it('keys stay the same across a re-offer unless the peer changes them', async () => {
    t.newCall();
    const sdpIn = `${offerHead('RTP/AVP')}${sep}
${head('198.51.100.1')}${outMedia('RTP/SAVP')}a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:CRYPTO128
a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:CRYPTO128
`;
    const flags = { 'transport-protocol': 'RTP/SAVP', SDES: ['only-AES_CM_128_HMAC_SHA1_80', 'only-AES_CM_128_HMAC_SHA1_32'] };
    const first = await t.offer('re-offer 1', flags, sdpIn);
    const b1 = K128();
    await t.answer('answer 1', {}, `${answerHead('RTP/SAVP')}a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${b1.in}
${sep}
${head('198.51.100.3')}${outMedia('RTP/AVP')}`);
    const second = await t.offer('re-offer 2', flags, sdpIn);
    expect(second.slice(2)).toEqual(first.slice(2));
    // the answerer re-keys: its new key is what we decrypt with; ours toward it stays
    await t.answer('answer 2', {}, `${answerHead('RTP/SAVP')}a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${K128().in}
${sep}
${head('198.51.100.3')}${outMedia('RTP/AVP')}`);
  });

  it('SRTP offerer: the key of ours in the answer stays across re-INVITEs', async () => {
    t.newCall();
    const a = K128();
    const offer = `${offerHead('RTP/SAVP')}a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${a.in}
${sep}
${head('198.51.100.1')}${outMedia('RTP/AVP')}`;
    const answer = `${answerHead('RTP/AVP')}${sep}
${head('198.51.100.3')}${outMedia('RTP/SAVP')}a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:CRYPTO128
`;
    await t.offer('srtp re-invite 1', { 'transport-protocol': 'RTP/AVP' }, offer);
    const [, , k1] = await t.answer('srtp re-invite 1', {}, answer);
    await t.offer('srtp re-invite 2', { 'transport-protocol': 'RTP/AVP' }, offer);
    const [, , k2] = await t.answer('srtp re-invite 2', {}, answer);
    expect(k2).toBe(k1);
  });
});

describe('OSRTP (RFC 8643)', () => {
  it('offer: a plain offer gets a=crypto lines while staying RTP/AVP; a plain answer stays plain', async () => {
    t.newCall();
    await t.offer('OSRTP offer', { OSRTP: ['offer'], SDES: ['only-AES_CM_128_HMAC_SHA1_80'] }, `${offerHead('RTP/AVP')}${sep}
${head('198.51.100.1')}${outMedia('RTP/AVP')}a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:CRYPTO128
`);
    await t.answer('OSRTP offer, plain answer', {}, `${answerHead('RTP/AVP')}${sep}
${head('198.51.100.3')}${outMedia('RTP/AVP')}`);
  });

  it('accept: an RTP/AVP offer with a=crypto is SRTP toward the offerer, plain toward the answerer', async () => {
    t.newCall();
    await t.offer('OSRTP accept', { OSRTP: ['accept'] }, `${offerHead('RTP/AVP')}a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${K128().in}
${sep}
${head('198.51.100.1')}${outMedia('RTP/AVP')}`);
    await t.answer('OSRTP accept', {}, `${answerHead('RTP/AVP')}${sep}
${head('198.51.100.3')}${outMedia('RTP/AVP')}a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:CRYPTO128
`);
  });

  it('without accept, a=crypto in an RTP/AVP offer passes through untouched', async () => {
    t.newCall();
    const a = K128();
    await t.offer('OSRTP pass', {}, `${offerHead('RTP/AVP')}a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${a.in}
${sep}
${head('198.51.100.1')}${outMedia('RTP/AVP').replace('a=rtpmap', `a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${a.in}\na=rtpmap`)}`);
  });
});

describe('cleanup', () => {
  it('deletes every call and leaves no leaks', async () => {
    await t.cleanup();
    await expectNoLeaks(d);
  });
});
