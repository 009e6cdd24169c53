/**
 * The legacy rtpproxy protocol on -u, driven the way Kamailio's `rtpproxy` module drives it:
 * version checks, U for the caller's stream, L for the callee's, RTP both ways, Q, I, D;
 * retransmits answered from the cookie cache; errors as E8.
 */
import dgram from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freeUdpPort, startDaemon, type DaemonHandle } from '../helpers/daemon.js';
import { expectNoLeaks } from '../helpers/leaks.js';
import { uniqueCallId } from '../helpers/media-call.js';
import { RtpPeer, rtpPacket } from '../helpers/rtp-peer.js';

let d: DaemonHandle;
let udpPort: number;
let sock: dgram.Socket;
const peers: RtpPeer[] = [];
let seq = 0;

/** Sends one command line and resolves with the reply line (null after 1 s). */
function rtpp(line: string, cookie = `k${++seq}`): Promise<string | null> {
  return new Promise((resolve) => {
    const onMsg = (m: Buffer) => {
      if (!m.toString().startsWith(`${cookie} `)) return;
      clearTimeout(t);
      sock.off('message', onMsg);
      resolve(m.toString());
    };
    const t = setTimeout(() => {
      sock.off('message', onMsg);
      resolve(null);
    }, 1000);
    sock.on('message', onMsg);
    sock.send(`${cookie} ${line}`, udpPort, '127.0.0.1');
  });
}

beforeAll(async () => {
  udpPort = await freeUdpPort();
  d = await startDaemon(['-u', `127.0.0.1:${udpPort}`]);
  sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  for (let i = 0; i < 4; i++) peers.push(await RtpPeer.open());
});

afterAll(async () => {
  for (const p of peers) p.close();
  sock.close();
  await expectNoLeaks(d);
});

describe('legacy UDP control (rtpproxy protocol)', () => {
  it('answers version and capability checks as rtpengine does', async () => {
    expect(await rtpp('V', 'v1')).toBe('v1 20040107\n');
    expect(await rtpp('VF 20050322', 'v2')).toBe('v2 1\n');
    expect(await rtpp('VF 20990101', 'v3')).toBe('v3 0\n');
  });

  it('drives a call with RTP flowing: U, L, Q, retransmits, I, D', async () => {
    const [a, b] = peers as [RtpPeer, RtpPeer];
    const callId = uniqueCallId('rtpp');
    const u = await rtpp(`Uc0,8 ${callId} 127.0.0.1 ${a.port} fromtag;1`, 'u1');
    const um = /^u1 (\d+) 127\.0\.0\.1 4\n$/.exec(u ?? '');
    expect(um, `U reply: ${u}`).not.toBeNull();
    const portForB = Number(um![1]);
    // Kamailio retransmits when a reply is lost: same cookie, same reply, no second offer
    expect(await rtpp(`Uc0,8 ${callId} 127.0.0.1 ${a.port} fromtag;1`, 'u1')).toBe(u);

    const l = await rtpp(`L ${callId} 127.0.0.1 ${b.port} fromtag;1 totag;1`, 'l1');
    const lm = /^l1 (\d+) 127\.0\.0\.1 4\n$/.exec(l ?? '');
    expect(lm, `L reply: ${l}`).not.toBeNull();
    const portForA = Number(lm![1]);
    expect(portForA).not.toBe(portForB);

    for (let i = 0; i < 3; i++) a.send(rtpPacket(i), portForA);
    for (let i = 0; i < 2; i++) b.send(rtpPacket(50 + i), portForB);
    expect((await b.waitFor(3)).length).toBe(3);
    expect((await a.waitFor(2)).length).toBe(2);
    expect(b.received[0]!.port).toBe(portForB); // B hears A from the port B sends to

    const q = await rtpp(`Q ${callId} fromtag totag`);
    expect(q).toMatch(/^k\d+ \d+ 3 0 2 0\n$/);
    // the same call is visible to ng
    const ngq = await d.ng.request({ command: 'query', 'call-id': callId });
    expect(ngq.totals.RTP.packets).toBe(5);

    expect(await rtpp('I')).toMatch(/^k\d+ sessions created: \d+\nactive sessions: 1\nactive streams: 2\n$/);
    expect(await rtpp(`D ${callId} fromtag totag`, 'd1')).toBe('d1 0\n');
    expect(await rtpp(`D ${callId} fromtag totag`, 'd1')).toBe('d1 0\n'); // retransmit: cached
    expect(await rtpp(`D ${callId} fromtag totag`, 'd2')).toBe('d2 E8\n');
    expect((await d.ng.request({ command: 'list' })).calls).not.toContain(callId);
  });

  it('a second media stream gets its own ports and carries media', async () => {
    const [, , c, e] = peers as [RtpPeer, RtpPeer, RtpPeer, RtpPeer];
    const c2 = await RtpPeer.open();
    const e2 = await RtpPeer.open();
    try {
      const callId = uniqueCallId('rtpp2');
      const port = (reply: string | null) => Number(/^\S+ (\d+) /.exec(reply ?? '')?.[1]);
      const u1 = port(await rtpp(`U ${callId} 127.0.0.1 ${c.port} ft;1`));
      const u2 = port(await rtpp(`U ${callId} 127.0.0.1 ${c2.port} ft;2`));
      const l1 = port(await rtpp(`L ${callId} 127.0.0.1 ${e.port} ft;1 tt;1`));
      const l2 = port(await rtpp(`L ${callId} 127.0.0.1 ${e2.port} ft;2 tt;2`));
      for (const p of [u1, u2, l1, l2]) expect(p).toBeGreaterThan(0);
      expect(new Set([u1, u2, l1, l2]).size).toBe(4);
      const ngq = await d.ng.request({ command: 'query', 'call-id': callId });
      expect(ngq.tags.ft.medias).toHaveLength(2);
      expect(ngq.tags.tt.medias).toHaveLength(2);
      e2.send(rtpPacket(7), u2);
      c2.send(rtpPacket(8), l2);
      expect((await c2.waitFor(1)).length).toBe(1);
      expect((await e2.waitFor(1)).length).toBe(1);
      expect(c.received.length + e.received.length).toBe(0);
      expect(await rtpp(`D ${callId} ft`)).toMatch(/^k\d+ 0\n$/);
    } finally {
      c2.close();
      e2.close();
    }
  });

  it('unknown calls, malformed lines and unknown commands', async () => {
    expect(await rtpp('L nosuchcall 127.0.0.1 4000 a;1 b;1', 'x1')).toBe('x1 0 0.0.0.0\n');
    expect(await rtpp('Q nosuchcall a b', 'x2')).toBe('x2 E8\n');
    expect(await rtpp('U call-without-address', 'x3')).toBe('x3 E8\n');
    expect(await rtpp('X whatever', 'x4')).toBe('x4 E8\n');
    expect(await rtpp('U c 999.1.1.1 4000 a;1', 'x5')).toBe('x5 E8\n');
    expect((await d.ng.request({ command: 'ping' })).result).toBe('pong');
  });
});
