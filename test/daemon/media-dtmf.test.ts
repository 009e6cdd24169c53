/**
 * DTMF through the relay, byte by byte: telephone-event passed through with payload-type
 * mapping (and logged), malformed event payloads counted and dropped, `block DTMF` /
 * `unblock DTMF` (whole call and directional), `play DTMF` as events continuing the stream's
 * sequence numbers and timestamps, and as in-band tones toward a side without telephone-event.
 * Runs on the JS path (-t -1) and the native fast path (-t 0): a stream stays native while
 * nothing needs JS, and `query` says why when something does.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectTone, toneSamples } from '../../daemon/codec/dtmf.js';
import { decodeUlaw, encodeUlaw } from '../../daemon/codec/g711.js';
import { startDaemon, type DaemonHandle } from '../helpers/daemon.js';
import { expectNoLeaks } from '../helpers/leaks.js';
import { deleteCall, relayPortsOf, uniqueCallId } from '../helpers/media-call.js';
import { RtpPeer, rtpPacket, type Received } from '../helpers/rtp-peer.js';

function sdp(peer: RtpPeer, formats: string, rtpmaps: string[]): string {
  return [
    'v=0', `o=- 1545997027 1 IN IP4 ${peer.address}`, 's=tester', 't=0 0',
    `m=audio ${peer.port} RTP/AVP ${formats}`, `c=IN IP4 ${peer.address}`,
    ...rtpmaps.map((r) => `a=rtpmap:${r}`), 'a=sendrecv', '',
  ].join('\r\n');
}

const A_SDP = (p: RtpPeer) => sdp(p, '0 101', ['0 PCMU/8000', '101 telephone-event/8000']);
const B_SDP = (p: RtpPeer) => sdp(p, '0 96', ['0 PCMU/8000', '96 telephone-event/8000']);
const B_NO_TE = (p: RtpPeer) => sdp(p, '0', ['0 PCMU/8000']);

/** An RFC 4733 payload: event, end bit, volume, duration. */
function te(event: number, end: boolean, duration: number, volume = 10): Buffer {
  const b = Buffer.alloc(4);
  b[0] = event;
  b[1] = (end ? 0x80 : 0) | volume;
  b.writeUInt16BE(duration, 2);
  return b;
}

interface Call {
  callId: string;
  a: RtpPeer;
  b: RtpPeer;
  toRelayA: number;
  toRelayB: number;
}

describe.each([{ fastPath: false }, { fastPath: true }])('DTMF, fast path $fastPath', ({ fastPath }) => {
  let d: DaemonHandle;
  const peers: RtpPeer[] = [];

  beforeAll(async () => {
    d = await startDaemon([], { fastPath });
  });

  afterAll(async () => {
    for (const p of peers) p.close();
    await expectNoLeaks(d);
  });

  async function setup(name: string, bSdp = B_SDP): Promise<Call> {
    const a = await RtpPeer.open();
    const b = await RtpPeer.open();
    peers.push(a, b);
    const callId = uniqueCallId(name);
    const offer = await d.ng.request({ command: 'offer', 'call-id': callId, 'from-tag': 'da', sdp: A_SDP(a) });
    expect(offer.result).toBe('ok');
    const answer = await d.ng.request({ command: 'answer', 'call-id': callId, 'from-tag': 'da', 'to-tag': 'db', sdp: bSdp(b) });
    expect(answer.result).toBe('ok');
    const c = { callId, a, b, toRelayA: relayPortsOf(answer.sdp as string).rtp, toRelayB: relayPortsOf(offer.sdp as string).rtp };
    // both endpoints learned (and on the fast path, both streams handed to the addon)
    a.send(rtpPacket(1, { ssrc: 0xa1 }), c.toRelayA);
    b.send(rtpPacket(1, { ssrc: 0xb1 }), c.toRelayB);
    await b.waitFor(1);
    await a.waitFor(1);
    a.clear();
    b.clear();
    return c;
  }

  async function rtpA(c: Call): Promise<Record<string, any>> {
    const q = await d.ng.request({ command: 'query', 'call-id': c.callId });
    return q.tags.da.medias[0].streams[0];
  }

  it('passes telephone-event through with the receiver\'s payload type, byte for byte otherwise', async () => {
    const c = await setup('dtmf-pass');
    const sent: Buffer[] = [];
    for (let i = 0; i < 4; i++) {
      const p = rtpPacket(10 + i, { ssrc: 0xa1, pt: 101, ts: 8000, marker: i === 0, payload: te(5, i === 3, 160 * (i + 1)) });
      sent.push(p);
      c.a.send(p, c.toRelayA);
    }
    const got = await c.b.waitFor(4);
    expect(got.length).toBe(4);
    got.forEach((r, i) => {
      const want = Buffer.from(sent[i]!);
      want[1] = (want[1]! & 0x80) | 96;
      expect(r.data.equals(want), `event packet ${i}`).toBe(true);
    });
    const s = await rtpA(c);
    if (fastPath) expect(s.fastPath).toEqual({ native: 1 });
    else expect(s['media control']['DTMF events']).toBe(1);
    await deleteCall(d, c.callId);
  });

  it.runIf(!fastPath)('counts and drops malformed telephone-event payloads and keeps relaying', async () => {
    const c = await setup('dtmf-malformed');
    c.a.send(rtpPacket(20, { ssrc: 0xa1, pt: 101, payload: Buffer.from([5, 0x0a]) }), c.toRelayA); // short
    c.a.send(rtpPacket(21, { ssrc: 0xa1, pt: 101, payload: Buffer.alloc(6, 1) }), c.toRelayA); // not 4n bytes
    c.a.send(rtpPacket(22, { ssrc: 0xa1, pt: 101, payload: te(5, true, 0) }), c.toRelayA); // end with no duration
    c.a.send(rtpPacket(23, { ssrc: 0xa1, pt: 101, payload: te(5, true, 0xffff) }), c.toRelayA); // absurd but valid
    c.a.send(rtpPacket(24, { ssrc: 0xa1, pt: 0 }), c.toRelayA);
    const got = await c.b.waitFor(2);
    await c.b.settle(200);
    expect(got.map((r) => r.data.readUInt16BE(2))).toEqual([23, 24]);
    const s = await rtpA(c);
    expect(s['media control']['malformed DTMF']).toBe(3);
    await deleteCall(d, c.callId);
  });

  it('block DTMF drops events (whole call, then one direction) and unblock DTMF lets them pass', async () => {
    const c = await setup('dtmf-block');
    let seq = 100;
    const burst = async (): Promise<number[]> => {
      c.a.clear();
      c.b.clear();
      c.a.send(rtpPacket(seq++, { ssrc: 0xa1, pt: 101, payload: te(1, false, 160) }), c.toRelayA);
      c.a.send(rtpPacket(seq++, { ssrc: 0xa1, pt: 0 }), c.toRelayA);
      c.b.send(rtpPacket(seq++, { ssrc: 0xb1, pt: 96, payload: te(2, false, 160) }), c.toRelayB);
      await c.b.settle(150);
      await c.a.settle(0);
      return [...c.b.received.map((r) => r.data[1]! & 0x7f), -1, ...c.a.received.map((r) => r.data[1]! & 0x7f)];
    };
    expect((await d.ng.request({ command: 'block DTMF', 'call-id': c.callId, 'from-tag': 'da' })).result).toBe('ok');
    // without `directional` the from-tag does not narrow: the whole call is blocked
    expect(await burst()).toEqual([0, -1]);
    if (fastPath) expect((await rtpA(c)).fastPath).toEqual({ native: 0, reason: 'DTMF blocked (block DTMF): telephone-event is inspected on the JS path' });
    expect((await d.ng.request({ command: 'unblock DTMF', 'call-id': c.callId })).result).toBe('ok');
    expect(await burst()).toEqual([96, 0, -1, 101]);
    if (fastPath) expect((await rtpA(c)).fastPath).toEqual({ native: 1 });

    // directional: only what A sends is blocked
    expect((await d.ng.request({ command: 'block DTMF', 'call-id': c.callId, 'from-tag': 'da', flags: ['directional'] })).result).toBe('ok');
    expect(await burst()).toEqual([0, -1, 101]);
    // unblocking the whole call leaves A's block; `all` lifts it
    await d.ng.request({ command: 'unblock DTMF', 'call-id': c.callId });
    expect(await burst()).toEqual([0, -1, 101]);
    await d.ng.request({ command: 'unblock DTMF', 'call-id': c.callId, flags: ['all'] });
    expect(await burst()).toEqual([96, 0, -1, 101]);
    expect((await d.ng.request({ command: 'block DTMF', 'call-id': c.callId, 'DTMF-security': 'bogus' }))['error-reason']).toMatch(/unknown DTMF-security mode 'bogus'/);
    await deleteCall(d, c.callId);
  });

  it('the block-DTMF flag on the offer blocks what the offerer sends', async () => {
    const a = await RtpPeer.open();
    const b = await RtpPeer.open();
    peers.push(a, b);
    const callId = uniqueCallId('dtmf-flag');
    const offer = await d.ng.request({ command: 'offer', 'call-id': callId, 'from-tag': 'da', sdp: A_SDP(a), flags: ['block-DTMF'] });
    const answer = await d.ng.request({ command: 'answer', 'call-id': callId, 'from-tag': 'da', 'to-tag': 'db', sdp: B_SDP(b) });
    const toRelayA = relayPortsOf(answer.sdp as string).rtp;
    const toRelayB = relayPortsOf(offer.sdp as string).rtp;
    a.send(rtpPacket(1, { ssrc: 0xa1, pt: 101, payload: te(3, false, 160) }), toRelayA);
    a.send(rtpPacket(2, { ssrc: 0xa1, pt: 0 }), toRelayA);
    b.send(rtpPacket(1, { ssrc: 0xb1, pt: 96, payload: te(3, false, 160) }), toRelayB);
    await b.waitFor(1);
    await a.waitFor(1);
    await b.settle(150);
    expect(b.received.map((r) => r.data.readUInt16BE(2))).toEqual([2]);
    expect(a.received.map((r) => r.data[1])).toEqual([101]);
    await deleteCall(d, callId);
  });

  it('play DTMF sends events continuing the stream, then renumbers what follows', async () => {
    const c = await setup('dtmf-play');
    for (let i = 0; i < 5; i++) c.a.send(rtpPacket(100 + i, { ssrc: 0xa1, ts: 16000 + i * 160 }), c.toRelayA);
    await c.b.waitFor(5);
    c.b.clear();
    const r = await d.ng.request({ command: 'play DTMF', 'call-id': c.callId, 'from-tag': 'da', code: '#', duration: 100, volume: -12 });
    expect(r.result, JSON.stringify(r)).toBe('ok');
    // a stream the addon forwarded: the digit starts after its next packet (which tells the
    // numbering the relay did not count); on the JS path it starts at once
    const sync = fastPath ? 1 : 0;
    if (fastPath) c.a.send(rtpPacket(105, { ssrc: 0xa1, ts: 16800 }), c.toRelayA);
    const all = await c.b.waitFor(7 + sync);
    expect(all.length).toBe(7 + sync);
    const got = all.slice(sync);
    got.forEach((p, i) => {
      const x = p.data;
      expect(x[1], `marker and PT of event packet ${i}`).toBe((i === 0 ? 0x80 : 0) | 96);
      expect(x.readUInt16BE(2)).toBe(105 + sync + i);
      expect(x.readUInt32BE(4)).toBe(16000 + (5 + sync) * 160); // one timestamp for the whole event
      expect(x.readUInt32BE(8)).toBe(0xa1);
      expect(x.subarray(12).equals(te(11, i >= 4, Math.min(5, i + 1) * 160, 12)), `payload of event packet ${i}`).toBe(true);
    });
    await c.b.settle(150);
    c.b.clear();
    for (let i = 0; i < 3; i++) c.a.send(rtpPacket(105 + sync + i, { ssrc: 0xa1, ts: 16800 + i * 160 }), c.toRelayA);
    const after = await c.b.waitFor(3);
    const first = 112 + sync;
    expect(after.map((p) => p.data.readUInt16BE(2))).toEqual([first, first + 1, first + 2]);
    const s = await rtpA(c);
    expect(s['DTMF injection'][0]['generated packets']).toBe(7);
    if (fastPath) expect(s.fastPath.reason).toMatch(/DTMF injected \(play DTMF\)/);
    await deleteCall(d, c.callId);
  });

  it('play DTMF toward a side without telephone-event sends the tone in its codec', async () => {
    const c = await setup('dtmf-tone', B_NO_TE);
    c.a.send(rtpPacket(50, { ssrc: 0xa1, ts: 4000 }), c.toRelayA);
    await c.b.waitFor(1);
    c.b.clear();
    const r = await d.ng.request({ command: 'play DTMF', 'call-id': c.callId, 'from-tag': 'da', digit: '7', duration: 100 });
    expect(r.result, JSON.stringify(r)).toBe('ok');
    const sync = fastPath ? 1 : 0;
    if (fastPath) c.a.send(rtpPacket(51, { ssrc: 0xa1, ts: 4160 }), c.toRelayA);
    const all = await c.b.waitFor(5 + sync);
    expect(all.length).toBe(5 + sync);
    all.slice(sync).forEach((p, i) => {
      expect(p.data[1]! & 0x7f).toBe(0);
      expect(p.data.readUInt16BE(2)).toBe(51 + sync + i);
      expect(p.data.readUInt32BE(4)).toBe(4160 + (sync + i) * 160);
      expect(detectTone(decodeUlaw(p.data.subarray(12)), 8000), `tone in packet ${i}`).toBe(7);
    });
    expect((await d.ng.request({ command: 'play DTMF', 'call-id': c.callId, 'from-tag': 'da', code: 'X' }))['error-reason']).toMatch(/invalid DTMF code/);
    await deleteCall(d, c.callId);
  });

  it('when transcoding, events toward a side without telephone-event become tones, and its tones become events', async () => {
    const a = await RtpPeer.open();
    const b = await RtpPeer.open();
    peers.push(a, b);
    const callId = uniqueCallId('dtmf-transcode');
    const offer = await d.ng.request({ command: 'offer', 'call-id': callId, 'from-tag': 'da', sdp: sdp(a, '8 101', ['8 PCMA/8000', '101 telephone-event/8000']), codec: { transcode: ['PCMU'] } });
    expect(offer.result).toBe('ok');
    const answer = await d.ng.request({ command: 'answer', 'call-id': callId, 'from-tag': 'da', 'to-tag': 'db', sdp: B_NO_TE(b) });
    expect(answer.result).toBe('ok');
    const toRelayA = relayPortsOf(answer.sdp as string).rtp;
    a.send(rtpPacket(9, { ssrc: 0xa1, pt: 8, ts: 7840 }), toRelayA);
    await b.waitFor(1);
    b.clear();
    // digit 9: three growing packets, three end packets (the repeats add nothing), one malformed
    const durations = [160, 320, 480, 480, 480, 480];
    durations.forEach((dur, i) => a.send(rtpPacket(10 + i, { ssrc: 0xa1, pt: 101, ts: 8000, marker: i === 0, payload: te(9, i >= 3, dur) }), toRelayA));
    a.send(rtpPacket(16, { ssrc: 0xa1, pt: 101, ts: 9000, payload: Buffer.alloc(3) }), toRelayA);
    // the transcoder's sequencer sees seq 10–16 missing from its audio: it holds the audio that
    // follows until more than three wait, then goes on (the gap kept)
    for (let i = 0; i < 4; i++) a.send(rtpPacket(17 + i, { ssrc: 0xa1, pt: 8, ts: 8480 + i * 160 }), toRelayA);
    const got = await b.waitFor(7);
    await b.settle(150);
    expect(got.length).toBe(7);
    got.slice(0, 3).forEach((p, i) => {
      expect(p.data[1], `marker and PT of tone packet ${i}`).toBe((i === 0 ? 0x80 : 0) | 0);
      expect(p.data.readUInt16BE(2)).toBe(10 + i);
      expect(p.data.readUInt32BE(4)).toBe(8000 + i * 160);
      expect(p.data.length).toBe(12 + 160);
      expect(detectTone(decodeUlaw(p.data.subarray(12)), 8000), `tone in packet ${i}`).toBe(9);
    });
    // the audio after the event: transcoded, numbered and timed on the same line
    expect(got[3]!.data[1]! & 0x7f).toBe(0);
    expect(got[3]!.data.readUInt16BE(2)).toBe(17);
    expect(got[3]!.data.readUInt32BE(4)).toBe(8480);
    const q = await d.ng.request({ command: 'query', 'call-id': callId });
    expect(q.tags.da.medias[0].streams[0].fastPath.native).toBe(0);

    // the other way: A keeps its telephone-event in the answer, and B's in-band digit reaches
    // A as events (B's sequence numbers, the digit's start timestamp, an end packet after it)
    expect(answer.sdp).toMatch(/m=audio \d+ RTP\/AVP 8 101\r\n/);
    const toRelayB = relayPortsOf(offer.sdp as string).rtp;
    b.send(rtpPacket(40, { ssrc: 0xb1, ts: 6400, payload: Buffer.alloc(160, 0xff) }), toRelayB);
    await a.waitFor(1);
    a.clear();
    for (let i = 0; i < 5; i++) {
      b.send(rtpPacket(41 + i, { ssrc: 0xb1, ts: 6560 + i * 160, payload: encodeUlaw(toneSamples(4, 8000, i * 160, 160, 8)) }), toRelayB);
    }
    for (let i = 0; i < 2; i++) b.send(rtpPacket(46 + i, { ssrc: 0xb1, ts: 7360 + i * 160, payload: Buffer.alloc(160, 0xff) }), toRelayB);
    const atA = await a.waitFor(7);
    expect(atA.length).toBe(7);
    atA.slice(0, 6).forEach((p, i) => {
      expect(p.data[1], `marker and PT of event packet ${i}`).toBe((i === 0 ? 0x80 : 0) | 101);
      expect(p.data.readUInt16BE(2)).toBe(41 + i);
      expect(p.data.readUInt32BE(4)).toBe(6560);
      expect(p.data.subarray(12).equals(te(4, i === 5, Math.min(5, i + 1) * 160)), `event payload ${i}`).toBe(true);
    });
    expect(atA[6]!.data[1]).toBe(8);
    expect(atA[6]!.data.readUInt16BE(2)).toBe(47);
    await deleteCall(d, callId);
  });

  it('block media and silence media act on one participant\'s RTP; unblock/unsilence restore it', async () => {
    const c = await setup('media-block');
    let seq = 300;
    const one = async (): Promise<Received[]> => {
      c.b.clear();
      c.a.send(rtpPacket(seq++, { ssrc: 0xa1, payload: Buffer.alloc(160, 0x12) }), c.toRelayA);
      return c.b.settle(150);
    };
    await d.ng.request({ command: 'block media', 'call-id': c.callId, 'from-tag': 'da', flags: ['directional'] });
    expect((await one()).length).toBe(0);
    if (fastPath) expect((await rtpA(c)).fastPath.reason).toMatch(/media blocked/);
    await d.ng.request({ command: 'unblock media', 'call-id': c.callId, 'from-tag': 'da', flags: ['directional'] });
    expect((await one()).map((r) => r.data[12])).toEqual([0x12]);
    await d.ng.request({ command: 'silence media', 'call-id': c.callId });
    const silenced = await one();
    expect(silenced.length).toBe(1);
    expect(silenced[0]!.data.subarray(12).equals(Buffer.alloc(160, 0xff))).toBe(true);
    expect(silenced[0]!.data.subarray(0, 12).equals(rtpPacket(seq - 1, { ssrc: 0xa1 }).subarray(0, 12))).toBe(true);
    await d.ng.request({ command: 'unsilence media', 'call-id': c.callId });
    expect((await one()).map((r) => r.data[12])).toEqual([0x12]);
    if (fastPath) expect((await rtpA(c)).fastPath).toEqual({ native: 1 });
    const s = await rtpA(c);
    if (!fastPath) expect(s['media control']['blocked packets']).toBe(1);
    await deleteCall(d, c.callId);
  });
});
