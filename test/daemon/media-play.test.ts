/**
 * `play media` / `stop media` over real UDP: a WAV file or a blob64 played toward the selected
 * participant in its own preferred codec, byte for byte (payload = the file's samples encoded),
 * 20 ms apart with the marker on the first packet of each repetition and seq/timestamp/SSRC
 * continuing; `repeat-times`, `start-pos`, `stop media` with `last-frame-pos`; bad files and
 * bad requests are error replies naming the problem and the daemon carries on. Both daemon
 * paths (JS and native fast path); every run ends with the zero-leak assertion.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeAlaw, encodeUlaw } from '../../daemon/codec/g711.js';
import { buildWav } from '../../daemon/codec/wav.js';
import { startDaemon, type DaemonHandle } from '../helpers/daemon.js';
import { expectNoLeaks } from '../helpers/leaks.js';
import { LibSrtpPeer } from '../helpers/libsrtp-peer.js';
import { deleteCall, relayPortsOf, uniqueCallId } from '../helpers/media-call.js';
import { RtpPeer, rtpPacket, type Received } from '../helpers/rtp-peer.js';

function sdp(peer: RtpPeer, formats: string, rtpmaps: string[]): string {
  return [
    'v=0', `o=- 1545997027 1 IN IP4 ${peer.address}`, 's=tester', 't=0 0',
    `m=audio ${peer.port} RTP/AVP ${formats}`, `c=IN IP4 ${peer.address}`,
    ...rtpmaps.map((r) => `a=rtpmap:${r}`), 'a=sendrecv', '',
  ].join('\r\n');
}

/** A tone of `ms` milliseconds at `rate` (a sweep, so every frame differs). */
function tone(ms: number, rate = 8000): Int16Array {
  const n = (rate * ms) / 1000;
  return Int16Array.from({ length: n }, (_, i) => Math.round(12000 * Math.sin((2 * Math.PI * (300 + i / 4) * i) / rate)));
}

const seqOf = (r: Received) => r.data.readUInt16BE(2);
const tsOf = (r: Received) => r.data.readUInt32BE(4);
const ssrcOf = (r: Received) => r.data.readUInt32BE(8);
const ptOf = (r: Received) => r.data[1]! & 0x7f;
const markerOf = (r: Received) => (r.data[1]! & 0x80) !== 0;

/** Checks a run of played packets: numbering continues, payloads are `frames` encoded. */
function expectPlayed(got: Received[], pt: number, frames: Buffer[], markers: number[]): void {
  expect(got.length).toBe(frames.length);
  got.forEach((r, i) => {
    expect(ptOf(r), `pt ${i}`).toBe(pt);
    expect(markerOf(r), `marker ${i}`).toBe(markers.includes(i));
    expect(r.data.subarray(12).equals(frames[i]!), `payload ${i}`).toBe(true);
    if (i > 0) {
      const p = got[i - 1]!;
      expect(seqOf(r)).toBe((seqOf(p) + 1) & 0xffff);
      expect(tsOf(r)).toBe((tsOf(p) + 160) >>> 0);
      expect(ssrcOf(r)).toBe(ssrcOf(p));
    }
  });
}

/** `samples` cut into 160-sample frames (the last one padded with silence), each encoded. */
function frames(samples: Int16Array, encode: (s: Int16Array) => Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < samples.length; i += 160) {
    const f = new Int16Array(160);
    f.set(samples.subarray(i, i + 160));
    out.push(encode(f));
  }
  return out;
}

describe.each([{ fastPath: false }, { fastPath: true }])('play media, fast path $fastPath', ({ fastPath }) => {
  let d: DaemonHandle;
  let dir: string;
  const peers: RtpPeer[] = [];
  const short = tone(100); // 800 samples: 5 frames
  const long = tone(2000);

  beforeAll(async () => {
    d = await startDaemon([], { fastPath });
    dir = mkdtempSync(join(tmpdir(), 'rtpe-play-'));
    writeFileSync(join(dir, 'short.wav'), buildWav(short, 8000));
    writeFileSync(join(dir, 'long.wav'), buildWav(long, 8000));
    writeFileSync(join(dir, 'text.wav'), 'this is not audio\n');
    const mp3ish = buildWav(short, 8000);
    mp3ish.writeUInt16LE(85, 20); // format tag of MPEG layer 3
    writeFileSync(join(dir, 'mp3.wav'), mp3ish);
    writeFileSync(join(dir, 'truncated.wav'), buildWav(short, 8000).subarray(0, 30));
  });

  afterAll(async () => {
    for (const p of peers) p.close();
    rmSync(dir, { recursive: true, force: true });
    await expectNoLeaks(d);
  });

  async function setup(name: string, aFormats = '8', aMaps = ['8 PCMA/8000']) {
    const a = await RtpPeer.open();
    const b = await RtpPeer.open();
    peers.push(a, b);
    const callId = uniqueCallId(name);
    const offer = await d.ng.request({ command: 'offer', 'call-id': callId, 'from-tag': 'pa', sdp: sdp(a, aFormats, aMaps) });
    expect(offer.result).toBe('ok');
    const answer = await d.ng.request({ command: 'answer', 'call-id': callId, 'from-tag': 'pa', 'to-tag': 'pb', sdp: sdp(b, aFormats, aMaps) });
    expect(answer.result).toBe('ok');
    return { callId, a, b, toRelayA: relayPortsOf(answer.sdp as string).rtp, toRelayB: relayPortsOf(offer.sdp as string).rtp };
  }

  it('plays a WAV file to the from-tag party in its codec, from the relay port, and replies the duration', async () => {
    const c = await setup('play-file');
    const r = await d.ng.request({ command: 'play media', 'call-id': c.callId, 'from-tag': 'pa', file: join(dir, 'short.wav') });
    expect(r).toEqual({ result: 'ok', duration: 100 });
    const got = await c.a.waitFor(5);
    await c.a.settle(150);
    expectPlayed(c.a.received, 8, frames(short, (s) => encodeAlaw(s)), [0]);
    expect(got.every((x) => x.port === c.toRelayA)).toBe(true);
    // 20 ms apart: five packets take about 80 ms (loose bound: a loaded machine)
    expect(c.b.received.length).toBe(0);
    await deleteCall(d, c.callId);
  });

  it('plays a blob64 twice with repeat-times, marker on each repetition, numbering continuing', async () => {
    const c = await setup('play-blob64', '0 8', ['0 PCMU/8000', '8 PCMA/8000']);
    const blob64 = buildWav(short, 8000).toString('base64');
    const r = await d.ng.request({ command: 'play media', 'call-id': c.callId, 'to-tag': 'pb', 'from-tag': 'pb', blob64, 'repeat-times': 2 });
    expect(r).toEqual({ result: 'ok', duration: 100 });
    await c.b.waitFor(10);
    await c.b.settle(100);
    const f = frames(short, (s) => encodeUlaw(s));
    expectPlayed(c.b.received, 0, [...f, ...f], [0, 5]);
    expect(c.a.received.length).toBe(0);
    await deleteCall(d, c.callId);
  });

  it('plays a bencode blob, resampling a 16 kHz stereo file to the receiver\'s 8 kHz', async () => {
    const c = await setup('play-blob');
    const stereo = new Int16Array(3200 * 2); // 200 ms at 16 kHz
    const r = await d.ng.request({ command: 'play media', 'call-id': c.callId, 'from-tag': 'pa', blob: buildWav(stereo, 16000, 2) });
    expect(r).toEqual({ result: 'ok', duration: 200 });
    await c.a.waitFor(10);
    await c.a.settle(100);
    expectPlayed(c.a.received, 8, frames(new Int16Array(1600), (s) => encodeAlaw(s)), [0]);
    await deleteCall(d, c.callId);
  });

  it('stop media stops playback and says where it was; a new play continues the stream from start-pos', async () => {
    const c = await setup('play-stop');
    const r = await d.ng.request({ command: 'play media', 'call-id': c.callId, 'from-tag': 'pa', file: join(dir, 'long.wav') });
    expect(r.duration).toBe(2000);
    await c.a.waitFor(3);
    const stop = await d.ng.request({ command: 'stop media', 'call-id': c.callId, 'from-tag': 'pa' });
    expect(stop.result).toBe('ok');
    await c.a.settle(100);
    const before = [...c.a.received];
    expect(stop['last-frame-pos']).toBe(before.length * 160);
    expect(before.length).toBeLessThan(100);
    await c.a.settle(200);
    expect(c.a.received.length).toBe(before.length);
    c.a.clear();
    const again = await d.ng.request({ command: 'play media', 'call-id': c.callId, 'from-tag': 'pa', file: join(dir, 'long.wav'), 'start-pos': 15840 });
    expect(again.duration).toBe(2000);
    await c.a.waitFor(1);
    await c.a.settle(100);
    const first = c.a.received[0]!;
    const last = before[before.length - 1]!;
    expect(markerOf(first)).toBe(true);
    expect(ssrcOf(first)).toBe(ssrcOf(last));
    expect(seqOf(first)).toBe((seqOf(last) + 1) & 0xffff);
    // the timestamp moves on with the time that passed (at least one frame, well under a minute)
    const gap = (tsOf(first) - tsOf(last)) >>> 0;
    expect(gap).toBeGreaterThanOrEqual(160);
    expect(gap).toBeLessThan(8000 * 60);
    expectPlayed(c.a.received, 8, frames(long.subarray(15840), (s) => encodeAlaw(s)), [0]);
    await deleteCall(d, c.callId);
  });

  it('block-egress: the participant hears only the playback while it plays, forwarding resumes after', async () => {
    const c = await setup('play-block-egress');
    const fromB = (seq: number) => rtpPacket(seq, { ssrc: 0xbbbb, pt: 8, ts: seq * 160, payload: Buffer.alloc(160, 0x2a) });
    // B's media reaches A (and, on the fast path, the stream is native)
    c.b.send(fromB(1), c.toRelayB);
    await c.a.waitFor(1);
    c.a.clear();
    const r = await d.ng.request({ command: 'play media', 'call-id': c.callId, 'from-tag': 'pa', file: join(dir, 'long.wav'), flags: ['block-egress'] });
    expect(r.result).toBe('ok');
    // while it plays (2 s), B keeps sending: none of it reaches A
    for (let i = 2; i < 6; i++) {
      c.b.send(fromB(i), c.toRelayB);
      await new Promise((res) => setTimeout(res, 15));
    }
    await c.a.settle(100);
    const during = [...c.a.received];
    expect(during.filter((x) => ssrcOf(x) === 0xbbbb)).toEqual([]);
    expect(during.length).toBeGreaterThanOrEqual(3);
    // stopped: B's media flows again
    expect((await d.ng.request({ command: 'stop media', 'call-id': c.callId, 'from-tag': 'pa' })).result).toBe('ok');
    c.a.clear();
    c.b.send(fromB(10), c.toRelayB);
    await c.a.waitFor(1);
    await c.a.settle(50);
    expect(c.a.received.map(ssrcOf)).toContain(0xbbbb);
    // a playback that ends by itself gives the media back too
    expect((await d.ng.request({ command: 'play media', 'call-id': c.callId, 'from-tag': 'pa', file: join(dir, 'short.wav'), flags: ['block-egress'] })).result).toBe('ok');
    await c.a.waitFor(5);
    await c.a.settle(200);
    c.a.clear();
    c.b.send(fromB(20), c.toRelayB);
    const after = await c.a.waitFor(1);
    expect(ssrcOf(after[0]!)).toBe(0xbbbb);
    await deleteCall(d, c.callId);
  });

  it('`all` plays to every participant that can hear it (before an answer: the offerer)', async () => {
    const c = await setup('play-all', '0 8', ['0 PCMU/8000', '8 PCMA/8000']);
    const r = await d.ng.request({ command: 'play media', 'call-id': c.callId, flags: ['all'], file: join(dir, 'short.wav') });
    expect(r).toEqual({ result: 'ok', duration: 100 });
    await c.a.waitFor(5);
    await c.b.waitFor(5);
    await c.a.settle(100);
    const f = frames(short, (x) => encodeUlaw(x));
    expectPlayed(c.a.received, 0, f, [0]);
    expectPlayed(c.b.received, 0, f, [0]);
    expect(ssrcOf(c.a.received[0]!)).not.toBe(ssrcOf(c.b.received[0]!));
    await deleteCall(d, c.callId);
    // an offer alone: only the offerer has an address and codecs to play to
    const a = await RtpPeer.open();
    peers.push(a);
    const callId = uniqueCallId('play-all-offer');
    await d.ng.request({ command: 'offer', 'call-id': callId, 'from-tag': 'oa', sdp: sdp(a, '8', ['8 PCMA/8000']) });
    const r2 = await d.ng.request({ command: 'play media', 'call-id': callId, flags: ['all'], file: join(dir, 'short.wav') });
    expect(r2).toEqual({ result: 'ok', duration: 100 });
    await a.waitFor(5);
    await a.settle(100);
    expectPlayed(a.received, 8, frames(short, (x) => encodeAlaw(x)), [0]);
    await deleteCall(d, callId);
  });

  it('deleting a call while it plays stops the player and leaves nothing behind', async () => {
    const c = await setup('play-delete');
    const r = await d.ng.request({ command: 'play media', 'call-id': c.callId, 'from-tag': 'pa', file: join(dir, 'long.wav'), 'repeat-times': 5 });
    expect(r.result).toBe('ok');
    await c.a.waitFor(2);
    await deleteCall(d, c.callId);
    const n = (await c.a.settle(150)).length;
    expect((await c.a.settle(200)).length).toBe(n);
  });

  it('refuses missing, unreadable and non-audio files and bad requests, naming the problem', async () => {
    const c = await setup('play-bad');
    const play = (extra: Record<string, unknown>) => d.ng.request({ command: 'play media', 'call-id': c.callId, 'from-tag': 'pa', ...extra });
    const reason = async (extra: Record<string, unknown>) => {
      const r = await play(extra);
      expect(r.result).toBe('error');
      return r['error-reason'] as string;
    };
    expect(await reason({ file: join(dir, 'missing.wav') })).toBe(`Failed to start media playback from file: cannot read '${join(dir, 'missing.wav')}': no such file`);
    expect(await reason({ file: dir })).toMatch(/^Failed to start media playback from file: .* is not a regular file$/);
    expect(await reason({ file: join(dir, 'text.wav') })).toMatch(/from file: .*not a WAV file/);
    expect(await reason({ file: join(dir, 'mp3.wav') })).toMatch(/unsupported WAV encoding \(format tag 85\)/);
    expect(await reason({ file: join(dir, 'truncated.wav') })).toMatch(/without a 'data' chunk|truncated/);
    if (process.getuid?.() !== 0) {
      writeFileSync(join(dir, 'secret.wav'), buildWav(short, 8000));
      chmodSync(join(dir, 'secret.wav'), 0o000);
      expect(await reason({ file: join(dir, 'secret.wav') })).toMatch(/permission denied/);
    }
    expect(await reason({ blob64: '!!!not base64' })).toBe('Failed to start media playback from blob: blob64 is not valid base64');
    expect(await reason({ blob: Buffer.from('RIFF') })).toBe('Failed to start media playback from blob: not a WAV file (no RIFF/WAVE header)');
    expect(await reason({})).toBe('No media file specified');
    expect(await reason({ 'from-tag': 'nobody', file: join(dir, 'short.wav') })).toBe('From-tag not found');
    const noParty = await d.ng.request({ command: 'play media', 'call-id': c.callId, file: join(dir, 'short.wav') });
    expect(noParty['error-reason']).toBe('No participant party specified');
    const notPlaying = await d.ng.request({ command: 'stop media', 'call-id': c.callId, 'from-tag': 'pa' });
    expect(notPlaying['error-reason']).toBe('Not currently playing media');
    const unknown = await d.ng.request({ command: 'play media', 'call-id': 'no-such-call', 'from-tag': 'pa', file: join(dir, 'short.wav') });
    expect(unknown['error-reason']).toBe('Unknown call-id');
    // nothing was played, and the call still relays
    await c.a.settle(100);
    expect(c.a.received.length).toBe(0);
    expect((await d.ng.request({ command: 'ping' })).result).toBe('pong');
    await deleteCall(d, c.callId);
  });

  it('refuses a party whose codecs it cannot encode', async () => {
    const c = await setup('play-opus', '96', ['96 opus/48000/2']);
    const r = await d.ng.request({ command: 'play media', 'call-id': c.callId, 'from-tag': 'pa', file: join(dir, 'short.wav') });
    expect(r['error-reason']).toBe("Failed to start media playback: participant 'pa' has no codec we can encode (PCMU, PCMA, L16); it has opus");
    await deleteCall(d, c.callId);
  });
});

describe('play media toward an SRTP participant', () => {
  let d: DaemonHandle;
  let lib: LibSrtpPeer;
  const peers: RtpPeer[] = [];

  beforeAll(async () => {
    d = await startDaemon([]);
    lib = new LibSrtpPeer();
  });

  afterAll(async () => {
    lib.close();
    for (const p of peers) p.close();
    await expectNoLeaks(d);
  });

  it('is encrypted with the key the relay gave that participant (libsrtp decrypts it to the file\'s bytes)', async () => {
    const a = await RtpPeer.open();
    const b = await RtpPeer.open();
    peers.push(a, b);
    const callId = uniqueCallId('play-srtp');
    const keyA = randomBytes(30).toString('base64');
    const keyB = randomBytes(30).toString('base64');
    const savp = (p: RtpPeer, key: string) => sdp(p, '8', ['8 PCMA/8000']).replace('RTP/AVP', 'RTP/SAVP')
      + `a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${key}\r\n`;
    await d.ng.request({ command: 'offer', 'call-id': callId, 'from-tag': 'sa', sdp: savp(a, keyA) });
    const an = await d.ng.request({ command: 'answer', 'call-id': callId, 'from-tag': 'sa', 'to-tag': 'sb', sdp: savp(b, keyB) });
    const line = /^a=crypto:\d+ AES_CM_128_HMAC_SHA1_80 inline:(\S+)\r?$/m.exec(an.sdp as string);
    expect(line).not.toBeNull();
    const tone = Int16Array.from({ length: 800 }, (_, i) => Math.round(8000 * Math.sin(i / 3)));
    const r = await d.ng.request({ command: 'play media', 'call-id': callId, 'from-tag': 'sa', blob: buildWav(tone, 8000) });
    expect(r.duration).toBe(100);
    await a.waitFor(5);
    await a.settle(100);
    expect(a.received.length).toBe(5);
    const rx = await lib.session('AES_CM_128_HMAC_SHA1_80', 'in', Buffer.from(line![1]!, 'base64'));
    const want = frames(tone, (x) => encodeAlaw(x));
    for (const [i, got] of a.received.entries()) {
      const plain = await lib.rtp(rx, got.data);
      expect(Buffer.isBuffer(plain), String(plain)).toBe(true);
      expect((plain as Buffer).subarray(12).equals(want[i]!), `payload ${i}`).toBe(true);
    }
    await deleteCall(d, callId);
  });
});

describe('start forwarding / stop forwarding', () => {
  let d: DaemonHandle;
  const peers: RtpPeer[] = [];

  beforeAll(async () => {
    d = await startDaemon([]);
  });

  afterAll(async () => {
    for (const p of peers) p.close();
    await expectNoLeaks(d);
  });

  it('keeps the forwarding state per call or participant and reports it in query, as rtpengine\'s recording object', async () => {
    const a = await RtpPeer.open();
    const b = await RtpPeer.open();
    peers.push(a, b);
    const callId = uniqueCallId('forwarding');
    await d.ng.request({ command: 'offer', 'call-id': callId, 'from-tag': 'fa', sdp: sdp(a, '0', ['0 PCMU/8000']) });
    await d.ng.request({ command: 'answer', 'call-id': callId, 'from-tag': 'fa', 'to-tag': 'fb', sdp: sdp(b, '0', ['0 PCMU/8000']) });
    expect((await d.ng.request({ command: 'query', 'call-id': callId })).recording).toBeUndefined();
    expect(await d.ng.request({ command: 'start forwarding', 'call-id': callId })).toEqual({ result: 'ok' });
    expect((await d.ng.request({ command: 'query', 'call-id': callId })).recording).toEqual({ 'call recording': 0, forwarding: 1 });
    expect((await d.ng.request({ command: 'stop forwarding', 'call-id': callId })).result).toBe('ok');
    expect((await d.ng.request({ command: 'query', 'call-id': callId })).recording).toEqual({ 'call recording': 0, forwarding: 0 });
    // one participant (from-tag with `directional`)
    expect((await d.ng.request({ command: 'start forwarding', 'call-id': callId, 'from-tag': 'fb', flags: ['directional'] })).result).toBe('ok');
    expect((await d.ng.request({ command: 'query', 'call-id': callId })).recording).toEqual({ 'call recording': 0, forwarding: 1 });
    const bad = await d.ng.request({ command: 'start forwarding', 'call-id': callId, 'from-tag': 'nobody', flags: ['directional'] });
    expect(bad['error-reason']).toBe('From-tag not found');
    expect((await d.ng.request({ command: 'stop forwarding', 'call-id': 'nope' }))['error-reason']).toBe('Unknown call-id');
    await deleteCall(d, callId);
  });
});
