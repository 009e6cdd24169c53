/**
 * SRTP media through the daemon, with libsrtp2 (test/helpers/srtp-peer.c) as both call
 * parties' SRTP stack: RTP↔SRTP, SRTP↔RTP, SRTP↔SRTP re-keyed and passed through, every suite
 * libsrtp has, with and without rtcp-mux, RTP and RTCP both ways; forged, replayed and
 * truncated packets are counted and dropped while the call goes on. Runs on the JS path and
 * with the fast path on (an SRTP stream then stays on the JS path and `query` says why).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { startDaemon, type DaemonHandle } from '../helpers/daemon.js';
import { expectNoLeaks } from '../helpers/leaks.js';
import { LibSrtpPeer } from '../helpers/libsrtp-peer.js';
import { relayPortsOf, uniqueCallId } from '../helpers/media-call.js';
import { RtpPeer, rtcpPacket, rtpPacket } from '../helpers/rtp-peer.js';
import { findSuite } from '../../daemon/crypto/suites.js';
import { SrtpContext } from '../../daemon/crypto/srtp.js';

const LIBSRTP_SUITES = [
  'AEAD_AES_256_GCM', 'AEAD_AES_128_GCM', 'AES_256_CM_HMAC_SHA1_80', 'AES_256_CM_HMAC_SHA1_32',
  'AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32', 'NULL_HMAC_SHA1_80', 'NULL_HMAC_SHA1_32',
];

interface Party {
  rtp: RtpPeer;
  rtcp: RtpPeer;
  /** libsrtp sessions: protects what the party sends, unprotects what it gets; null = plain. */
  tx: number | null;
  rx: number | null;
  /** The relay's RTP/RTCP ports this party sends to. */
  sendRtp: number;
  sendRtcp: number;
}

interface SideSpec {
  proto: 'RTP/AVP' | 'RTP/SAVP';
  /** The suite this party offers (offerer) or picks from the offer (answerer). */
  suite?: string;
  mux?: boolean;
  /** Answerer: take the offerer's own line (pass-through) instead of one of rtpengine's. */
  takeOfferersLine?: boolean;
}

function sdp(p: { rtp: RtpPeer; rtcp: RtpPeer }, proto: string, crypto: string | null, mux: boolean): string {
  const lines = ['v=0', `o=- 1545997027 1 IN IP4 ${p.rtp.address}`, 's=tester', 't=0 0', `m=audio ${p.rtp.port} ${proto} 0 8`,
    `c=IN IP4 ${p.rtp.address}`, 'a=sendrecv'];
  if (mux) lines.push('a=rtcp-mux');
  else lines.push(`a=rtcp:${p.rtcp.port}`);
  if (crypto) lines.push(`a=crypto:${crypto}`);
  return `${lines.join('\r\n')}\r\n`;
}

interface CryptoLine { tag: number; suite: string; key: Buffer }
function cryptoLinesOf(text: string): CryptoLine[] {
  return [...text.matchAll(/^a=crypto:(\d+) (\S+) inline:([A-Za-z0-9+/=]+)/gm)].map((m) => ({
    tag: Number(m[1]), suite: m[2] as string, key: Buffer.from(m[3] as string, 'base64'),
  }));
}

describe.each([{ fastPath: false }, { fastPath: true }])('SRTP media, fast path $fastPath', ({ fastPath }) => {
  let d: DaemonHandle;
  let lib: LibSrtpPeer;
  const peers: RtpPeer[] = [];

  beforeAll(async () => {
    d = await startDaemon([], { fastPath });
    lib = new LibSrtpPeer();
  });

  afterAll(async () => {
    lib?.close();
    for (const p of peers) p.close();
    await expectNoLeaks(d);
  });

  async function party(): Promise<{ rtp: RtpPeer; rtcp: RtpPeer }> {
    const rtp = await RtpPeer.open();
    const rtcp = await RtpPeer.open();
    peers.push(rtp, rtcp);
    return { rtp, rtcp };
  }

  /** Offer from A, answer from B; libsrtp sessions from the keys both SDPs carry. */
  async function call(a: SideSpec, b: SideSpec, offerFlags: Record<string, unknown> = {}): Promise<{ A: Party; B: Party; callId: string }> {
    const callId = uniqueCallId('srtp');
    const pa = await party();
    const pb = await party();
    let aTx: number | null = null;
    let aKey: Buffer | null = null;
    let aCrypto: string | null = null;
    if (a.proto === 'RTP/SAVP') {
      const suite = findSuite(a.suite as string)!;
      aKey = randomBytes(suite.masterKeyLen + suite.masterSaltLen);
      aCrypto = `1 ${suite.name} inline:${aKey.toString('base64')}`;
      aTx = await lib.session(suite.name, 'out', aKey);
    }
    const offer = await d.ng.request({ command: 'offer', 'call-id': callId, 'from-tag': 'a', sdp: sdp(pa, a.proto, aCrypto, !!a.mux), ...offerFlags });
    expect(offer.result, JSON.stringify(offer)).toBe('ok');
    const toB = relayPortsOf(offer.sdp as string);
    let bTx: number | null = null;
    let bRx: number | null = null;
    let bCrypto: string | null = null;
    if (b.proto === 'RTP/SAVP') {
      const offered = cryptoLinesOf(offer.sdp as string);
      const line = b.takeOfferersLine ? offered.find((l) => l.tag === 1) : offered.find((l) => l.suite === b.suite && l.tag !== 1 || (l.suite === b.suite && a.proto === 'RTP/AVP'));
      expect(line, `offer to B has ${b.suite}: ${offer.sdp}`).toBeDefined();
      const suite = findSuite(line!.suite)!;
      const bKey = randomBytes(suite.masterKeyLen + suite.masterSaltLen);
      bCrypto = `${line!.tag} ${suite.name} inline:${bKey.toString('base64')}`;
      bTx = await lib.session(suite.name, 'out', bKey);
      bRx = await lib.session(suite.name, 'in', line!.key);
    } else {
      expect(offer.sdp).not.toMatch(/a=crypto/);
    }
    const answer = await d.ng.request({ command: 'answer', 'call-id': callId, 'from-tag': 'a', 'to-tag': 'b', sdp: sdp(pb, b.proto, bCrypto, !!b.mux) });
    expect(answer.result, JSON.stringify(answer)).toBe('ok');
    const toA = relayPortsOf(answer.sdp as string);
    let aRx: number | null = null;
    if (a.proto === 'RTP/SAVP') {
      const back = cryptoLinesOf(answer.sdp as string);
      expect(back, answer.sdp as string).toHaveLength(1);
      expect(back[0]!.suite).toBe(a.suite);
      aRx = await lib.session(back[0]!.suite, 'in', back[0]!.key);
    } else {
      expect(answer.sdp).not.toMatch(/a=crypto/);
    }
    const A: Party = { ...pa, tx: aTx, rx: aRx, sendRtp: toA.rtp, sendRtcp: a.mux ? toA.rtp : toA.rtcp };
    const B: Party = { ...pb, tx: bTx, rx: bRx, sendRtp: toB.rtp, sendRtcp: b.mux ? toB.rtp : toB.rtcp };
    return { A, B, callId };
  }

  async function protect(id: number | null, pkt: Buffer, rtcp: boolean): Promise<Buffer> {
    if (id === null) return pkt;
    const out = rtcp ? await lib.rtcp(id, pkt) : await lib.rtp(id, pkt);
    if (typeof out === 'string') throw new Error(`libsrtp protect: ${out}`);
    return out;
  }

  /** Sends `pkts` from one party to the other and checks they arrive intact (after libsrtp). */
  async function flow(from: Party, to: Party, pkts: Buffer[], rtcp: boolean, toMux: boolean): Promise<void> {
    const rx = rtcp && !toMux ? to.rtcp : to.rtp;
    rx.clear();
    for (const p of pkts) (rtcp && from.sendRtcp !== from.sendRtp ? from.rtcp : from.rtp).send(await protect(from.tx, p, rtcp), rtcp ? from.sendRtcp : from.sendRtp);
    const got = await rx.waitFor(pkts.length);
    expect(got.length, 'packets relayed').toBe(pkts.length);
    const plains: Buffer[] = [];
    for (const [i, g] of got.entries()) {
      const plain = to.rx === null ? g.data : rtcp ? await lib.rtcp(to.rx, g.data) : await lib.rtp(to.rx, g.data);
      expect(plain, `packet ${i} at the receiver (libsrtp: ${typeof plain === 'string' ? plain : 'ok'})`).toBeInstanceOf(Buffer);
      plains.push(plain as Buffer);
    }
    // At the hand-over to the fast path, packets the addon punted to JS just before its entry
    // was installed may arrive after the addon's first ones: compare regardless of order there.
    if (fastPath) expect([...plains].sort(Buffer.compare)).toEqual([...pkts].sort(Buffer.compare));
    else expect(plains).toEqual(pkts);
  }

  /** Fast path: every stream of the call that carried packets is native (query), or fails with the reason. */
  async function expectNative(callId: string): Promise<void> {
    const deadline = Date.now() + 2000;
    for (;;) {
      const q = await d.ng.request({ command: 'query', 'call-id': callId });
      const streams = Object.values(q.tags as Record<string, { medias: Array<{ streams: Array<{ fastPath: { native: number; reason?: string }; stats: { packets: number } }> }> }>)
        .flatMap((t) => t.medias.flatMap((m) => m.streams));
      // streams that carried packets (an unused RTCP port of a muxed media never learns an endpoint)
      const notNative = streams.filter((st) => st.stats.packets > 0 && st.fastPath.native !== 1);
      if (notNative.length === 0) return;
      if (Date.now() > deadline) expect(notNative.map((st) => st.fastPath), 'streams still on the JS path').toEqual([]);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async function fastPathPackets(): Promise<number> {
    return ((await d.ng.request({ command: 'statistics' })).fastPath as { packets: number }).packets;
  }

  /**
   * Both directions, RTP and RTCP; with the fast path on, a second round once every stream is
   * native, all of whose packets the addon must have decrypted/encrypted itself.
   */
  async function bothWays(callId: string, A: Party, B: Party, aMux: boolean, bMux: boolean): Promise<void> {
    await both(A, B, aMux, bMux);
    if (!fastPath) return;
    await expectNative(callId);
    const before = await fastPathPackets();
    await both(A, B, aMux, bMux, 20);
    expect(await fastPathPackets() - before, 'packets the addon relayed in the second round').toBe(14);
  }

  async function both(A: Party, B: Party, aMux: boolean, bMux: boolean, from = 0): Promise<void> {
    const seqs = [1, 2, 3, 4, 5].map((s) => s + from);
    await flow(A, B, seqs.map((s) => rtpPacket(s, { ssrc: 0xaa })), false, bMux);
    await flow(B, A, seqs.map((s) => rtpPacket(500 + s, { ssrc: 0xbb, pt: 8 })), false, aMux);
    await flow(A, B, [rtcpPacket(0xaa, 1 + from), rtcpPacket(0xaa, 2 + from)], true, bMux);
    await flow(B, A, [rtcpPacket(0xbb, 3 + from), rtcpPacket(0xbb, 4 + from)], true, aMux);
  }

  describe.each(LIBSRTP_SUITES)('%s', (suite) => {
    it('RTP ↔ SRTP (transport-protocol RTP/SAVP)', async () => {
      const { A, B, callId } = await call({ proto: 'RTP/AVP' }, { proto: 'RTP/SAVP', suite }, { 'transport-protocol': 'RTP/SAVP' });
      await bothWays(callId, A, B, false, false);
      await d.ng.request({ command: 'delete', 'call-id': callId, 'delete-delay': 0 });
    });

    it('SRTP ↔ RTP (transport-protocol RTP/AVP), rtcp-mux on both sides', async () => {
      const { A, B, callId } = await call({ proto: 'RTP/SAVP', suite, mux: true }, { proto: 'RTP/AVP', mux: true }, { 'transport-protocol': 'RTP/AVP' });
      await bothWays(callId, A, B, true, true);
      await d.ng.request({ command: 'delete', 'call-id': callId, 'delete-delay': 0 });
    });
  });

  it.each([
    ['AES_CM_128_HMAC_SHA1_80', 'AEAD_AES_256_GCM', false],
    ['AEAD_AES_128_GCM', 'AES_256_CM_HMAC_SHA1_32', true],
    ['NULL_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32', false],
  ])('SRTP %s ↔ SRTP %s, re-keyed by the relay (mux %s)', async (sa, sb, mux) => {
    const { A, B, callId } = await call({ proto: 'RTP/SAVP', suite: sa, mux }, { proto: 'RTP/SAVP', suite: sb, mux });
    await bothWays(callId, A, B, mux, mux);
    await d.ng.request({ command: 'delete', 'call-id': callId, 'delete-delay': 0 });
  });

  it('SRTP ↔ SRTP pass-through: the answerer takes the offerer\'s line, both keep their keys', async () => {
    const { A, B, callId } = await call({ proto: 'RTP/SAVP', suite: 'AES_CM_128_HMAC_SHA1_80' },
      { proto: 'RTP/SAVP', suite: 'AES_CM_128_HMAC_SHA1_80', takeOfferersLine: true });
    await bothWays(callId, A, B, false, false);
    await d.ng.request({ command: 'delete', 'call-id': callId, 'delete-delay': 0 });
  });

  it('re-INVITE: our key stays, the answerer re-keys, rollover counters carry on past the wrap', async () => {
    const callId = uniqueCallId('srtp-roc');
    const pa = await party();
    const pb = await party();
    const suite = 'AES_CM_128_HMAC_SHA1_80';
    const flags = { 'transport-protocol': 'RTP/SAVP', SDES: [`only-${suite}`] };
    const offer1 = await d.ng.request({ command: 'offer', 'call-id': callId, 'from-tag': 'a', sdp: sdp(pa, 'RTP/AVP', null, false), ...flags });
    const ours = cryptoLinesOf(offer1.sdp as string)[0]!;
    const bKey1 = randomBytes(30);
    const answerSdp = (k: Buffer) => sdp(pb, 'RTP/SAVP', `${ours.tag} ${suite} inline:${k.toString('base64')}`, false);
    const answer1 = await d.ng.request({ command: 'answer', 'call-id': callId, 'from-tag': 'a', 'to-tag': 'b', sdp: answerSdp(bKey1) });
    const toA = relayPortsOf(answer1.sdp as string);
    const toB = relayPortsOf(offer1.sdp as string);
    const A: Party = { ...pa, tx: null, rx: null, sendRtp: toA.rtp, sendRtcp: toA.rtcp };
    const B: Party = { ...pb, tx: await lib.session(suite, 'out', bKey1), rx: await lib.session(suite, 'in', ours.key), sendRtp: toB.rtp, sendRtcp: toB.rtcp };
    const wrap = (from: number, n: number, ssrc: number) => Array.from({ length: n }, (_, i) => rtpPacket((from + i) & 0xffff, { ssrc }));
    // one packet each way teaches the endpoints; with the fast path on, the wrap and everything
    // after it is then the addon's work
    await flow(A, B, wrap(65530, 1, 0xa1), false, false);
    await flow(B, A, wrap(65531, 1, 0xb1), false, false);
    if (fastPath) await expectNative(callId);
    const before = fastPath ? await fastPathPackets() : 0;
    await flow(A, B, wrap(65532, 8, 0xa1), false, false); // 65532 … 3: ROC 1 from here
    await flow(B, A, wrap(65533, 6, 0xb1), false, false);

    // re-INVITE from A: the same SDP; the relay offers B the same key again
    const offer2 = await d.ng.request({ command: 'offer', 'call-id': callId, 'from-tag': 'a', sdp: sdp(pa, 'RTP/AVP', null, false), ...flags });
    expect(cryptoLinesOf(offer2.sdp as string)[0]!.key).toEqual(ours.key);
    // B answers with a new key of its own (libsrtp's srtp_update keeps its ROC)
    const bKey2 = randomBytes(30);
    const answer2 = await d.ng.request({ command: 'answer', 'call-id': callId, 'from-tag': 'a', 'to-tag': 'b', sdp: answerSdp(bKey2) });
    expect(answer2.result).toBe('ok');
    await lib.update(B.tx!, bKey2);
    await flow(B, A, wrap(3, 5, 0xb1), false, false);
    await flow(A, B, wrap(4, 5, 0xa1), false, false);
    if (fastPath) {
      await expectNative(callId);
      // the addon carried both rollover counters through the re-INVITE's entry replacement
      expect(await fastPathPackets() - before, 'packets the addon relayed').toBe(24);
    }
    await d.ng.request({ command: 'delete', 'call-id': callId, 'delete-delay': 0 });
  });

  // libsrtp2 2.5 derives AES-192 session keys unlike RFC 6188, so it cannot be the peer here:
  // the peer is the JS path's SrtpContext (checked against the RFC test vectors), and on the
  // fast path the relay is the addon, so the two implementations check each other.
  it.each(['AES_192_CM_HMAC_SHA1_80', 'AES_192_CM_HMAC_SHA1_32'])('%s: SRTP ↔ RTP, the JS SRTP stack as the peer', async (name) => {
    const suite = findSuite(name)!;
    const pa = await party();
    const pb = await party();
    const callId = uniqueCallId('srtp192');
    const aKey = randomBytes(suite.masterKeyLen + suite.masterSaltLen);
    const ctxOf = (key: Buffer) => new SrtpContext({ suite, masterKey: key.subarray(0, suite.masterKeyLen), masterSalt: key.subarray(suite.masterKeyLen),
      mki: null, unencryptedSrtp: false, unencryptedSrtcp: false, unauthenticatedSrtp: false });
    const aTx = ctxOf(aKey);
    const offer = await d.ng.request({ command: 'offer', 'call-id': callId, 'from-tag': 'a', sdp: sdp(pa, 'RTP/SAVP', `1 ${name} inline:${aKey.toString('base64')}`, true), 'transport-protocol': 'RTP/AVP' });
    const answer = await d.ng.request({ command: 'answer', 'call-id': callId, 'from-tag': 'a', 'to-tag': 'b', sdp: sdp(pb, 'RTP/AVP', null, true) });
    const back = cryptoLinesOf(answer.sdp as string);
    expect(back.map((l) => l.suite)).toEqual([name]);
    const aRx = ctxOf(back[0]!.key);
    // the port each party sends to is in the SDP it received
    const toB = relayPortsOf(answer.sdp as string).rtp;
    const toA = relayPortsOf(offer.sdp as string).rtp;
    const round = async (from: number) => {
      const pkts = [1, 2, 3].map((i) => rtpPacket(from + i, { ssrc: 0xf1 }));
      pb.rtp.clear();
      for (const p of pkts) pa.rtp.send(aTx.protectRtp(p)!, toB);
      const atB = await pb.rtp.waitFor(3);
      expect([...atB.map((g) => g.data)].sort(Buffer.compare)).toEqual([...pkts].sort(Buffer.compare));
      const back2 = [1, 2, 3].map((i) => rtpPacket(700 + from + i, { ssrc: 0xf2 }));
      pa.rtp.clear();
      for (const p of back2) pb.rtp.send(p, toA);
      const atA = await pa.rtp.waitFor(3);
      expect(atA.map((g) => aRx.unprotectRtp(g.data)).sort((x, y) => Buffer.compare(x as Buffer, y as Buffer))).toEqual([...back2].sort(Buffer.compare));
      const rtcp = rtcpPacket(0xf1, from);
      pb.rtp.clear();
      pa.rtp.send(aTx.protectRtcp(rtcp)!, toB);
      expect((await pb.rtp.waitFor(1))[0]?.data).toEqual(rtcp);
      const rtcpBack = rtcpPacket(0xf2, from);
      pa.rtp.clear();
      pb.rtp.send(rtcpBack, toA);
      expect(aRx.unprotectRtcp((await pa.rtp.waitFor(1))[0]!.data)).toEqual(rtcpBack);
    };
    await round(0);
    if (fastPath) {
      await expectNative(callId);
      const before = await fastPathPackets();
      await round(20);
      expect(await fastPathPackets() - before).toBe(8);
    }
    await d.ng.request({ command: 'delete', 'call-id': callId, 'delete-delay': 0 });
  });

  it('leaving the fast path and coming back (silence media): rollover counters and SRTCP indexes carry on, none repeats', async () => {
    const { A, B, callId } = await call({ proto: 'RTP/AVP', mux: true }, { proto: 'RTP/SAVP', suite: 'AES_CM_128_HMAC_SHA1_32', mux: true }, { 'transport-protocol': 'RTP/SAVP' });
    const seqs = (from: number, n: number) => Array.from({ length: n }, (_, i) => rtpPacket((from + i) & 0xffff, { ssrc: 0xd1 }));
    const rtcps = (from: number, n: number) => Array.from({ length: n }, (_, i) => rtcpPacket(0xd1, from + i));
    /** A → B: each packet must pass libsrtp at B (a repeated index fails as a replay). */
    const send = async (pkts: Buffer[], rtcp: boolean, exact: boolean) => {
      B.rtp.clear();
      for (const p of pkts) A.rtp.send(p, A.sendRtp);
      const got = await B.rtp.waitFor(pkts.length);
      expect(got.length).toBe(pkts.length);
      for (const g of got) {
        const plain = rtcp ? await lib.rtcp(B.rx!, g.data) : await lib.rtp(B.rx!, g.data);
        expect(typeof plain === 'string' ? `libsrtp: ${plain}` : 'ok').toBe('ok');
        if (exact) expect(pkts).toContainEqual(plain);
      }
    };
    await send(seqs(65500, 1), false, true); // learns A's endpoint
    await flow(B, A, [rtpPacket(1, { ssrc: 0xe1 })], false, true); // and B's
    if (fastPath) await expectNative(callId);
    // native: across the RTP wrap, and far enough in SRTCP that a restart would fall out of the window
    await send(seqs(65501, 60), false, true);
    await send(rtcps(1, 140), true, true);
    // silence media puts A's stream on the JS path: it continues the addon's counters
    expect((await d.ng.request({ command: 'silence media', 'call-id': callId, 'from-tag': 'a' })).result).toBe('ok');
    await send(seqs(25, 5), false, false);
    await send(rtcps(200, 5), true, true);
    // and back to the addon, which continues the JS path's
    expect((await d.ng.request({ command: 'unsilence media', 'call-id': callId, 'from-tag': 'a' })).result).toBe('ok');
    if (fastPath) await expectNative(callId);
    await send(seqs(30, 5), false, true);
    await send(rtcps(300, 5), true, true);
    await d.ng.request({ command: 'delete', 'call-id': callId, 'delete-delay': 0 });
  });

  it('forged, replayed and truncated packets are dropped and counted; the call goes on', async () => {
    const { A, B, callId } = await call({ proto: 'RTP/SAVP', suite: 'AES_CM_128_HMAC_SHA1_80' }, { proto: 'RTP/AVP' }, { 'transport-protocol': 'RTP/AVP' });
    const good = await protect(A.tx, rtpPacket(10, { ssrc: 0xcc }), false);
    A.rtp.send(good, A.sendRtp);
    expect((await B.rtp.waitFor(1)).length).toBe(1);
    B.rtp.clear();
    A.rtcp.send(await protect(A.tx, rtcpPacket(0xcc, 8), true), A.sendRtcp);
    expect((await B.rtcp.waitFor(1)).length).toBe(1);
    // with the fast path on, the endpoints are learned: everything below is the addon's to refuse
    if (fastPath) await expectNative(callId);
    const droppedBefore = fastPath ? ((await d.ng.request({ command: 'statistics' })).fastPath as { srtpDropped: number }).srtpDropped : 0;
    const forged = Buffer.from(await protect(A.tx, rtpPacket(11, { ssrc: 0xcc }), false));
    forged[20] = (forged[20] as number) ^ 0xff;
    A.rtp.send(forged, A.sendRtp); // wrong tag
    A.rtp.send(good, A.sendRtp); // replay
    A.rtp.send(good.subarray(0, 14), A.sendRtp); // truncated: no room for the tag
    const rtcpForged = Buffer.from(await protect(A.tx, rtcpPacket(0xcc, 9), true));
    rtcpForged[12] = (rtcpForged[12] as number) ^ 1;
    A.rtcp.send(rtcpForged, A.sendRtcp);
    expect(await B.rtp.settle(300)).toHaveLength(0);
    // the genuine packet 11 (never delivered before) still passes
    A.rtp.send(await protect(A.tx, rtpPacket(12, { ssrc: 0xcc }), false), A.sendRtp);
    const got = await B.rtp.waitFor(1);
    expect(got[0]?.data).toEqual(rtpPacket(12, { ssrc: 0xcc }));

    const q = await d.ng.request({ command: 'query', 'call-id': callId });
    const media = (q.tags as Record<string, { medias: Array<{ flags: string[]; streams: Array<Record<string, unknown>> }> }>).a!.medias[0]!;
    expect(media.flags).toContain('SDES');
    const [rtpStream, rtcpStream] = media.streams;
    expect(rtpStream!['crypto suite']).toBe('AES_CM_128_HMAC_SHA1_80');
    expect(rtpStream!.SRTP).toEqual({ auth: 1, replay: 1, invalid: 1 });
    expect(rtcpStream!.SRTP).toEqual({ auth: 1, replay: 0, invalid: 0 });
    expect((rtpStream!.stats as { errors: number }).errors).toBe(3);
    if (fastPath) {
      // the addon did SRTP for this stream: it is native, and it refused the forged packets
      expect(rtpStream!.fastPath).toEqual({ native: 1 });
      expect(rtcpStream!.fastPath).toEqual({ native: 1 });
      const dropped = ((await d.ng.request({ command: 'statistics' })).fastPath as { srtpDropped: number }).srtpDropped;
      expect(dropped - droppedBefore, 'SRTP/SRTCP packets the addon refused').toBe(4);
    }
    await d.ng.request({ command: 'delete', 'call-id': callId, 'delete-delay': 0 });
  });
});
