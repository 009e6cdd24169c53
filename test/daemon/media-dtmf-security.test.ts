/**
 * DTMF beyond pass-through, byte by byte on the JS path: DTMF logging (rtpengine's JSON over
 * UDP to --dtmf-log-dest, overridden per call by `DTMF-log-dest`), `detect DTMF` on a stream
 * that is not transcoded, the DTMF-security modes (silence, tone, zero, DTMF, random) on events
 * and on detected in-band digits, the DTMF triggers, and DTMF-delay. Each ends with zero leaks.
 */
import dgram from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toneSamples } from '../../daemon/codec/dtmf.js';
import { decodeUlaw, encodeUlaw } from '../../daemon/codec/g711.js';
import { detectTone } from '../../daemon/codec/dtmf.js';
import { startDaemon, type DaemonHandle } from '../helpers/daemon.js';
import { expectNoLeaks } from '../helpers/leaks.js';
import { deleteCall, relayPortsOf, uniqueCallId } from '../helpers/media-call.js';
import { RtpPeer, rtpPacket } from '../helpers/rtp-peer.js';

function sdp(peer: RtpPeer, formats: string, rtpmaps: string[]): string {
  return [
    'v=0', `o=- 1545997027 1 IN IP4 ${peer.address}`, 's=tester', 't=0 0',
    `m=audio ${peer.port} RTP/AVP ${formats}`, `c=IN IP4 ${peer.address}`,
    ...rtpmaps.map((r) => `a=rtpmap:${r}`), 'a=sendrecv', '',
  ].join('\r\n');
}

const A_SDP = (p: RtpPeer) => sdp(p, '0 101', ['0 PCMU/8000', '101 telephone-event/8000']);
const B_SDP = (p: RtpPeer) => sdp(p, '0 101', ['0 PCMU/8000', '101 telephone-event/8000']);

function te(event: number, end: boolean, duration: number, volume = 10): Buffer {
  const b = Buffer.alloc(4);
  b[0] = event;
  b[1] = (end ? 0x80 : 0) | volume;
  b.writeUInt16BE(duration, 2);
  return b;
}

/** 20 ms of a digit's dual tone in PCMU, `frame` frames into the digit. */
function tonePcmu(event: number, frame: number): Buffer {
  return encodeUlaw(toneSamples(event, 8000, frame * 160, 160, 6));
}

/** A UDP listener standing in for a --dtmf-log-dest consumer. */
class LogSink {
  readonly messages: Array<Record<string, unknown>> = [];
  private constructor(private readonly sock: dgram.Socket, readonly port: number) {
    sock.on('message', (m) => this.messages.push(JSON.parse(m.toString('utf8')) as Record<string, unknown>));
  }

  static async open(): Promise<LogSink> {
    const s = dgram.createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    return new LogSink(s, s.address().port);
  }

  async waitFor(n: number, ms = 2000): Promise<Array<Record<string, unknown>>> {
    const end = Date.now() + ms;
    while (this.messages.length < n && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    return this.messages;
  }

  close(): void {
    this.sock.close();
  }
}

interface Call {
  callId: string;
  a: RtpPeer;
  b: RtpPeer;
  toRelayA: number;
  toRelayB: number;
}

describe('DTMF logging, detection, security, triggers and delay (JS path)', () => {
  let d: DaemonHandle;
  let globalLog: LogSink;
  const peers: RtpPeer[] = [];

  beforeAll(async () => {
    globalLog = await LogSink.open();
    d = await startDaemon([`--dtmf-log-dest=127.0.0.1:${globalLog.port}`], { fastPath: false });
  });

  afterAll(async () => {
    for (const p of peers) p.close();
    globalLog.close();
    await expectNoLeaks(d);
  });

  async function setup(name: string, offerExtra: Record<string, unknown> = {}, bSdp = B_SDP): Promise<Call> {
    const a = await RtpPeer.open();
    const b = await RtpPeer.open();
    peers.push(a, b);
    const callId = uniqueCallId(name);
    const offer = await d.ng.request({ command: 'offer', 'call-id': callId, 'from-tag': 'sa', sdp: A_SDP(a), ...offerExtra });
    expect(offer.result, JSON.stringify(offer)).toBe('ok');
    const answer = await d.ng.request({ command: 'answer', 'call-id': callId, 'from-tag': 'sa', 'to-tag': 'sb', sdp: bSdp(b) });
    expect(answer.result).toBe('ok');
    const c = { callId, a, b, toRelayA: relayPortsOf(answer.sdp as string).rtp, toRelayB: relayPortsOf(offer.sdp as string).rtp };
    a.send(rtpPacket(1, { ssrc: 0xa1, ts: 0 }), c.toRelayA);
    b.send(rtpPacket(1, { ssrc: 0xb1 }), c.toRelayB);
    await b.waitFor(1);
    await a.waitFor(1);
    a.clear();
    b.clear();
    return c;
  }

  async function control(c: Call): Promise<Record<string, any>> {
    const q = await d.ng.request({ command: 'query', 'call-id': c.callId });
    const tag = (q.tags as Record<string, any>).sa;
    return tag.medias[0].streams[0]['media control'];
  }

  /** One event of `frames` packets (20 ms each) plus three end packets, from A. */
  function sendEvent(c: Call, event: number, seq: number, ts: number, frames = 3): number {
    for (let i = 0; i < frames + 2; i++) {
      const end = i >= frames - 1;
      const dur = Math.min(frames, i + 1) * 160;
      c.a.send(rtpPacket(seq++, { ssrc: 0xa1, pt: 101, ts, marker: i === 0, payload: te(event, end, dur) }), c.toRelayA);
    }
    return seq;
  }

  it('sends each finished event as rtpengine\'s JSON to --dtmf-log-dest, and to the call\'s DTMF-log-dest instead when given', async () => {
    globalLog.messages.length = 0;
    const c = await setup('dtmf-log');
    sendEvent(c, 7, 10, 1600);
    const msgs = await globalLog.waitFor(1);
    await c.b.waitFor(5);
    expect(msgs).toHaveLength(1);
    expect(msgs[0]).toMatchObject({ callid: c.callId, source_tag: 'sa', type: 'DTMF', source_ip: '127.0.0.1', event: 7, duration: 60, volume: 10, source: 'RFC' });
    expect((msgs[0]!.tags as string[]).sort()).toEqual(['sa', 'sb']);
    expect(Math.abs((msgs[0]!.timestamp as number) - Date.now() / 1000)).toBeLessThan(10);
    // events pass unchanged
    expect(c.b.received.map((r) => r.data[12])).toEqual([7, 7, 7, 7, 7]);
    await deleteCall(d, c.callId);

    const own = await LogSink.open();
    try {
      globalLog.messages.length = 0;
      const c2 = await setup('dtmf-log-call', { 'DTMF-log-dest': `127.0.0.1:${own.port}` });
      sendEvent(c2, 11, 10, 1600);
      expect(await own.waitFor(1)).toHaveLength(1);
      expect(own.messages[0]).toMatchObject({ callid: c2.callId, event: 11, duration: 60 });
      await new Promise((r) => setTimeout(r, 100));
      expect(globalLog.messages).toHaveLength(0);
      expect((await d.ng.request({ command: 'offer', 'call-id': uniqueCallId('bad-dest'), 'from-tag': 'x', sdp: A_SDP(c2.a), 'DTMF-log-dest': 'nowhere' }))['error-reason']).toMatch(/DTMF-log-dest/);
      await deleteCall(d, c2.callId);
    } finally {
      own.close();
    }
  });

  it('detect DTMF reports in-band digits of a stream that is not transcoded and relays its audio unchanged', async () => {
    globalLog.messages.length = 0;
    const c = await setup('dtmf-detect', { flags: ['detect-DTMF'] });
    const sent: Buffer[] = [];
    let seq = 20;
    let ts = 3200;
    const send = (payload: Buffer): void => {
      const p = rtpPacket(seq++, { ssrc: 0xa1, pt: 0, ts, payload });
      ts += 160;
      sent.push(p);
      c.a.send(p, c.toRelayA);
    };
    for (let f = 0; f < 6; f++) send(tonePcmu(9, f)); // 120 ms of '9'
    send(Buffer.alloc(160, 0xff)); // silence: the digit ended
    for (let f = 0; f < 4; f++) send(tonePcmu(10, f)); // 80 ms of '*'
    send(Buffer.alloc(160, 0xff));
    const got = await c.b.waitFor(sent.length);
    expect(got.map((r) => r.data.equals(sent[got.indexOf(r)]!))).toEqual(sent.map(() => true));
    const msgs = await globalLog.waitFor(2);
    expect(msgs.map((m) => [m.event, m.duration, m.source, m.source_tag])).toEqual([[9, 120, 'in-band', 'sa'], [10, 80, 'in-band', 'sa']]);
    const ctl = await control(c);
    expect(ctl['in-band DTMF events']).toBe(2);
    expect(ctl['DTMF detect']).toBe(1);
    await deleteCall(d, c.callId);
  });

  it('DTMF-security zero, DTMF, random and off rewrite (or pass) the event code, byte for byte otherwise', async () => {
    const c = await setup('dtmf-modes');
    let seq = 30;
    const codes = async (mode: Record<string, unknown>): Promise<number[]> => {
      c.b.clear();
      expect((await d.ng.request({ command: 'block DTMF', 'call-id': c.callId, ...mode })).result).toBe('ok');
      seq = sendEvent(c, 4, seq, 160 * seq);
      const got = await c.b.waitFor(5);
      for (const r of got) expect(r.data.subarray(13).equals(te(4, r.data[13]! >= 0x80, r.data.readUInt16BE(14)).subarray(1))).toBe(true);
      return got.map((r) => r.data[12]!);
    };
    expect(await codes({ 'DTMF-security': 'zero' })).toEqual([0, 0, 0, 0, 0]);
    expect(await codes({ 'DTMF-security': 'DTMF', digit: '#' })).toEqual([11, 11, 11, 11, 11]);
    const random = await codes({ 'DTMF-security': 'random' });
    expect(new Set(random).size).toBe(1); // one replacement for the whole event
    expect(random[0]).not.toBe(4);
    expect(random[0]).toBeLessThanOrEqual(15);
    expect(await codes({ 'DTMF-security': 'off' })).toEqual([4, 4, 4, 4, 4]);
    expect((await d.ng.request({ command: 'block DTMF', 'call-id': c.callId, 'DTMF-security': 'DTMF' }))['error-reason']).toMatch(/needs a `digit`/);
    expect((await control(c))['replaced DTMF packets']).toBe(15);
    await deleteCall(d, c.callId);
  });

  it('DTMF-security silence and tone put one frame of audio in the sender\'s codec in place of each event packet', async () => {
    const c = await setup('dtmf-silence');
    // A's last audio packet was 160 samples long
    await d.ng.request({ command: 'block DTMF', 'call-id': c.callId, 'DTMF-security': 'silence' });
    sendEvent(c, 2, 40, 8000);
    const got = await c.b.waitFor(5);
    expect(got.map((r) => [r.data[1]! & 0x7f, r.data.readUInt16BE(2), r.data.readUInt32BE(4), r.data.readUInt32BE(8), r.data.length])).toEqual([
      [0, 40, 8000, 0xa1, 172], [0, 41, 8160, 0xa1, 172], [0, 42, 8320, 0xa1, 172], [0, 43, 8320, 0xa1, 172], [0, 44, 8320, 0xa1, 172],
    ]);
    for (const r of got) expect(r.data.subarray(12).equals(Buffer.alloc(160, 0xff))).toBe(true);

    c.b.clear();
    await d.ng.request({ command: 'block DTMF', 'call-id': c.callId, 'DTMF-security': 'tone', frequencies: '1000,2000' });
    sendEvent(c, 2, 50, 16000);
    sendEvent(c, 3, 55, 17600);
    const tones = await c.b.waitFor(10);
    expect(tones.map((r) => r.data[1]! & 0x7f)).toEqual(Array(10).fill(0));
    // the first event's frames carry a 1000 Hz sine, the second's 2000 Hz (frequencies in turn)
    const peak = (r: { data: Buffer }, f: number): number => {
      const s = decodeUlaw(r.data.subarray(12));
      let re = 0;
      let im = 0;
      for (let i = 0; i < s.length; i++) {
        re += s[i]! * Math.cos((2 * Math.PI * f * i) / 8000);
        im += s[i]! * Math.sin((2 * Math.PI * f * i) / 8000);
      }
      return Math.hypot(re, im);
    };
    expect(peak(tones[0]!, 1000)).toBeGreaterThan(10 * peak(tones[0]!, 2000));
    expect(peak(tones[5]!, 2000)).toBeGreaterThan(10 * peak(tones[5]!, 1000));
    expect(detectTone(decodeUlaw(tones[0]!.data.subarray(12)), 8000)).toBeNull();
    await deleteCall(d, c.callId);
  });

  it('with detect DTMF the mode hides in-band digits too (zero: the tone of digit 0 in place of the real one)', async () => {
    const c = await setup('dtmf-inband-mode', { flags: ['detect-DTMF'] });
    await d.ng.request({ command: 'block DTMF', 'call-id': c.callId, 'DTMF-security': 'zero' });
    for (let f = 0; f < 3; f++) c.a.send(rtpPacket(60 + f, { ssrc: 0xa1, pt: 0, ts: 160 * f, payload: tonePcmu(6, f) }), c.toRelayA);
    c.a.send(rtpPacket(63, { ssrc: 0xa1, pt: 0, ts: 480, payload: Buffer.alloc(160, 0xff) }), c.toRelayA);
    const got = await c.b.waitFor(4);
    expect(got.slice(0, 3).map((r) => detectTone(decodeUlaw(r.data.subarray(12)), 8000))).toEqual([0, 0, 0]);
    expect(got[3]!.data.subarray(12).equals(Buffer.alloc(160, 0xff))).toBe(true);
    expect(got.map((r) => r.data.readUInt16BE(2))).toEqual([60, 61, 62, 63]);
    await deleteCall(d, c.callId);
  });

  it('a trigger switches to DTMF-security-trigger, and trigger-end back to DTMF-security-trigger-end', async () => {
    const c = await setup('dtmf-trigger');
    expect((await d.ng.request({
      command: 'block DTMF', 'call-id': c.callId, 'from-tag': 'sa', flags: ['directional'],
      trigger: '##', 'trigger-end': '*', 'DTMF-security-trigger': 'drop', 'DTMF-security-trigger-end': 'off',
    })).result).toBe('ok');
    let seq = 70;
    const digit = async (event: number): Promise<number> => {
      c.b.clear();
      seq = sendEvent(c, event, seq, 160 * seq, 2);
      await c.b.settle(120);
      return c.b.received.length;
    };
    expect(await digit(1)).toBe(4); // before the trigger: passes
    expect(await digit(11)).toBe(4);
    // the second '#' completes the trigger at its end packet: the rest of it is dropped
    expect(await digit(11)).toBe(1);
    expect(await digit(5)).toBe(0);
    expect(await digit(10)).toBe(3); // '*' ends it at its end packet
    expect(await digit(5)).toBe(4);
    const ctl = await control(c);
    expect(ctl['DTMF trigger switches']).toBe(2);
    expect(ctl['DTMF-security']).toBe('off');

    // trigger-end-digits: two digits after the trigger, then back
    await d.ng.request({ command: 'block DTMF', 'call-id': c.callId, 'from-tag': 'sa', flags: ['directional'], trigger: '9', 'trigger-end-digits': 2 });
    expect(await digit(9)).toBe(1);
    expect(await digit(1)).toBe(0);
    expect(await digit(2)).toBe(3);
    expect(await digit(3)).toBe(4);
    expect((await d.ng.request({ command: 'block DTMF', 'call-id': c.callId, trigger: 'x1' }))['error-reason']).toMatch(/"trigger" must be DTMF digits/);
    await deleteCall(d, c.callId);
  });

  it('DTMF-delay replaces events by silence and reproduces them later in place of audio, timestamps moved by the delay', async () => {
    const c = await setup('dtmf-delay', { 'DTMF-delay': 200 });
    let seq = 100;
    let ts = 16000;
    const audio = (): void => {
      c.a.send(rtpPacket(seq++, { ssrc: 0xa1, pt: 0, ts, payload: Buffer.alloc(160, 0x55) }), c.toRelayA);
      ts += 160;
    };
    audio();
    // one event of 2 frames + 2 more end packets, all at the event's start timestamp
    const evTs = ts;
    for (let i = 0; i < 4; i++) c.a.send(rtpPacket(seq++, { ssrc: 0xa1, pt: 101, ts: evTs, marker: i === 0, payload: te(8, i >= 1, Math.min(2, i + 1) * 160) }), c.toRelayA);
    ts += 320;
    const now = await c.b.waitFor(5);
    expect(now.map((r) => r.data[1]! & 0x7f)).toEqual([0, 0, 0, 0, 0]);
    expect(now.slice(1).every((r) => r.data.subarray(12).equals(Buffer.alloc(160, 0xff)))).toBe(true);
    await new Promise((r) => setTimeout(r, 250));
    c.b.clear();
    for (let i = 0; i < 6; i++) audio();
    const later = await c.b.waitFor(6);
    const shift = 200 * 8;
    expect(later.map((r) => [r.data[1]! & 0x7f, r.data.readUInt16BE(2), r.data.readUInt32BE(4)])).toEqual([
      [101, 105, evTs + shift], [101, 106, evTs + shift], [101, 107, evTs + shift], [101, 108, evTs + shift], [0, 109, ts - 320], [0, 110, ts - 160],
    ]);
    expect(later.slice(0, 4).map((r) => r.data[12])).toEqual([8, 8, 8, 8]);
    expect((await control(c))['delayed DTMF packets']).toBe(4);
    await deleteCall(d, c.callId);
  });
});
