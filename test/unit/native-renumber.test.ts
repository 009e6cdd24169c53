/**
 * The addon's per-destination payload-type map (ABI 2), against real UDP on 127.0.0.1
 * (ephemeral ports): a renumbered copy for one destination, the unchanged packet for another,
 * the marker bit kept, RTCP untouched, bad maps refused.
 */
import dgram from 'node:dgram';
import { afterEach, expect, test } from 'vitest';
import { loadFastPath, type NativeFastPathEngine } from '../../daemon/kernel/native-fast-path.js';
import type { MediaSocket } from '../../daemon/net/media-socket.js';
import { rtpPacket } from '../../support/rtp.js';

const LO = '127.0.0.1';
const probe = await loadFastPath({ threads: 1 });
const available = !('unavailable' in probe);
if (!('unavailable' in probe)) await probe.close();

const open: Array<{ close(): unknown }> = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

async function peer(): Promise<{ sock: dgram.Socket; got: Buffer[]; port: number }> {
  const sock = dgram.createSocket('udp4');
  const got: Buffer[] = [];
  sock.on('message', (d) => got.push(d));
  await new Promise<void>((r) => sock.bind(0, LO, r));
  open.push(sock);
  return { sock, got, port: sock.address().port };
}

function rtp(seq: number, pt: number, marker = false): Buffer {
  return rtpPacket(seq, { pt, marker, ssrc: 0xabcdef, payload: Buffer.alloc(28, seq & 0xff) });
}

async function until(cond: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
}

test.skipIf(!available)('renumbers per destination, keeps the marker, leaves other destinations and RTCP alone', async () => {
  const engine = (await loadFastPath({ threads: 1 })) as NativeFastPathEngine;
  open.push(engine);
  const noop = () => undefined;
  const relayIn: MediaSocket = await engine.sockets.open(LO, 0, 4, noop);
  const viaB: MediaSocket = await engine.sockets.open(LO, 0, 4, noop);
  const viaC: MediaSocket = await engine.sockets.open(LO, 0, 4, noop);
  const a = await peer();
  const b = await peer();
  const c = await peer();
  engine.setEntry(relayIn, {
    source: { address: LO, port: a.port },
    rtp: [
      { via: viaB, address: LO, port: b.port, payloadTypeMap: [[101, 96], [96, 97], [0, 0]] },
      { via: viaC, address: LO, port: c.port },
    ],
    rtcp: [{ via: viaB, address: LO, port: b.port }],
    isRtcpSocket: false,
    rtcpMux: true,
    payloadTypes: [],
  });
  const sent = [rtp(1, 101, true), rtp(2, 96), rtp(3, 0), rtp(4, 8)];
  const rtcp = Buffer.from([0x81, 201, 0, 1, 0, 0, 0, 1]);
  for (const p of sent) a.sock.send(p, relayIn.localPort, LO);
  a.sock.send(rtcp, relayIn.localPort, LO);
  await until(() => b.got.length >= 5 && c.got.length >= 4);
  expect(b.got.map((p) => p[1])).toEqual([0x80 | 96, 97, 0, 8, 201]);
  b.got.slice(0, 4).forEach((p, i) => expect(p.subarray(2).equals(sent[i]!.subarray(2))).toBe(true));
  expect(b.got[4]!.equals(rtcp)).toBe(true);
  c.got.forEach((p, i) => expect(p.equals(sent[i]!)).toBe(true));
  expect(engine.entryStats(relayIn).packets).toBe(5);
  expect(engine.status().punted).toBe(0);

  expect(() => engine.setEntry(relayIn, {
    source: { address: LO, port: a.port }, rtp: [{ via: viaB, address: LO, port: b.port, payloadTypeMap: [[101, 200]] }],
    rtcp: [], isRtcpSocket: false, rtcpMux: false, payloadTypes: [],
  })).toThrow(/payload type out of range/);
});
