/**
 * The native fast path against real UDP on 127.0.0.1 (and ::1 when the host has it):
 * node:dgram sockets are the call parties, the engine's own sockets are the relay.
 */
import { spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, test } from 'vitest';
import { ADDON_FILE, NATIVE_ABI_VERSION } from '../../daemon/kernel/native-addon.js';
import { loadFastPath, type NativeFastPathEngine } from '../../daemon/kernel/native-fast-path.js';
import type { ForwardingEntry } from '../../daemon/kernel/fast-path.js';
import type { Endpoint as PacketSource } from '../../daemon/net/endpoint.js';
import { PortInUseError, type MediaSocket } from '../../daemon/net/media-socket.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const ADDON = join(ROOT, 'kernel', 'build', 'Release', ADDON_FILE);
const LO = '127.0.0.1';

const probe = await loadFastPath({ threads: 1 });
const available = !('unavailable' in probe);
if (!('unavailable' in probe)) await probe.close();

// --------------------------------------------------------------------------------------------
// helpers

interface Received {
  data: Buffer;
  from: PacketSource;
}

class Peer {
  readonly got: Received[] = [];
  private constructor(readonly sock: dgram.Socket, readonly family: 4 | 6) {
    sock.on('message', (data, r) => this.got.push({ data, from: { address: r.address, port: r.port, family } }));
  }
  static async open(family: 4 | 6 = 4): Promise<Peer> {
    const sock = dgram.createSocket({ type: family === 6 ? 'udp6' : 'udp4', ipv6Only: family === 6 });
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(0, family === 6 ? '::1' : LO, () => {
        sock.off('error', reject);
        resolve();
      });
    });
    return new Peer(sock, family);
  }
  get address(): string {
    return this.sock.address().address;
  }
  get port(): number {
    return this.sock.address().port;
  }
  get source(): { address: string; port: number } {
    return { address: this.address, port: this.port };
  }
  send(data: Buffer, to: MediaSocket): Promise<void> {
    return new Promise((resolve, reject) =>
      this.sock.send(data, to.localPort, to.localAddress, (err) => (err ? reject(err) : resolve())),
    );
  }
  close(): void {
    this.sock.close();
  }
}

function rtp(seq: number, pt = 0, payload = 20): Buffer {
  const b = Buffer.alloc(12 + payload);
  b[0] = 0x80;
  b[1] = pt & 0x7f;
  b.writeUInt16BE(seq & 0xffff, 2);
  b.writeUInt32BE(seq * 160, 4);
  b.writeUInt32BE(0x1234abcd, 8);
  if (payload >= 4) b.writeUInt32BE(seq, 12);
  for (let i = 16; i < b.length; i++) b[i] = (seq + i) & 0xff;
  return b;
}

function rtcp(pt = 200, len = 28): Buffer {
  const b = Buffer.alloc(len);
  b[0] = 0x80;
  b[1] = pt;
  b.writeUInt16BE(len / 4 - 1, 2);
  b.writeUInt32BE(0x1234abcd, 4);
  return b;
}

/** The 32-bit sequence marker that rtp() writes at offset 12. */
const seqOf = (b: Buffer): number => b.readUInt32BE(12);

async function until(pred: () => boolean, ms = 2000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (pred()) return true;
    await new Promise((r) => setTimeout(r, 5));
  }
  return pred();
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function entry(source: { address: string; port: number }, over: Partial<ForwardingEntry> = {}): ForwardingEntry {
  return { source, rtp: [], rtcp: [], isRtcpSocket: false, rtcpMux: false, payloadTypes: [], ...over };
}

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function engine(threads = 1, more: { puntQueuePackets?: number } = {}): Promise<NativeFastPathEngine> {
  const e = await loadFastPath({ threads, ...more });
  if ('unavailable' in e) throw new Error(e.unavailable);
  cleanups.push(() => e.close());
  return e;
}

async function peer(family: 4 | 6 = 4): Promise<Peer> {
  const p = await Peer.open(family);
  cleanups.push(() => p.close());
  return p;
}

type Punted = Received & { on: string };

/** Opens an engine socket on 127.0.0.1 whose punted packets land in `punts`. */
async function sock(e: NativeFastPathEngine, punts: Punted[], name: string, address = LO, family: 4 | 6 = 4): Promise<MediaSocket> {
  return e.sockets.open(address, 0, family, (data, from) => punts.push({ data, from, on: name }));
}

/** Relay: A <-> a | b <-> B (entries both ways). */
async function relay(threads = 1) {
  const e = await engine(threads);
  const punts: Punted[] = [];
  const a = await sock(e, punts, 'a');
  const b = await sock(e, punts, 'b');
  const A = await peer();
  const B = await peer();
  e.setEntry(a, entry(A.source, { rtp: [{ via: b, address: LO, port: B.port }] }));
  e.setEntry(b, entry(B.source, { rtp: [{ via: a, address: LO, port: A.port }] }));
  return { e, punts, a, b, A, B };
}

// --------------------------------------------------------------------------------------------

test('the addon is built and loads', () => {
  expect(existsSync(ADDON), `${ADDON} missing: run npm run build:native`).toBe(true);
  expect('unavailable' in probe ? probe.unavailable : '').toBe('');
});

test('a bad addon path or ABI is reported as unavailable, not thrown', async () => {
  const r = await loadFastPath({ threads: 1, addonPath: join(ROOT, 'kernel', 'nonexistent.node') });
  expect('unavailable' in r && r.unavailable).toMatch(/cannot load/);
  const bad = await loadFastPath({ threads: 0 });
  expect('unavailable' in bad && bad.unavailable).toMatch(/threads/);
  expect(NATIVE_ABI_VERSION).toBeGreaterThan(0);
});

describe.runIf(available)('native fast path', () => {
  test('open / close sockets, EADDRINUSE -> PortInUseError, send from JS', async () => {
    const e = await engine();
    const punts: Punted[] = [];
    const s = await sock(e, punts, 's');
    expect(s.localAddress).toBe(LO);
    expect(s.localPort).toBeGreaterThan(0);
    expect(s.family).toBe(4);
    expect(e.status()).toMatchObject({ available: true, enabled: true, reason: '', threads: 1, sockets: 1, entries: 0 });

    // taken by ourselves, and by someone else (a dgram socket)
    await expect(e.sockets.open(LO, s.localPort, 4, () => undefined)).rejects.toBeInstanceOf(PortInUseError);
    const other = await peer();
    await expect(e.sockets.open(LO, other.port, 4, () => undefined)).rejects.toBeInstanceOf(PortInUseError);
    await expect(e.sockets.open('not-an-ip', 0, 4, () => undefined)).rejects.toThrow(/invalid/);

    const P = await peer();
    expect(s.send(Buffer.from('from-js'), P.port, LO)).toBe(true);
    expect(await until(() => P.got.length === 1)).toBe(true);
    expect(P.got[0]!.data.toString()).toBe('from-js');
    expect(P.got[0]!.from.port).toBe(s.localPort);
    expect(s.send(Buffer.from('x'), P.port, 'garbage')).toBe(false); // counted, never thrown
    s.setTos(0xb8);

    expect(e.nativeLive()).toEqual({ sockets: 1, entries: 0, srtpContexts: 0 });
    const port = s.localPort;
    s.close();
    s.close(); // idempotent
    expect(s.send(Buffer.from('x'), P.port, LO)).toBe(false);
    expect(e.nativeLive()).toEqual({ sockets: 0, entries: 0, srtpContexts: 0 });
    // the port is free again (SO_REUSEADDR off, but nothing holds it)
    const again = await e.sockets.open(LO, port, 4, () => undefined);
    expect(again.localPort).toBe(port);
    again.close();
  });

  test('openPair: RTP/RTCP on port and port + 1 in one call; a taken RTCP port leaves neither open', async () => {
    const e = await engine();
    const punts: Punted[] = [];
    const pairOf = (port: number) =>
      e.sockets.openPair!(LO, port, 4, (data, from) => punts.push({ data, from, on: 'rtp' }), (data, from) => punts.push({ data, from, on: 'rtcp' }));
    await expect(pairOf(0)).rejects.toBeInstanceOf(RangeError);
    await expect(pairOf(65535)).rejects.toBeInstanceOf(RangeError);

    // a free pair: an ephemeral port that was just free, and the one above it
    let pair: [MediaSocket, MediaSocket] | undefined;
    for (let i = 0; i < 20 && !pair; i++) {
      const probe = await e.sockets.open(LO, 0, 4, () => undefined);
      const port = probe.localPort;
      probe.close();
      if (port < 65535) pair = await pairOf(port).catch(() => undefined);
    }
    if (!pair) throw new Error('no free port pair found');
    const [rtp, rtcp] = pair;
    expect(rtcp.localPort).toBe(rtp.localPort + 1);
    expect([rtp.localAddress, rtp.family, rtcp.localAddress, rtcp.family]).toEqual([LO, 4, LO, 4]);
    expect(e.nativeLive().sockets).toBe(2);
    const P = await peer();
    await P.send(Buffer.from('to-rtp'), rtp);
    await P.send(Buffer.from('to-rtcp'), rtcp);
    expect(await until(() => punts.length === 2)).toBe(true);
    expect(punts.map((p) => `${p.on}:${p.data.toString()}:${p.from.port}`).sort()).toEqual([`rtcp:to-rtcp:${P.port}`, `rtp:to-rtp:${P.port}`]);
    rtp.close();
    rtcp.close();
    expect(e.nativeLive().sockets).toBe(0);

    // the RTCP port taken (by a socket of ours): PortInUseError names it, the RTP port is free again
    let checked = false;
    for (let i = 0; i < 20 && !checked; i++) {
      const held = await e.sockets.open(LO, 0, 4, () => undefined);
      const below = held.localPort - 1;
      const probe = await e.sockets.open(LO, below, 4, () => undefined).catch(() => undefined);
      if (probe) {
        probe.close();
        const err = await pairOf(below).then(() => null, (x: unknown) => x);
        expect(err).toBeInstanceOf(PortInUseError);
        expect((err as Error).message).toContain(`${LO}:${held.localPort} `);
        expect(e.nativeLive().sockets).toBe(1);
        const again = await e.sockets.open(LO, below, 4, () => undefined);
        again.close();
        checked = true;
      }
      held.close();
    }
    expect(checked).toBe(true);
    expect(e.nativeLive()).toEqual({ sockets: 0, entries: 0, srtpContexts: 0 });
  });

  test('relay A <-> B byte-exact both ways, stats counted, nothing punted', async () => {
    const { e, punts, a, b, A, B } = await relay(2);
    const toB = [rtp(1), rtp(2, 8, 160), rtp(3, 0, 0)];
    const toA = [rtp(100, 96, 60), rtp(101, 96, 1)];
    for (const p of toB) await A.send(p, a);
    for (const p of toA) await B.send(p, b);
    expect(await until(() => B.got.length === 3 && A.got.length === 2)).toBe(true);
    expect(B.got.map((r) => r.data)).toEqual(toB);
    expect(A.got.map((r) => r.data)).toEqual(toA);
    // they come from the relay's other socket
    expect(B.got.every((r) => r.from.port === b.localPort)).toBe(true);
    expect(A.got.every((r) => r.from.port === a.localPort)).toBe(true);

    const sa = e.entryStats(a);
    expect(sa).toMatchObject({ packets: 3, bytes: toB.reduce((n, p) => n + p.length, 0), errors: 0 });
    expect(Math.abs(sa.lastPacketMs - Date.now())).toBeLessThan(5000);
    expect(e.entryStats(b)).toMatchObject({ packets: 2, bytes: toA.reduce((n, p) => n + p.length, 0), errors: 0 });
    const st = e.status();
    expect(st).toMatchObject({ threads: 2, entries: 2, sockets: 2, packets: 5, punted: 0, sent: 5, dropped: 0 });
    expect(punts).toEqual([]);
    expect(e.nativeLive()).toEqual({ sockets: 2, entries: 2, srtpContexts: 0 });

    // stats survive an entry replacement (cumulative for the socket's lifetime)
    e.setEntry(a, entry(A.source, { rtp: [{ via: b, address: LO, port: B.port }] }));
    await A.send(rtp(4), a);
    expect(await until(() => B.got.length === 4)).toBe(true);
    expect(e.entryStats(a).packets).toBe(4);
    expect(e.nativeLive()).toEqual({ sockets: 2, entries: 2, srtpContexts: 0 });
  });

  test('IPv6 relay on ::1', async (ctx) => {
    let A6: Peer;
    try {
      A6 = await peer(6);
    } catch {
      ctx.skip(); // no ::1 on this host
      return;
    }
    const B6 = await peer(6);
    const e = await engine();
    const punts: Punted[] = [];
    const a = await sock(e, punts, 'a', '::1', 6);
    const b = await sock(e, punts, 'b', '::1', 6);
    expect(a.family).toBe(6);
    a.setTos(0x2e << 2);
    e.setEntry(a, entry(A6.source, { rtp: [{ via: b, address: '::1', port: B6.port }] }));
    await A6.send(rtp(7), a);
    expect(await until(() => B6.got.length === 1)).toBe(true);
    expect(B6.got[0]!.data).toEqual(rtp(7));
    expect(B6.got[0]!.from).toMatchObject({ address: '::1', port: b.localPort });
    await B6.send(rtp(8), b); // no entry on b: punted with a v6 source
    expect(await until(() => punts.length === 1)).toBe(true);
    expect(punts[0]!.from).toEqual({ address: '::1', port: B6.port, family: 6 });
  });

  test('unknown source and STUN/DTLS-looking packets are punted in order with the right source, not forwarded', async () => {
    const { e, punts, a, A, B } = await relay();
    const X = await peer();
    for (let i = 0; i < 50; i++) await X.send(rtp(i), a);
    const stun = Buffer.alloc(20);
    stun.writeUInt16BE(0x0001, 0); // binding request
    stun.writeUInt32BE(0x2112a442, 4);
    await A.send(stun, a);
    const dtls = Buffer.from([22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    await A.send(dtls, a);
    expect(await until(() => punts.length === 52)).toBe(true);
    expect(punts.slice(0, 50).map((p) => seqOf(p.data))).toEqual([...Array(50).keys()]);
    expect(punts.slice(0, 50).every((p) => p.on === 'a' && p.from.port === X.port && p.from.address === LO && p.from.family === 4)).toBe(true);
    expect(punts[0]!.data).toEqual(rtp(0));
    expect(punts[50]).toMatchObject({ data: stun, from: { address: LO, port: A.port, family: 4 } });
    expect(punts[51]!.data).toEqual(dtls);
    await sleep(50);
    expect(B.got).toEqual([]);
    expect(e.entryStats(a).packets).toBe(0);
    expect(e.status().punted).toBe(52);
  });

  test('payload type filter punts unlisted RTP payload types', async () => {
    const e = await engine();
    const punts: Punted[] = [];
    const a = await sock(e, punts, 'a');
    const b = await sock(e, punts, 'b');
    const A = await peer();
    const B = await peer();
    e.setEntry(a, entry(A.source, { rtp: [{ via: b, address: LO, port: B.port }], payloadTypes: [0, 8] }));
    await A.send(rtp(1, 0), a);
    await A.send(rtp(2, 101), a);
    await A.send(rtp(3, 8), a);
    expect(await until(() => B.got.length === 2 && punts.length === 1)).toBe(true);
    expect(B.got.map((r) => seqOf(r.data))).toEqual([1, 3]);
    expect(seqOf(punts[0]!.data)).toBe(2);
  });

  test('rtcp-mux demux: RTCP to the rtcp destinations, RTP to the rtp ones; isRtcpSocket', async () => {
    const e = await engine();
    const punts: Punted[] = [];
    const a = await sock(e, punts, 'a');
    const b = await sock(e, punts, 'b');
    const A = await peer();
    const R = await peer(); // RTP sink
    const C = await peer(); // RTCP sink
    e.setEntry(
      a,
      entry(A.source, {
        rtcpMux: true,
        rtp: [{ via: b, address: LO, port: R.port }],
        rtcp: [{ via: b, address: LO, port: C.port }],
      }),
    );
    await A.send(rtp(1, 96), a);
    await A.send(rtcp(200), a);
    await A.send(rtp(2, 0), a);
    await A.send(rtcp(201, 8), a);
    await A.send(rtp(3, 95), a); // byte 1 = 95: still RTP
    expect(await until(() => R.got.length === 3 && C.got.length === 2)).toBe(true);
    expect(R.got.map((r) => seqOf(r.data))).toEqual([1, 2, 3]);
    expect(C.got.map((r) => r.data)).toEqual([rtcp(200), rtcp(201, 8)]);

    // without rtcpMux, PT 200 is just RTP (marker + PT 72)
    e.setEntry(a, entry(A.source, { rtp: [{ via: b, address: LO, port: R.port }], rtcp: [{ via: b, address: LO, port: C.port }] }));
    await A.send(rtcp(200, 16), a);
    expect(await until(() => R.got.length === 4)).toBe(true);

    // an RTCP socket: everything is RTCP (and only needs 8 bytes)
    const r = await sock(e, punts, 'r');
    e.setEntry(r, entry(A.source, { isRtcpSocket: true, rtp: [{ via: b, address: LO, port: R.port }], rtcp: [{ via: b, address: LO, port: C.port }] }));
    await A.send(rtcp(200, 8), r);
    await A.send(rtcp(202, 12), r);
    expect(await until(() => C.got.length === 4)).toBe(true);
    expect(R.got.length).toBe(4);
    expect(punts).toEqual([]);
    expect(e.entryStats(a).packets).toBe(6);
    expect(e.entryStats(r).packets).toBe(2);
  });

  test('invalid packets from the source are counted as errors and dropped; empty ones dropped', async () => {
    const { e, punts, a, A, B } = await relay();
    const v1 = rtp(1);
    v1[0] = 0x40; // version 1 (64 is neither STUN 0..3 nor DTLS 20..63)
    const ver0 = rtp(3);
    ver0[0] = 0x0f; // version 0 with CSRC count 15 (15 is neither STUN nor DTLS)
    const v3 = rtp(5);
    v3[0] = 0xc0; // version 3
    const short = rtp(4).subarray(0, 11);
    const shortRtcp = Buffer.from([0x80, 200, 0, 1, 0, 0, 0]); // 7 bytes on a non-mux socket = short RTP
    await A.send(v1, a);
    await A.send(ver0, a);
    await A.send(v3, a);
    await A.send(short, a);
    await A.send(shortRtcp, a);
    await A.send(Buffer.alloc(0), a);
    await A.send(rtp(9), a); // one good one, as a barrier
    expect(await until(() => B.got.length === 1)).toBe(true);
    await sleep(30);
    expect(B.got.map((r) => seqOf(r.data))).toEqual([9]);
    expect(punts).toEqual([]);
    expect(e.entryStats(a)).toMatchObject({ packets: 1, errors: 5 });
    const st = e.status();
    expect(st.errors).toBe(5);
    expect(st.empty).toBe(1);

    // rtcp-mux: RTCP needs 8 bytes
    e.setEntry(a, entry(A.source, { rtcpMux: true, rtp: [{ via: a, address: LO, port: B.port }] }));
    await A.send(Buffer.from([0x80, 200, 0, 0, 1, 2, 3]), a);
    await A.send(rtp(10), a);
    expect(await until(() => B.got.length === 2)).toBe(true);
    expect(e.entryStats(a).errors).toBe(6);

    // an oversized datagram (bigger than the addon's buffer) is dropped and counted
    const max = st.maxPacket;
    const big = Buffer.alloc(max + 100);
    big[0] = 0x80;
    await A.send(big, a);
    await A.send(rtp(11), a);
    expect(await until(() => B.got.length === 3)).toBe(true);
    expect(e.status().oversized).toBe(1);
    expect(punts).toEqual([]);
  });

  test('re-targeting: after setEntry returns, no later packet reaches the old destination', async () => {
    const e = await engine(2);
    const punts: Punted[] = [];
    const a = await sock(e, punts, 'a');
    const b = await sock(e, punts, 'b');
    const src = await sock(e, punts, 'src'); // a synchronous sender (sendto from the JS thread)
    const B = await peer();
    const C = await peer();
    const srcAddr = { address: LO, port: src.localPort };
    e.setEntry(a, entry(srcAddr, { rtp: [{ via: b, address: LO, port: B.port }] }));

    const total = 4000;
    const chunk = 100;
    let seq = 0;
    let switchAt = -1;
    const sendChunk = () => {
      for (let i = 0; i < chunk && seq < total; i++, seq++) src.send(rtp(seq), a.localPort, LO);
    };
    for (let tick = 0; seq < total; tick++) {
      if (tick === 17) {
        // its own macrotask: every earlier send has returned, every later one starts after this
        await new Promise((r) => setImmediate(r));
        e.setEntry(a, entry(srcAddr, { rtp: [{ via: b, address: LO, port: C.port }] }));
        switchAt = seq;
      }
      sendChunk();
      await new Promise((r) => setImmediate(r));
    }
    expect(switchAt).toBe(1700);
    // wait until nothing arrives any more (the peers may drop some under this burst)
    for (let last = -1, end = Date.now() + 3000; Date.now() < end; ) {
      const n = B.got.length + C.got.length;
      if (n === last || n >= total) break;
      last = n;
      await sleep(60);
    }
    const atB = B.got.map((r) => seqOf(r.data));
    const atC = C.got.map((r) => seqOf(r.data));
    expect(atB.filter((n) => n >= switchAt)).toEqual([]);
    expect(atC.filter((n) => n >= switchAt).length).toBeGreaterThan(0);
    expect(atB.length).toBeGreaterThan(0);
    console.log(`re-target at ${switchAt}: B got ${atB.length} (max ${Math.max(...atB)}), C got ${atC.length} (min ${Math.min(...atC)})`);
    // per destination, order is preserved
    expect(atB).toEqual([...atB].sort((x, y) => x - y));
    expect(atC).toEqual([...atC].sort((x, y) => x - y));
    const st = e.status();
    expect(atB.length + atC.length).toBeLessThanOrEqual(st.sent);
    expect(e.entryStats(a).packets).toBeLessThanOrEqual(total);
  });

  test('setEntryIfIdle: refused while the socket has packets on their way up to JS, installed once JS handled them', async () => {
    const e = await engine();
    const punts: Punted[] = [];
    const a = await sock(e, punts, 'a');
    const b = await sock(e, punts, 'b');
    const A = await peer();
    const B = await peer();
    const ent = entry(A.source, { rtp: [{ via: b, address: LO, port: B.port }] });
    expect(e.setEntryIfIdle(a, ent), 'nothing out: installed').not.toBe(false);
    e.removeEntry(a);
    await A.send(rtp(1), a); // no entry: the thread hands it up to JS
    // synchronously, so the JS thread cannot handle the punt meanwhile: until the thread read it
    const end = Date.now() + 2000;
    while (e.status().received < 1 && Date.now() < end) {
      // spin
    }
    expect(e.status().received).toBe(1);
    // an entry now would forward the next packets ahead of packet 1
    expect(e.setEntryIfIdle(a, ent), 'packet 1 still on its way up').toBe(false);
    expect(e.nativeLive().entries).toBe(0);
    expect(await until(() => punts.length === 1)).toBe(true);
    expect(e.setEntryIfIdle(a, ent), 'JS handled it').not.toBe(false);
    expect(e.nativeLive().entries).toBe(1);
    await A.send(rtp(2), a);
    expect(await until(() => B.got.length === 1)).toBe(true);
    expect(seqOf(B.got[0]!.data)).toBe(2);
    expect(punts).toHaveLength(1);
    // a dropped batch (queue full) is no longer out either: see the punt flood test
  });

  test('removeEntry punts to JS again; fan-out to several destinations', async () => {
    const e = await engine();
    const punts: Punted[] = [];
    const a = await sock(e, punts, 'a');
    const b = await sock(e, punts, 'b');
    const c = await sock(e, punts, 'c');
    const A = await peer();
    const [B1, B2, B3] = [await peer(), await peer(), await peer()];
    e.setEntry(
      a,
      entry(A.source, {
        rtp: [
          { via: b, address: LO, port: B1.port },
          { via: c, address: LO, port: B2.port },
          { via: b, address: LO, port: B3.port },
        ],
      }),
    );
    for (let i = 0; i < 5; i++) await A.send(rtp(i), a);
    expect(await until(() => B1.got.length === 5 && B2.got.length === 5 && B3.got.length === 5)).toBe(true);
    for (const P of [B1, B2, B3]) expect(P.got.map((r) => seqOf(r.data))).toEqual([0, 1, 2, 3, 4]);
    expect(B2.got[0]!.from.port).toBe(c.localPort);
    expect(B3.got[0]!.from.port).toBe(b.localPort);
    expect(e.entryStats(a).packets).toBe(5);
    expect(e.status().sent).toBe(15);

    // an empty list: accepted, counted, dropped (not an error)
    e.setEntry(a, entry(A.source));
    await A.send(rtp(5), a);
    expect(await until(() => e.status().noDestination === 1)).toBe(true);
    expect(e.entryStats(a)).toMatchObject({ packets: 6, errors: 0 });

    e.removeEntry(a);
    expect(e.nativeLive().entries).toBe(0);
    await A.send(rtp(6), a);
    expect(await until(() => punts.length === 1)).toBe(true);
    expect(seqOf(punts[0]!.data)).toBe(6);
    expect(punts[0]!.from.port).toBe(A.port);
    await sleep(30);
    expect(B1.got.length).toBe(5);
    e.removeEntry(a); // twice is harmless
  });

  test('closing a destination socket: entries pointing at it drop instead of crashing', async () => {
    const { e, a, b, A, B } = await relay();
    b.close();
    await A.send(rtp(1), a);
    expect(await until(() => e.status().sendErrors === 1)).toBe(true);
    expect(B.got).toEqual([]);
    expect(() => e.setEntry(a, entry(A.source, { rtp: [{ via: b, address: LO, port: B.port }] }))).toThrow(/closed/);
    expect(() => e.setEntry(b, entry(B.source))).toThrow(/closed/);
    // a's entry still references b's native object until it is replaced or removed
    expect(e.nativeLive()).toEqual({ sockets: 2, entries: 1, srtpContexts: 0 });
    e.removeEntry(a);
    expect(e.nativeLive()).toEqual({ sockets: 1, entries: 0, srtpContexts: 0 });
    a.close();
    expect(e.nativeLive()).toEqual({ sockets: 0, entries: 0, srtpContexts: 0 });
  });

  test('close(): threads joined, sockets closed, nativeLive zero, stats frozen, calls after close are safe', async () => {
    const e = await loadFastPath({ threads: 2 });
    if ('unavailable' in e) throw new Error(e.unavailable);
    const punts: Punted[] = [];
    const a = await sock(e, punts, 'a');
    const b = await sock(e, punts, 'b');
    const A = await peer();
    const B = await peer();
    e.setEntry(a, entry(A.source, { rtp: [{ via: b, address: LO, port: B.port }] }));
    e.setEntry(b, entry(B.source, { rtp: [{ via: a, address: LO, port: A.port }] }));
    await A.send(rtp(1), a);
    expect(await until(() => B.got.length === 1)).toBe(true);
    expect(e.nativeLive()).toEqual({ sockets: 2, entries: 2, srtpContexts: 0 });
    const port = a.localPort;
    await e.close();
    await e.close(); // idempotent
    expect(e.nativeLive()).toEqual({ sockets: 0, entries: 0, srtpContexts: 0 });
    expect(e.status()).toMatchObject({ enabled: false, sockets: 0, entries: 0 });
    expect(e.entryStats(a).packets).toBe(1);
    expect(a.send(Buffer.from('x'), A.port, LO)).toBe(false);
    a.close();
    e.removeEntry(b);
    expect(() => e.setEntry(a, entry(A.source))).toThrow(/closed/);
    await expect(e.sockets.open(LO, 0, 4, () => undefined)).rejects.toThrow(/closed/);
    // the port was really released
    const P = dgram.createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      P.once('error', reject);
      P.bind(port, LO, () => resolve());
    });
    P.close();
  });

  test('a process using the addon exits on its own, with and without close()', () => {
    const script = (callClose: boolean) => `
      import { createRequire } from 'node:module';
      import dgram from 'node:dgram';
      const addon = createRequire(import.meta.url)(${JSON.stringify(ADDON)});
      let punted = 0;
      const out = new Uint32Array(6);
      const e = new addon.Engine({ threads: 2, tos: -1, openOut: out }, (buf, meta, addrs) => { punted += addrs.length; });
      if (e.open('127.0.0.1', 0, 4, 1) !== 1) process.exit(4);
      const s = dgram.createSocket('udp4');
      s.send(Buffer.from('hi'), out[1], '127.0.0.1', () => s.close());
      setTimeout(() => {
        if (punted !== 1) { console.error('punted', punted); process.exit(3); }
        ${callClose ? "e.close(() => { console.log('closed', JSON.stringify(e.live())); });" : "console.log('left open');"}
      }, 200);
    `;
    for (const callClose of [true, false]) {
      const res = spawnSync(process.execPath, ['--input-type=module', '-e', script(callClose)], { encoding: 'utf8', timeout: 10000 });
      expect(res.error, String(res.error)).toBeUndefined();
      expect(res.stderr).toBe('');
      expect(res.status).toBe(0);
      expect(res.stdout.trim()).toBe(callClose ? 'closed {"sockets":0,"entries":0,"srtpContexts":0}' : 'left open');
    }
  });

  test('punt flood: per-socket order kept, overflow counted, event loop never blocked', async () => {
    const e = await engine(1, { puntQueuePackets: 500 });
    const a = await e.sockets.open(LO, 0, 4, (data) => seen.push(data.readUInt32BE(12)));
    const seen: number[] = [];
    const src = await e.sockets.open(LO, 0, 4, () => undefined);
    // a slow handler: JS falls behind on purpose
    let busy = 0;
    const slow = await e.sockets.open(LO, 0, 4, () => {
      const until = performance.now() + 0.02;
      while (performance.now() < until) busy++;
    });
    let maxLag = 0;
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      maxLag = Math.max(maxLag, now - last);
      last = now;
    }, 5);
    const total = 40_000;
    const deadline = Date.now() + 3000;
    let sent = 0;
    while (sent < total && Date.now() < deadline) {
      for (let i = 0; i < 1000; i++, sent++) {
        src.send(rtp(sent), a.localPort, LO);
        src.send(rtp(sent), slow.localPort, LO);
      }
      await new Promise((r) => setImmediate(r));
    }
    const settle = Date.now() + 4000;
    for (let prev = -1; Date.now() < settle; ) {
      const st = e.status();
      const done = st.punted + st.puntDropped;
      if (done === prev && done === st.received) break;
      prev = done;
      await sleep(100);
    }
    clearInterval(timer);
    const st = e.status();
    expect(st.punted + st.puntDropped).toBe(st.received);
    expect(st.received).toBeLessThanOrEqual(2 * sent);
    // what reached JS on socket a is in send order (gaps are drops)
    expect(seen.length).toBeGreaterThan(0);
    for (let i = 1; i < seen.length; i++) expect(seen[i]!).toBeGreaterThan(seen[i - 1]!);
    expect(st.puntDropped).toBeGreaterThan(0); // the small queue overflowed, and said so
    expect(maxLag).toBeLessThan(1000);
    console.log(
      `punt flood: sent ${2 * sent}, engine received ${st.received}, punted ${st.punted}, punt queue drops ${st.puntDropped}, a saw ${seen.length}, max timer lag ${maxLag.toFixed(0)} ms, busy ${busy > 0}`,
    );
  });

  test('bounded flood through one entry: no crash, counters consistent', async () => {
    const e = await engine();
    const punts: Punted[] = [];
    const a = await sock(e, punts, 'a');
    const b = await sock(e, punts, 'b');
    const src = await sock(e, punts, 'src');
    const B = await peer();
    e.setEntry(a, entry({ address: LO, port: src.localPort }, { rtp: [{ via: b, address: LO, port: B.port }] }));
    const pkt = rtp(1, 0, 160);
    const target = 200_000;
    const deadline = Date.now() + 5000;
    let sent = 0;
    let failed = 0;
    while (sent + failed < target && Date.now() < deadline) {
      for (let i = 0; i < 2000; i++) {
        if (src.send(pkt, a.localPort, LO)) sent++;
        else failed++;
      }
      await new Promise((r) => setImmediate(r));
    }
    await sleep(200);
    const st = e.status();
    const es = e.entryStats(a);
    expect(sent).toBeGreaterThan(10_000);
    expect(st.received).toBeLessThanOrEqual(sent);
    expect(es.packets).toBeLessThanOrEqual(st.received);
    expect(es.packets).toBe(st.packets);
    expect(es.errors).toBe(0);
    // every accepted packet was either sent or counted as a send drop (one destination)
    expect(st.sent + st.sendErrors).toBe(es.packets);
    expect(st.sent + st.dropped).toBeLessThanOrEqual(sent);
    expect(B.got.length).toBeLessThanOrEqual(st.sent);
    expect(punts.length).toBe(0);
    expect(es.bytes).toBe(es.packets * pkt.length);
    // still alive and forwarding
    const before = B.got.length;
    src.send(pkt, a.localPort, LO);
    expect(await until(() => B.got.length > before)).toBe(true);
    console.log(
      `flood: JS sent ${sent} (${failed} send failures) in ${(5000 - (deadline - Date.now())) / 1000}s; engine received ${st.received}, forwarded ${st.sent}, dropped ${st.dropped}; peer got ${B.got.length}; thread CPU ${st.cpuSeconds.toFixed(3)}s`,
    );
  });
});
