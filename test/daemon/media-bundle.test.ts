/**
 * BUNDLE on the media plane over real UDP: a participant sending audio and video from ONE
 * socket to ONE relay port (a bundled offer taken with `bundle: accept`) talks to a participant
 * with two plain RTP m= lines (two sockets). Packets are demultiplexed to their m= line by SSRC
 * (declared with a=ssrc, or learned), by payload type, and by the MID header extension; what
 * matches nothing is dropped and counted. RTCP goes muxed both ways. Then the same with the
 * bundle on the other side (`bundle: require` toward the answerer). Runs on the JS path and with
 * the native fast path on; ends with the zero-leak assertion.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, type DaemonHandle } from '../helpers/daemon.js';
import { expectNoLeaks } from '../helpers/leaks.js';
import { toCrlf } from '../helpers/autotest.js';
import { RtpPeer, rtcpPacket, rtpPacket } from '../helpers/rtp-peer.js';
import { uniqueCallId } from '../helpers/media-call.js';
import { Attr, decodeStun, encodeStun, METHOD_BINDING, newTransactionId, StunClass, u32, xorAddressValue } from '../../daemon/ice/stun.js';

/** A nominated, authenticated binding request as a controlling ICE agent sends it. */
function nominatedCheck(username: string, key: string): Buffer {
  return encodeStun(METHOD_BINDING, StunClass.Request, newTransactionId(), [
    { type: Attr.Username, value: Buffer.from(username) },
    { type: Attr.Priority, value: u32(1853824767) },
    { type: Attr.IceControlling, value: Buffer.from('0102030405060708', 'hex') },
    { type: Attr.UseCandidate, value: Buffer.alloc(0) },
  ], { integrityKey: key, fingerprint: true });
}

/** A bundled SDP: audio (PCMU, PCMA) and video (96) on one port, rtcp-mux, MID extension id 3. */
function bundledSdp(port: number, ssrcAudio: number): string {
  return toCrlf(`v=0
o=- 1 1 IN IP4 127.0.0.1
s=bundled
t=0 0
a=group:BUNDLE a v
m=audio ${port} RTP/AVPF 0 8
c=IN IP4 127.0.0.1
a=mid:a
a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:mid
a=ssrc:${ssrcAudio} cname:bundled
a=rtcp-mux
a=sendrecv
m=video ${port} RTP/AVPF 96
c=IN IP4 127.0.0.1
a=mid:v
a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:mid
a=rtpmap:96 VP8/90000
a=rtcp-fb:96 nack pli
a=rtcp-mux
a=sendrecv
`);
}

/** Two plain RTP m= lines (rtcp-mux on each, so one socket per m= line carries its RTCP too). */
function plainSdp(audioPort: number, videoPort: number): string {
  return toCrlf(`v=0
o=- 2 1 IN IP4 127.0.0.1
s=plain
t=0 0
m=audio ${audioPort} RTP/AVP 0 8
c=IN IP4 127.0.0.1
a=rtcp-mux
a=sendrecv
m=video ${videoPort} RTP/AVP 96
c=IN IP4 127.0.0.1
a=rtpmap:96 VP8/90000
a=rtcp-mux
a=sendrecv
`);
}

function mPorts(sdp: string): number[] {
  return [...sdp.matchAll(/^m=\w+ (\d+) /gm)].map((m) => Number(m[1]));
}

/** An RTP packet carrying the MID in a one-byte header extension (RFC 8285) with id 3. */
function withMid(seq: number, mid: string, opts: { pt: number; ssrc: number }): Buffer {
  const plain = rtpPacket(seq, opts);
  const ext = Buffer.alloc(4 + 4 * Math.ceil((1 + mid.length) / 4));
  ext.writeUInt16BE(0xbede, 0);
  ext.writeUInt16BE((ext.length - 4) / 4, 2);
  ext[4] = (3 << 4) | (mid.length - 1);
  ext.write(mid, 5, 'latin1');
  const header = Buffer.from(plain.subarray(0, 12));
  header[0] = header[0]! | 0x10;
  return Buffer.concat([header, ext, plain.subarray(12)]);
}

const pts = (list: Array<{ data: Buffer }>) => list.map((r) => r.data[1]! & 0x7f);
const ssrcs = (list: Array<{ data: Buffer }>) => list.map((r) => r.data.readUInt32BE(8));

describe.each([{ fastPath: false }, { fastPath: true }])('BUNDLE media, fast path $fastPath', ({ fastPath }) => {
  let d: DaemonHandle;
  const peers: RtpPeer[] = [];
  const peer = async () => {
    const p = await RtpPeer.open();
    peers.push(p);
    return p;
  };

  beforeAll(async () => {
    d = await startDaemon([], { fastPath });
  });

  afterAll(async () => {
    for (const p of peers) p.close();
    await expectNoLeaks(d);
  });

  it('a bundled offerer (one socket) and a plain answerer (two m= lines): demux by SSRC, payload type and MID, RTCP muxed', async () => {
    const a = await peer();
    const bAudio = await peer();
    const bVideo = await peer();
    const callId = uniqueCallId('bundle');
    const offer = await d.ng.request({ command: 'offer', 'call-id': callId, 'from-tag': 'a', sdp: bundledSdp(a.port, 0xa0), bundle: ['accept'] });
    expect(offer.result).toBe('ok');
    const [toBAudio, toBVideo] = mPorts(offer.sdp as string);
    expect(toBAudio).not.toBe(toBVideo);
    expect(offer.sdp).not.toContain('a=group:BUNDLE');
    const answer = await d.ng.request({ command: 'answer', 'call-id': callId, 'from-tag': 'a', 'to-tag': 'b', sdp: plainSdp(bAudio.port, bVideo.port) });
    expect(answer.result).toBe('ok');
    expect(answer.sdp).toContain('a=group:BUNDLE a v\r\n');
    const [toA, toAVideo] = mPorts(answer.sdp as string);
    expect(toAVideo).toBe(toA);

    // audio by its declared SSRC, video by its payload type (SSRC learned from it)
    for (let i = 0; i < 5; i++) {
      a.send(rtpPacket(i, { pt: 0, ssrc: 0xa0 }), toA!);
      a.send(rtpPacket(100 + i, { pt: 96, ssrc: 0xb0 }), toA!);
    }
    const audio = await bAudio.waitFor(5);
    const video = await bVideo.waitFor(5);
    expect(pts(audio)).toEqual([0, 0, 0, 0, 0]);
    expect(ssrcs(video)).toEqual([0xb0, 0xb0, 0xb0, 0xb0, 0xb0]);
    audio.forEach((r, i) => expect(r.data.equals(rtpPacket(i, { pt: 0, ssrc: 0xa0 }))).toBe(true));
    // a learned SSRC wins over the payload type (PCMA on the video SSRC stays video)
    a.send(rtpPacket(105, { pt: 8, ssrc: 0xb0 }), toA!);
    expect((await bVideo.waitFor(6)).length).toBe(6);
    // the MID header extension names the m= line of a new SSRC whose payload type says nothing
    a.send(withMid(200, 'v', { pt: 120, ssrc: 0xc0 }), toA!);
    const viaMid = await bVideo.waitFor(7);
    expect(ssrcs(viaMid)[6]).toBe(0xc0);
    // matching nothing: dropped (and counted), never guessed
    bAudio.clear();
    bVideo.clear();
    a.send(rtpPacket(300, { pt: 121, ssrc: 0xd0 }), toA!);
    expect((await bAudio.settle(300)).length + (await bVideo.settle(0)).length).toBe(0);

    // the plain side: each of its m= lines arrives on the one bundled socket, from the one port
    a.clear();
    bAudio.send(rtpPacket(10, { pt: 8, ssrc: 0x1a }), toBAudio!);
    bVideo.send(rtpPacket(20, { pt: 96, ssrc: 0x1b }), toBVideo!);
    const atA = await a.waitFor(2);
    expect(atA.map((r) => r.port)).toEqual([toA, toA]);
    expect(ssrcs(atA).sort()).toEqual([0x1a, 0x1b]);

    // RTCP muxed on the bundled port goes to the m= line of its sender SSRC
    bAudio.clear();
    bVideo.clear();
    a.send(rtcpPacket(0xb0, 0x1b), toA!);
    const rtcpAtVideo = await bVideo.waitFor(1);
    expect(rtcpAtVideo[0]!.data.equals(rtcpPacket(0xb0, 0x1b))).toBe(true);
    // the plain side's RTCP reaches the bundled socket too
    a.clear();
    bAudio.send(rtcpPacket(0x1a, 0xa0), toBAudio!);
    const rtcpAtA = await a.waitFor(1);
    expect(rtcpAtA[0]!.data.equals(rtcpPacket(0x1a, 0xa0))).toBe(true);
    expect(rtcpAtA[0]!.port).toBe(toA);

    const q = await d.ng.request({ command: 'query', 'call-id': callId });
    const medias = (q.tags as Record<string, { medias: Array<{ streams: Array<{ 'local port': number; stats?: unknown }> }> }>).a!.medias;
    expect(medias.map((m) => m.streams[0]!['local port'])).toEqual([toA, toA]);
    const del = await d.ng.request({ command: 'delete', 'call-id': callId, 'delete-delay': 0 });
    expect(del.result).toBe('ok');
  });

  it('ICE on a bundled transport: one nominated check on the tagged port moves every bundled m= line to the selected pair', async () => {
    const a = await peer();
    const bAudio = await peer();
    const bVideo = await peer();
    const callId = uniqueCallId('bundle-ice');
    // A advertises a dead port; only its candidate names its socket, so media reaches it only once ICE selected the pair
    const sdp = bundledSdp(9, 0xa1).replace(/a=rtcp-mux\r\n/g, 'a=rtcp-mux\r\na=ice-ufrag:bUnDlE\r\na=ice-pwd:bundlepasswordbundlepass\r\n'
      + `a=candidate:1 1 UDP 2130706431 127.0.0.1 ${a.port} typ host\r\n`);
    const offer = await d.ng.request({ command: 'offer', 'call-id': callId, 'from-tag': 'a', sdp, bundle: ['accept'], ICE: 'remove' });
    expect(offer.result).toBe('ok');
    const [toBAudio, toBVideo] = mPorts(offer.sdp as string);
    const answer = await d.ng.request({ command: 'answer', 'call-id': callId, 'from-tag': 'a', 'to-tag': 'b', sdp: plainSdp(bAudio.port, bVideo.port) });
    expect(answer.result).toBe('ok');
    const text = answer.sdp as string;
    const [toA] = mPorts(text);
    // ICE attributes on the tagged line only
    expect(text.match(/a=ice-ufrag:/g)?.length).toBe(1);
    const relayUfrag = /a=ice-ufrag:(\S+)/.exec(text)![1]!;
    const relayPwd = /a=ice-pwd:(\S+)/.exec(text)![1]!;
    a.send(nominatedCheck(`${relayUfrag}:bUnDlE`, relayPwd), toA!);
    // A answers the relay's (triggered) checks, as an ICE agent does, until its own is answered
    const deadline = Date.now() + 2000;
    let answered = false;
    let answeredRelay = 0;
    while ((!answered || answeredRelay === 0) && Date.now() < deadline) {
      await a.waitFor(1, 200);
      for (const r of a.received.splice(0)) {
        const m = decodeStun(r.data);
        if (m?.cls === StunClass.Success) answered = true;
        if (m?.cls === StunClass.Request) {
          answeredRelay++;
          a.send(encodeStun(METHOD_BINDING, StunClass.Success, m.transactionId,
            [{ type: Attr.XorMappedAddress, value: xorAddressValue({ address: r.address, port: r.port, family: 4 }, m.transactionId) }],
            { integrityKey: 'bundlepasswordbundlepass', fingerprint: true }), r.port, r.address);
        }
      }
    }
    expect(answered, 'the check on the tagged port is answered').toBe(true);
    expect(answeredRelay, 'the relay checks the pair too').toBeGreaterThan(0);
    // one more nominated check now that the pair has succeeded both ways
    a.send(nominatedCheck(`${relayUfrag}:bUnDlE`, relayPwd), toA!);
    await a.settle(200);
    a.clear();
    bAudio.send(rtpPacket(1, { pt: 0, ssrc: 0x2a }), toBAudio!);
    bVideo.send(rtpPacket(2, { pt: 96, ssrc: 0x2b }), toBVideo!);
    const end = Date.now() + 2000;
    while (Date.now() < end && a.received.filter((r) => decodeStun(r.data) === null).length < 2) await a.waitFor(a.received.length + 1, 200);
    const media = a.received.filter((r) => decodeStun(r.data) === null);
    expect(ssrcs(media).sort()).toEqual([0x2a, 0x2b]);
    expect(media.map((r) => r.port)).toEqual([toA, toA]);
    const del = await d.ng.request({ command: 'delete', 'call-id': callId, 'delete-delay': 0 });
    expect(del.result).toBe('ok');
  });

  it('ICE=force-relay: the peers\' STUN is relayed end to end through the relay candidates, then media', async () => {
    const a = await peer();
    const b = await peer();
    const callId = uniqueCallId('force-relay');
    const iceSdp = (port: number, ufrag: string) => toCrlf(`v=0
o=- 1 1 IN IP4 127.0.0.1
s=relay
t=0 0
m=audio ${port} RTP/AVP 0
c=IN IP4 127.0.0.1
a=rtcp-mux
a=ice-ufrag:${ufrag}
a=ice-pwd:abcdefghijklmnopqrstuvwx
a=candidate:1 1 UDP 2130706431 127.0.0.1 ${port} typ host
a=sendrecv
`);
    const offer = await d.ng.request({ command: 'offer', 'call-id': callId, 'from-tag': 'a', sdp: iceSdp(a.port, 'aaaa'), ICE: 'force-relay' });
    const relayForB = Number(/typ relay raddr \S+ rport (\d+)/.exec(offer.sdp as string)![1]);
    expect(mPorts(offer.sdp as string)).toEqual([a.port]);
    const answer = await d.ng.request({ command: 'answer', 'call-id': callId, 'from-tag': 'a', 'to-tag': 'b', sdp: iceSdp(b.port, 'bbbb') });
    const relayForA = Number(/typ relay raddr \S+ rport (\d+)/.exec(answer.sdp as string)![1]);
    // B checks A through our relay candidate: the request reaches A unchanged, from the relay
    const req = encodeStun(METHOD_BINDING, StunClass.Request, newTransactionId(), [{ type: Attr.Username, value: Buffer.from('aaaa:bbbb') }], { integrityKey: 'abcdefghijklmnopqrstuvwx', fingerprint: true });
    b.send(req, relayForB);
    const atA = await a.waitFor(1);
    expect(atA[0]!.data.equals(req)).toBe(true);
    expect(atA[0]!.port).toBe(relayForA);
    // A's response goes back the same way
    const resp = encodeStun(METHOD_BINDING, StunClass.Success, decodeStun(req)!.transactionId, [], { integrityKey: 'abcdefghijklmnopqrstuvwx', fingerprint: true });
    a.send(resp, relayForA);
    const atB = await b.waitFor(1);
    expect(atB[0]!.data.equals(resp)).toBe(true);
    expect(atB[0]!.port).toBe(relayForB);
    // and media after it
    a.clear();
    b.send(rtpPacket(7, { ssrc: 0x77 }), relayForB);
    expect((await a.waitFor(1))[0]!.data.equals(rtpPacket(7, { ssrc: 0x77 }))).toBe(true);
    const del = await d.ng.request({ command: 'delete', 'call-id': callId, 'delete-delay': 0 });
    expect(del.result).toBe('ok');
  });

  it('bundle: require toward the answerer: one relay port for both m= lines from the start', async () => {
    const a = await peer();
    const aVideo = await peer();
    const b = await peer();
    const callId = uniqueCallId('bundle-req');
    const offer = await d.ng.request({ command: 'offer', 'call-id': callId, 'from-tag': 'a', sdp: plainSdp(a.port, aVideo.port), bundle: ['require'] });
    expect(offer.result).toBe('ok');
    expect(offer.sdp).toContain('a=group:BUNDLE 1 2\r\n');
    const [toB, toBVideo] = mPorts(offer.sdp as string);
    expect(toBVideo).toBe(toB);
    const answer = await d.ng.request({ command: 'answer', 'call-id': callId, 'from-tag': 'a', 'to-tag': 'b', sdp: bundledSdp(b.port, 0xe0).replace('a=group:BUNDLE a v', 'a=group:BUNDLE 1 2').replace('a=mid:a', 'a=mid:1').replace('a=mid:v', 'a=mid:2') });
    expect(answer.result).toBe('ok');
    const [toA, toAVideo] = mPorts(answer.sdp as string);
    expect(toAVideo).not.toBe(toA);
    b.send(rtpPacket(1, { pt: 0, ssrc: 0xe0 }), toB!);
    b.send(rtpPacket(2, { pt: 96, ssrc: 0xe1 }), toB!);
    expect(pts(await a.waitFor(1))).toEqual([0]);
    expect(pts(await aVideo.waitFor(1))).toEqual([96]);
    a.send(rtpPacket(3, { pt: 0, ssrc: 0xf0 }), toA!);
    aVideo.send(rtpPacket(4, { pt: 96, ssrc: 0xf1 }), toAVideo!);
    const atB = await b.waitFor(2);
    expect(atB.map((r) => r.port)).toEqual([toB, toB]);
    expect(ssrcs(atB).sort()).toEqual([0xf0, 0xf1]);
    const del = await d.ng.request({ command: 'delete', 'call-id': callId, 'delete-delay': 0 });
    expect(del.result).toBe('ok');
  });
});
