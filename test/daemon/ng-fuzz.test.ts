/**
 * Bad input never crashes the daemon nor touches other calls: thousands of mutated ng
 * messages (flipped bytes, truncations, wrong types, garbage SDP) from a seeded generator, while
 * an established call keeps relaying. Afterwards the daemon answers, the call still works, and
 * once everything is deleted nothing is left behind.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bencodeEncode, type Encodable } from '../../daemon/control/bencode.js';
import { startDaemon, type DaemonHandle } from '../helpers/daemon.js';
import { expectNoLeaks } from '../helpers/leaks.js';
import { offerAnswer, sdpFor, uniqueCallId } from '../helpers/media-call.js';
import { RtpPeer, rtpPacket } from '../helpers/rtp-peer.js';

/** mulberry32: a small seeded PRNG so a failure can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SEED = 20261122;

describe('ng fuzz', () => {
  let d: DaemonHandle;
  let a: RtpPeer;
  let b: RtpPeer;

  beforeAll(async () => {
    d = await startDaemon();
    a = await RtpPeer.open();
    b = await RtpPeer.open();
  });

  afterAll(async () => {
    a.close();
    b.close();
    await expectNoLeaks(d);
  });

  it(`survives 3,000 mutated messages (seed ${SEED}) and keeps an unrelated call working`, async () => {
    const keep = uniqueCallId('keep');
    const r = await offerAnswer(d, { callId: keep, fromTag: 'ka', toTag: 'kb', a, b });
    const rand = prng(SEED);
    const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
    const weird: Encodable[] = [0, -1, 99999999, '', 'x'.repeat(3000), [], ['a', ['b']], { k: 'v' }, Buffer.from([0, 255, 13, 10])];
    const keys = ['command', 'call-id', 'from-tag', 'to-tag', 'sdp', 'flags', 'replace', 'rtcp-mux', 'direction', 'received-from',
      'codec', 'ICE', 'address-family', 'media-address', 'via-branch', 'label', 'delete-delay', 'limit', 'rtpp-flags', 'transport-protocol'];
    const commands = ['offer', 'answer', 'delete', 'query', 'list', 'ping', 'statistics', 'play media', 'nonsense', ''];
    const sdpLines = sdpFor({ address: '127.0.0.1', port: 5000 }).split('\r\n');
    const mutateSdp = (): string => {
      const lines = [...sdpLines];
      const n = 1 + Math.floor(rand() * 4);
      for (let i = 0; i < n; i++) {
        const at = Math.floor(rand() * lines.length);
        switch (Math.floor(rand() * 5)) {
          case 0: lines.splice(at, 1); break;
          case 1: lines.splice(at, 0, pick(['m=audio 0 RTP/AVP', 'c=IN IP4 999.1.1.1', 'a=rtcp:abc', 'm=video 70000 RTP/AVP 96', 'garbage', 'c=IN IP6 ::1', 'm=audio 9 UDP/TLS/RTP/SAVPF 111', 'a=rtpmap:111 opus/48000/2', 'a=rtcp-mux', 'm=image 6000 udptl t38'])); break;
          case 2: lines[at] = (lines[at] ?? '').slice(0, Math.floor(rand() * 10)); break;
          case 3: lines.push(...lines.slice(4)); break;
          default: lines[at] = `${lines[at] ?? ''}\u0000\u00ff`;
        }
      }
      return lines.join(pick(['\r\n', '\n', '\r']));
    };
    const callIds = Array.from({ length: 30 }, (_, i) => `fuzz-${i}`);
    let replies = 0;
    for (let i = 0; i < 3000; i++) {
      const msg: { [k: string]: Encodable } = {};
      msg.command = pick(commands);
      if (rand() < 0.9) msg['call-id'] = pick(callIds);
      if (rand() < 0.9) msg['from-tag'] = pick(['a', 'b', 'c', '']);
      if (rand() < 0.5) msg['to-tag'] = pick(['a', 'b', 'c']);
      if (rand() < 0.8) msg.sdp = rand() < 0.3 ? pick(weird) : mutateSdp();
      for (let k = Math.floor(rand() * 4); k > 0; k--) msg[pick(keys)] = pick(weird);
      if (rand() < 0.3) msg.flags = [pick(['trust-address', 'strict-source', 'codec-strip-all', 'fatal', 'asymmetric', '']), pick(weird)] as Encodable;
      let body = bencodeEncode(msg);
      const shape = rand();
      if (shape < 0.15) body = body.subarray(0, Math.floor(rand() * body.length));
      else if (shape < 0.3) {
        body = Buffer.from(body);
        for (let k = 0; k < 3; k++) body[Math.floor(rand() * body.length)] = Math.floor(rand() * 256);
      } else if (shape < 0.35) body = Buffer.from(JSON.stringify({ command: pick(commands), 'call-id': pick(callIds), sdp: [1, { x: null }] }));
      const cookie = rand() < 0.02 ? '' : `fz${i}`;
      const datagram = Buffer.concat([Buffer.from(cookie ? `${cookie} ` : ''), body]);
      const reply = await d.ng.raw(datagram, { timeoutMs: rand() < 0.05 ? 200 : 30 });
      if (reply) replies++;
      if (i % 500 === 0) {
        // the unrelated call keeps relaying throughout
        a.send(rtpPacket(i), r.aRtp);
        expect((await b.waitFor(b.received.length + 1)).at(-1)?.data.readUInt16BE(2)).toBe(i & 0xffff);
      }
    }
    expect(replies).toBeGreaterThan(1000);
    expect((await d.ng.request({ command: 'ping' })).result).toBe('pong');
    // the daemon logged no internal error: every failure was a clean error reply
    expect(d.stderr()).not.toMatch(/Internal error handling command|Uncaught exception|Unhandled rejection/);
    b.send(rtpPacket(1), r.bRtp);
    expect((await a.waitFor(1)).length).toBe(1);
    // fuzzed messages may have created calls under odd call-ids too: delete whatever exists
    const all = (await d.ng.request({ command: 'list', limit: 1000 })).calls as string[];
    expect(all).toContain(keep);
    for (const id of all) await d.ng.request({ command: 'delete', 'call-id': id, 'delete-delay': 0 });
    expect((await d.ng.request({ command: 'list' })).calls).toEqual([]);
  }, 120_000);
});
