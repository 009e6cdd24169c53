/**
 * DTLS-SRTP interop through a real daemon against a WebRTC stack nobody here wrote (werift, a
 * devDependency used only here): ICE connects, the DTLS handshake completes, SRTP from the
 * WebRTC peer arrives decrypted as plain RTP on the other side and the plain side's RTP reaches
 * the WebRTC peer, in both call directions (WebRTC calls plain, plain calls WebRTC), and a
 * forged fingerprint fails the stream; on the JS path and with the native fast path on (its
 * sockets carry the DTLS and SRTP, the streams themselves stay on JS). Each daemon ends with
 * the zero-leak assertion.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediaStreamTrack, RTCPeerConnection, RTCRtpCodecParameters, RtpPacket, type RTCRtpTransceiver } from 'werift';
import { startDaemon, type DaemonHandle } from '../helpers/daemon.js';
import { expectNoLeaks } from '../helpers/leaks.js';
import { LoopbackStunServer } from '../helpers/loopback-stun.js';
import { RtpPeer, rtpPacket } from '../helpers/rtp-peer.js';
import { sleep } from '../../support/sleep.js';

let d: DaemonHandle;
let seq = 0;

let stun: LoopbackStunServer;
beforeAll(async () => {
  stun = await LoopbackStunServer.start();
});
afterAll(() => stun.close());

/** A werift peer offering or answering PCMU audio, gathering on loopback only. */
function webrtcPeer(): { pc: RTCPeerConnection; track: MediaStreamTrack; received: RtpPacket[] } {
  const pc = new RTCPeerConnection({
    codecs: { audio: [new RTCRtpCodecParameters({ mimeType: 'audio/PCMU', clockRate: 8000, channels: 1, payloadType: 0 })] },
    ...stun.weriftIce(),
  });
  const track = new MediaStreamTrack({ kind: 'audio' });
  const received: RtpPacket[] = [];
  pc.onTransceiverAdded.subscribe((t: RTCRtpTransceiver) => {
    t.onTrack.subscribe((remote) => remote.onReceiveRtp.subscribe((rtp) => received.push(rtp)));
  });
  return { pc, track, received };
}

/** The plain side's SSRC: signalled in its SDP, since werift routes RTP only by signalled SSRCs. */
const PLAIN_SSRC = 0x1234;

/** A plain RTP/AVP PCMU side; `mid` echoes the WebRTC offer's a=mid (werift needs one in the answer). */
function plainSdp(port: number, mid?: string): string {
  return ['v=0', 'o=- 1545997027 1 IN IP4 127.0.0.1', 's=tester', 't=0 0', `m=audio ${port} RTP/AVP 0`, 'c=IN IP4 127.0.0.1',
    ...(mid !== undefined ? [`a=mid:${mid}`] : []), `a=ssrc:${PLAIN_SSRC} cname:plain`, 'a=sendrecv', ''].join('\r\n');
}

/** werift's SDP with its loopback candidates only (the tests stay on 127.0.0.1). */
function loopbackOnly(sdp: string): string {
  return sdp.split('\r\n').filter((l) => !l.startsWith('a=candidate:') || l.includes(' 127.0.0.1 ')).join('\r\n');
}

/** The relay's address and RTP port from an SDP it wrote. */
function relayPort(sdp: string): number {
  const m = /^m=audio (\d+) /m.exec(sdp);
  if (!m) throw new Error(`no m=audio in ${sdp}`);
  return Number(m[1]);
}

async function until(what: string, cond: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Plain RTP from `plain` until the WebRTC peer got some, and werift's RTP until the plain side got some. */
async function expectMediaBothWays(plain: RtpPeer, relay: number, web: ReturnType<typeof webrtcPeer>): Promise<void> {
  const payload = Buffer.alloc(160, 0x5a);
  const deadline = Date.now() + 8000;
  while ((web.received.length < 3 || plain.received.length < 3) && Date.now() < deadline) {
    plain.send(rtpPacket(++seq, { ssrc: PLAIN_SSRC, payload }), relay);
    web.track.writeRtp(rtpPacket(seq, { ssrc: 0x5678, payload: Buffer.alloc(160, 0x33) }));
    await sleep(20);
  }
  expect(web.received.length, 'plain RTP reached the WebRTC peer').toBeGreaterThanOrEqual(3);
  const got = web.received[0]!;
  expect(got.header.payloadType).toBe(0);
  expect(got.payload.equals(payload), 'decrypted by werift to the plain payload').toBe(true);
  const rtp = plain.received.filter((r) => r.data.length >= 12 && (r.data[1]! & 0x7f) === 0);
  expect(rtp.length, 'WebRTC RTP reached the plain side').toBeGreaterThanOrEqual(3);
  expect(rtp[0]!.data.subarray(12).equals(Buffer.alloc(160, 0x33)), 'arrives decrypted (plain RTP)').toBe(true);
}

describe.each([['JS path', false], ['fast path', true]] as const)('DTLS-SRTP with werift (%s)', (_path, fastPath) => {
  beforeAll(async () => {
    d = await startDaemon([], { fastPath });
  });

  afterAll(async () => {
    await expectNoLeaks(d);
    await d.stop();
  });

  it('a WebRTC peer calls a plain RTP peer: ICE, DTLS, media both ways', async () => {
    const callId = `dtls-web-${Date.now()}`;
    const web = webrtcPeer();
    const plain = await RtpPeer.open();
    try {
      web.pc.addTransceiver(web.track, { direction: 'sendrecv' });
      await web.pc.setLocalDescription(await web.pc.createOffer());
      await until('ICE gathering', () => web.pc.iceGatheringState === 'complete');
      const offer = await d.ng.request({
        command: 'offer', 'call-id': callId, 'from-tag': 'web', sdp: loopbackOnly(web.pc.localDescription!.sdp),
        'transport-protocol': 'RTP/AVP', ICE: 'remove', 'rtcp-mux': ['demux'],
      });
      expect(offer.result, String(offer['error-reason'])).toBe('ok');
      const toPlain = String(offer.sdp);
      expect(toPlain).toMatch(/m=audio \d+ RTP\/AVP 0/);
      expect(toPlain).not.toMatch(/a=fingerprint|a=setup|a=crypto|a=ice-/);
      const answer = await d.ng.request({
        command: 'answer', 'call-id': callId, 'from-tag': 'web', 'to-tag': 'plain', sdp: plainSdp(plain.port, /a=mid:(\S+)/.exec(web.pc.localDescription!.sdp)?.[1]),
        // werift parses only the full form of a=rtcp (RFC 3605 allows the short one too)
        flags: ['full-rtcp-attribute'],
      });
      expect(answer.result, String(answer['error-reason'])).toBe('ok');
      const toWeb = String(answer.sdp);
      expect(toWeb).toMatch(/m=audio \d+ UDP\/TLS\/RTP\/SAVPF 0/);
      expect(toWeb).toMatch(/a=setup:active/);
      expect(toWeb).toMatch(/a=fingerprint:sha-256 ([0-9A-F]{2}:){31}[0-9A-F]{2}/);
      expect(toWeb).toMatch(/a=ice-ufrag:/);
      await web.pc.setRemoteDescription({ type: 'answer', sdp: toWeb });
      await until('werift connected', () => web.pc.connectionState === 'connected');
      await expectMediaBothWays(plain, relayPort(toPlain), web);
      const q = await d.ng.request({ command: 'query', 'call-id': callId });
      const tags = q.tags as Record<string, { medias: Array<{ flags: string[]; streams: Array<Record<string, unknown>> }> }>;
      expect(tags.web!.medias[0]!.flags).toContain('DTLS-SRTP');
      expect(tags.web!.medias[0]!.streams[0]!.DTLS).toEqual({ role: 'active', state: 'connected' });
    } finally {
      await web.pc.close();
      plain.close();
      await d.ng.request({ command: 'delete', 'call-id': callId, 'delete-delay': 0 });
    }
  });

  it('a plain RTP peer calls a WebRTC peer: the relay offers actpass and becomes passive', async () => {
    const callId = `dtls-plain-${Date.now()}`;
    const web = webrtcPeer();
    const plain = await RtpPeer.open();
    try {
      const offer = await d.ng.request({
        command: 'offer', 'call-id': callId, 'from-tag': 'plain', sdp: plainSdp(plain.port),
        'transport-protocol': 'UDP/TLS/RTP/SAVPF', ICE: 'force', 'rtcp-mux': ['offer'], flags: ['full-rtcp-attribute', 'generate-mid'],
      });
      expect(offer.result, String(offer['error-reason'])).toBe('ok');
      const toWeb = String(offer.sdp);
      expect(toWeb).toMatch(/m=audio \d+ UDP\/TLS\/RTP\/SAVPF 0/);
      expect(toWeb).toMatch(/a=setup:actpass/);
      expect(toWeb).toMatch(/a=tls-id:[0-9a-f]{32}/);
      expect(toWeb).not.toMatch(/a=crypto/);
      await web.pc.setRemoteDescription({ type: 'offer', sdp: toWeb });
      const t = web.pc.getTransceivers()[0]!;
      t.sender.replaceTrack(web.track);
      t.setDirection('sendrecv');
      await web.pc.setLocalDescription(await web.pc.createAnswer());
      await until('ICE gathering', () => web.pc.iceGatheringState === 'complete');
      const answer = await d.ng.request({
        command: 'answer', 'call-id': callId, 'from-tag': 'plain', 'to-tag': 'web', sdp: loopbackOnly(web.pc.localDescription!.sdp),
        'transport-protocol': 'RTP/AVP', ICE: 'remove',
      });
      expect(answer.result, String(answer['error-reason'])).toBe('ok');
      const toPlain = String(answer.sdp);
      expect(toPlain).toMatch(/m=audio \d+ RTP\/AVP 0/);
      expect(toPlain).not.toMatch(/a=fingerprint|a=setup|a=ice-/);
      await until('werift connected', () => web.pc.connectionState === 'connected');
      await expectMediaBothWays(plain, relayPort(toPlain), web);
    } finally {
      await web.pc.close();
      plain.close();
      await d.ng.request({ command: 'delete', 'call-id': callId, 'delete-delay': 0 });
    }
  });

  it('a fingerprint that does not match the certificate fails the stream: nothing relayed, logged and counted', async () => {
    const callId = `dtls-badfp-${Date.now()}`;
    const web = webrtcPeer();
    const plain = await RtpPeer.open();
    try {
      web.pc.addTransceiver(web.track, { direction: 'sendrecv' });
      await web.pc.setLocalDescription(await web.pc.createOffer());
      await until('ICE gathering', () => web.pc.iceGatheringState === 'complete');
      // the SIP path altered the fingerprint: the certificate werift presents no longer matches
      const forged = loopbackOnly(web.pc.localDescription!.sdp).replace(/a=fingerprint:(\S+) ([0-9A-Fa-f]{2})/, (_, h: string, b: string) => `a=fingerprint:${h} ${b === '00' ? '01' : '00'}`);
      expect(forged).not.toBe(web.pc.localDescription!.sdp);
      const statsBefore = ((await d.ng.request({ command: 'statistics' })).statistics as Record<string, Record<string, number>>).totalstatistics!.dtlsfailures!;
      const offer = await d.ng.request({
        command: 'offer', 'call-id': callId, 'from-tag': 'web', sdp: forged, 'transport-protocol': 'RTP/AVP', ICE: 'remove', 'rtcp-mux': ['demux'],
      });
      expect(offer.result, String(offer['error-reason'])).toBe('ok');
      const answer = await d.ng.request({
        command: 'answer', 'call-id': callId, 'from-tag': 'web', 'to-tag': 'plain',
        sdp: plainSdp(plain.port, /a=mid:(\S+)/.exec(web.pc.localDescription!.sdp)?.[1]), flags: ['full-rtcp-attribute'],
      });
      await web.pc.setRemoteDescription({ type: 'answer', sdp: String(answer.sdp) });
      let state: Record<string, unknown> | undefined;
      const deadline = Date.now() + 8000;
      while (Date.now() < deadline) {
        const q = await d.ng.request({ command: 'query', 'call-id': callId });
        const tags = q.tags as Record<string, { medias: Array<{ streams: Array<Record<string, unknown>> }> }>;
        state = tags.web!.medias[0]!.streams[0]!.DTLS as Record<string, unknown>;
        if (state?.state === 'failed') break;
        await sleep(50);
      }
      expect(state).toMatchObject({ role: 'active', state: 'failed' });
      expect(String(state!.reason)).toMatch(/fingerprint mismatch/);
      const statsAfter = ((await d.ng.request({ command: 'statistics' })).statistics as Record<string, Record<string, number>>).totalstatistics!.dtlsfailures!;
      expect(statsAfter).toBe(statsBefore + 1);
      expect(d.stderr()).toMatch(/DTLS-SRTP handshake failed/);
      // whatever werift sends now is not relayed, and plain RTP does not reach it in the clear
      for (let i = 0; i < 20; i++) {
        plain.send(rtpPacket(++seq, { ssrc: PLAIN_SSRC }), relayPort(String(offer.sdp)));
        await sleep(10);
      }
      await sleep(200);
      expect(plain.received.filter((r) => r.data.length >= 12 && r.data[0]! >= 128)).toHaveLength(0);
      expect(web.received).toHaveLength(0);
    } finally {
      await web.pc.close();
      plain.close();
      await d.ng.request({ command: 'delete', 'call-id': callId, 'delete-delay': 0 });
    }
  });
});
