/**
 * The audio player over real UDP: with `audio-player` (`always`) a receiver gets one stream of
 * the relay's own — silence until audio arrives, a new source placed --audio-buffer-delay
 * (5 ms = 40 samples at 8 kHz) after the next frame, as rtpengine's tests observe it — and a
 * party hearing two others (connect with two from-tags) gets them mixed: the samples summed
 * with clipping, in its codec, under one SSRC. Also `play media` mixed into that stream, and the
 * player off by default. Both daemon paths; zero-leak assertion at the end.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeUlaw, encodeUlaw, ulawEncodeSample } from '../../daemon/codec/g711.js';
import { buildWav } from '../../daemon/codec/wav.js';
import { startDaemon, type DaemonHandle } from '../helpers/daemon.js';
import { expectNoLeaks } from '../helpers/leaks.js';
import { deleteCall, relayPortsOf, uniqueCallId } from '../helpers/media-call.js';
import { RtpPeer, rtpPacket, type Received } from '../helpers/rtp-peer.js';

function sdp(peer: RtpPeer, pts = '0'): string {
  return ['v=0', `o=- 1545997027 1 IN IP4 ${peer.address}`, 's=tester', 't=0 0', `m=audio ${peer.port} RTP/AVP ${pts}`,
    `c=IN IP4 ${peer.address}`, 'a=sendrecv', ''].join('\r\n');
}

const seqOf = (r: Received) => r.data.readUInt16BE(2);
const tsOf = (r: Received) => r.data.readUInt32BE(4);
const ssrcOf = (r: Received) => r.data.readUInt32BE(8);
const payload = (r: Received) => r.data.subarray(12);
const fill = (byte: number, n: number) => Buffer.alloc(n, byte);

/** One continuous stream: one SSRC, seq +1 and ts +160 from packet to packet, marker only first. */
function expectOneStream(got: Received[], firstIsStart: boolean): void {
  got.forEach((r, i) => {
    if (i === 0) {
      expect((r.data[1]! & 0x80) !== 0).toBe(firstIsStart);
      return;
    }
    const p = got[i - 1]!;
    expect(r.data[1]! & 0x80, `marker ${i}`).toBe(0);
    expect(ssrcOf(r)).toBe(ssrcOf(p));
    expect(seqOf(r)).toBe((seqOf(p) + 1) & 0xffff);
    expect(tsOf(r)).toBe((tsOf(p) + 160) >>> 0);
  });
}

/** Index of `want` (consecutive payloads) in what arrived, or -1. */
function findRun(got: Received[], want: Buffer[]): number {
  for (let i = 0; i + want.length <= got.length; i++) {
    if (want.every((w, k) => payload(got[i + k]!).equals(w))) return i;
  }
  return -1;
}

describe.each([{ fastPath: false }, { fastPath: true }])('audio player, fast path $fastPath', ({ fastPath }) => {
  let d: DaemonHandle;
  const peers: RtpPeer[] = [];

  beforeAll(async () => {
    d = await startDaemon(['--audio-buffer-length=500', '--audio-buffer-delay=5'], { fastPath });
  });

  afterAll(async () => {
    for (const p of peers) p.close();
    await expectNoLeaks(d);
  });

  async function peer(): Promise<RtpPeer> {
    const p = await RtpPeer.open();
    peers.push(p);
    return p;
  }

  it('is off by default: media is forwarded as it comes', async () => {
    const a = await peer();
    const b = await peer();
    const callId = uniqueCallId('ap-off');
    const o = await d.ng.request({ command: 'offer', 'call-id': callId, 'from-tag': 'a', sdp: sdp(a) });
    const an = await d.ng.request({ command: 'answer', 'call-id': callId, 'from-tag': 'a', 'to-tag': 'b', sdp: sdp(b) });
    await b.settle(100);
    expect(b.received.length).toBe(0);
    const p = rtpPacket(2000, { ssrc: 0x3456, ts: 4000, pt: 0, payload: fill(0x00, 160) });
    a.send(p, relayPortsOf(an.sdp as string).rtp);
    const got = await b.waitFor(1);
    expect(got[0]!.data.equals(p)).toBe(true);
    void o;
    await deleteCall(d, callId);
  });

  it('always: each side gets the relay\'s own stream, silence, then audio placed 5 ms after the next frame', async () => {
    const a = await peer();
    const b = await peer();
    const callId = uniqueCallId('ap-always');
    const o = await d.ng.request({ command: 'offer', 'call-id': callId, 'from-tag': 'a', 'audio-player': 'always', sdp: sdp(a) });
    expect(o.result).toBe('ok');
    // no early media: nothing before the answer
    await a.settle(100);
    expect(a.received.length + b.received.length).toBe(0);
    const an = await d.ng.request({ command: 'answer', 'call-id': callId, 'from-tag': 'a', 'to-tag': 'b', sdp: sdp(b) });
    expect(an.result).toBe('ok');
    await b.waitFor(2);
    await a.waitFor(2);
    expect(payload(b.received[0]!).equals(fill(0xff, 160))).toBe(true);
    expect(payload(a.received[0]!).equals(fill(0xff, 160))).toBe(true);
    // right after a frame left, two packets of audio from A (0x42 = µ-law -15100 or so)
    const n = b.received.length;
    await b.waitFor(n + 1);
    const toRelayA = relayPortsOf(an.sdp as string).rtp;
    a.send(rtpPacket(3000, { ssrc: 0x3456, ts: 5000, pt: 0, payload: fill(0x42, 160) }), toRelayA);
    a.send(rtpPacket(3001, { ssrc: 0x3456, ts: 5160, pt: 0, payload: fill(0x42, 160) }), toRelayA);
    await b.waitFor(n + 8);
    const got = b.received;
    expectOneStream(got, true);
    const run = findRun(got, [
      Buffer.concat([fill(0xff, 40), fill(0x42, 120)]),
      fill(0x42, 160),
      Buffer.concat([fill(0x42, 40), fill(0xff, 120)]),
      fill(0xff, 160),
    ]);
    expect(run, got.map((r) => payload(r).subarray(0, 2).toString('hex') + '..' + payload(r).subarray(150).toString('hex')).join(' ')).toBeGreaterThan(0);
    // A's own packets never reach B as they are
    expect(got.some((r) => ssrcOf(r) === 0x3456)).toBe(false);
    const q = await d.ng.request({ command: 'query', 'call-id': callId });
    if (fastPath) expect(q.tags.a.medias[0].streams[0].fastPath.reason).toMatch(/audio-player/);
    await deleteCall(d, callId);
    const after = b.received.length;
    await b.settle(100);
    expect(b.received.length).toBeLessThanOrEqual(after + 1);
  });

  it('play media into a party with the audio player is mixed into its stream', async () => {
    const a = await peer();
    const b = await peer();
    const callId = uniqueCallId('ap-play');
    await d.ng.request({ command: 'offer', 'call-id': callId, 'from-tag': 'a', 'audio-player': 'always', sdp: sdp(a) });
    await d.ng.request({ command: 'answer', 'call-id': callId, 'from-tag': 'a', 'to-tag': 'b', sdp: sdp(b) });
    await a.waitFor(1);
    const tone = Int16Array.from({ length: 800 }, (_, i) => (i % 2 ? 4000 : -4000));
    const r = await d.ng.request({ command: 'play media', 'call-id': callId, 'from-tag': 'a', blob: buildWav(tone, 8000) });
    expect(r).toEqual({ result: 'ok', duration: 100 });
    await a.settle(250);
    const got = a.received;
    expectOneStream(got, true);
    const frame = encodeUlaw(tone.subarray(0, 160));
    expect(got.filter((x) => payload(x).equals(frame)).length).toBe(5);
    const stop = await d.ng.request({ command: 'stop media', 'call-id': callId, 'from-tag': 'a' });
    // finished on its own: stop media still answers where it ended, as rtpengine's player does
    expect(stop).toEqual({ result: 'ok', 'last-frame-pos': 800 });
    await deleteCall(d, callId);
  });

  it('refuses an audio-player value it does not know', async () => {
    const a = await peer();
    const r = await d.ng.request({ command: 'offer', 'call-id': uniqueCallId('ap-bad'), 'from-tag': 'a', 'audio-player': 'sometimes', sdp: sdp(a) });
    expect(r['error-reason']).toBe('Invalid value: "audio-player" must be default, transcoding, always or off');
  });
});

// the mix test runs with a larger initial delay (60 ms): the two senders here are a test
// process on a shared machine, whose jitter a 5 ms delay would turn into re-placed sources
describe.each([{ fastPath: false }, { fastPath: true }])('audio player mixing, fast path $fastPath', ({ fastPath }) => {
  let d: DaemonHandle;
  const peers: RtpPeer[] = [];

  beforeAll(async () => {
    d = await startDaemon(['--audio-buffer-length=500', '--audio-buffer-delay=60'], { fastPath });
  });

  afterAll(async () => {
    for (const p of peers) p.close();
    await expectNoLeaks(d);
  });

  async function peer(): Promise<RtpPeer> {
    const p = await RtpPeer.open();
    peers.push(p);
    return p;
  }

  it('mixes two parties into the one stream a third hears: summed samples, clipped, one SSRC', async () => {
    const [pa, pb, pc] = [await peer(), await peer(), await peer()];
    const callId = uniqueCallId('ap-mix');
    const toRelay: Record<string, number> = {};
    for (const [tag, p] of [['a', pa], ['b', pb], ['c', pc]] as const) {
      const c = await d.ng.request({ command: 'create', 'call-id': callId, 'from-tag': tag });
      expect(c.result).toBe('ok');
      const ans = await d.ng.request({ command: 'create answer', 'call-id': callId, 'from-tag': tag, sdp: sdp(p) });
      expect(ans.result).toBe('ok');
      toRelay[tag] = relayPortsOf(c.sdp as string).rtp;
    }
    const conn = await d.ng.request({ command: 'connect', 'call-id': callId, 'from-tags': ['a', 'b'], 'to-tag': 'c', flags: ['directional'], 'audio-player': 'always' });
    expect(conn.result).toBe('ok');
    await pc.waitFor(1);
    const phases: Array<[number, number]> = [[1000, 2500], [-3000, 1200], [30000, 20000], [-30000, -25000]];
    let seq = 100;
    let ts = 8000;
    // paced by the clock, not by chained timers (no drift on a busy machine)
    const t0 = Date.now();
    let n = 0;
    for (const [va, vb] of phases) {
      for (let i = 0; i < 6; i++) {
        await new Promise((r) => setTimeout(r, Math.max(0, t0 + 20 * n++ - Date.now())));
        pa.send(rtpPacket(seq, { ssrc: 0xaaaa, ts, pt: 0, payload: fill(ulawEncodeSample(va), 160) }), toRelay.a!);
        pb.send(rtpPacket(seq + 500, { ssrc: 0xbbbb, ts: ts + 77777, pt: 0, payload: fill(ulawEncodeSample(vb), 160) }), toRelay.b!);
        seq++;
        ts += 160;
      }
    }
    await pc.settle(250);
    const got = pc.received;
    expectOneStream(got, true);
    expect(new Set(got.map(ssrcOf)).size).toBe(1);
    for (const [va, vb] of phases) {
      // what C should hear: the decoded samples summed, clipped to 16 bits, encoded again
      const da = decodeUlaw(Buffer.from([ulawEncodeSample(va)]))[0]!;
      const db = decodeUlaw(Buffer.from([ulawEncodeSample(vb)]))[0]!;
      const want = encodeUlaw(Int16Array.of(Math.max(-32768, Math.min(32767, da + db))))[0]!;
      const full = got.filter((r) => payload(r).equals(fill(want, 160)));
      expect(full.length, `phase ${va}+${vb}: want 0x${want.toString(16)}`).toBeGreaterThanOrEqual(3);
    }
    // neither party's own packets (nor their SSRCs) reach C
    expect(got.some((r) => ssrcOf(r) === 0xaaaa || ssrcOf(r) === 0xbbbb)).toBe(false);
    // a and b hear nothing: only c has subscriptions
    expect(pa.received.length + pb.received.length).toBe(0);
    await deleteCall(d, callId);
  });

});

describe('--audio-player=play-media', () => {
  let d: DaemonHandle;
  const peers: RtpPeer[] = [];

  beforeAll(async () => {
    d = await startDaemon(['--audio-player=play-media', '--audio-buffer-delay=60']);
  });

  afterAll(async () => {
    for (const p of peers) p.close();
    await expectNoLeaks(d);
  });

  it('mixes what the participant is forwarded with the playback while it plays, then forwards again', async () => {
    const a = await RtpPeer.open();
    const b = await RtpPeer.open();
    peers.push(a, b);
    const callId = uniqueCallId('ap-play-media');
    const o = await d.ng.request({ command: 'offer', 'call-id': callId, 'from-tag': 'a', sdp: sdp(a) });
    await d.ng.request({ command: 'answer', 'call-id': callId, 'from-tag': 'a', 'to-tag': 'b', sdp: sdp(b) });
    const toRelayB = relayPortsOf(o.sdp as string).rtp;
    const bValue = 3000;
    const fromB = (i: number) => rtpPacket(1000 + i, { ssrc: 0xbbbb, pt: 0, ts: 4000 + 160 * i, payload: fill(ulawEncodeSample(bValue), 160) });
    // before: forwarded as it comes
    b.send(fromB(0), toRelayB);
    expect(ssrcOf((await a.waitFor(1))[0]!)).toBe(0xbbbb);
    a.clear();
    // 200 ms of a tone, B sending all along (paced by the clock)
    const tone = Int16Array.from({ length: 1600 }, (_, i) => (i % 2 ? 5000 : -5000));
    const r = await d.ng.request({ command: 'play media', 'call-id': callId, 'from-tag': 'a', blob: buildWav(tone, 8000) });
    expect(r).toEqual({ result: 'ok', duration: 200 });
    const t0 = Date.now();
    for (let i = 1; i <= 20; i++) {
      await new Promise((res) => setTimeout(res, Math.max(0, t0 + 20 * (i - 1) - Date.now())));
      b.send(fromB(i), toRelayB);
    }
    await a.settle(100);
    const during = a.received.filter((x) => ssrcOf(x) !== 0xbbbb);
    expectOneStream(during, true);
    // frames where both were there: the tone plus B's level, clipped, encoded
    const bLevel = decodeUlaw(Buffer.from([ulawEncodeSample(bValue)]))[0]!;
    const mixed = encodeUlaw(Int16Array.from(tone.subarray(0, 160), (v) => Math.max(-32768, Math.min(32767, v + bLevel))));
    expect(during.filter((x) => payload(x).equals(mixed)).length).toBeGreaterThanOrEqual(3);
    // B's own packets did not reach A while the player ran (they were mixed in instead)
    const player = ssrcOf(during[0]!);
    const firstPlayer = a.received.findIndex((x) => ssrcOf(x) === player);
    const lastPlayer = a.received.length - 1 - [...a.received].reverse().findIndex((x) => ssrcOf(x) === player);
    expect(a.received.slice(firstPlayer, lastPlayer + 1).every((x) => ssrcOf(x) === player)).toBe(true);
    // after: the player is gone and B's packets are forwarded again
    a.clear();
    await a.settle(100);
    a.clear();
    b.send(fromB(50), toRelayB);
    const after = await a.waitFor(1);
    await a.settle(100);
    expect(a.received.map(ssrcOf)).toEqual([0xbbbb]);
    expect(after[0]!.data.equals(fromB(50))).toBe(true);
    await deleteCall(d, callId);
  });
});
