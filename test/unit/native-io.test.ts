/**
 * The JS path's batched I/O (daemon/kernel/native-io.ts, kernel/src/jsio.cc): the send-record
 * encoder and the address helpers, then the addon in JS-path-I/O-only mode over real UDP on
 * 127.0.0.1 / ::1 — one call per polled batch, sources as Endpoints, order kept, sends queued
 * during a batch and sent at its end, empty and oversized datagrams handed up empty, close().
 */
import dgram from 'node:dgram';
import { networkInterfaces } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { loadFastPath, type NativeFastPathEngine } from '../../daemon/kernel/native-fast-path.js';
import { addressBytes, BatchErrors, formatIpv6, SendBatcher } from '../../daemon/kernel/native-io.js';
import type { Endpoint } from '../../daemon/net/endpoint.js';
import type { MediaSocket } from '../../daemon/net/media-socket.js';
import { sleep } from '../../support/sleep.js';

const hasV6 = Object.values(networkInterfaces()).some((l) => l?.some((a) => a.address === '::1'));

describe('native-io helpers', () => {
  it('parses IPv4 and IPv6 texts to bytes, refuses anything else', () => {
    expect([...addressBytes('10.1.2.254', 4)!]).toEqual([10, 1, 2, 254]);
    expect(addressBytes('10.1.2', 4)).toBeNull();
    expect(addressBytes('10.1.2.256', 4)).toBeNull();
    expect(addressBytes('a.b.c.d', 4)).toBeNull();
    expect([...addressBytes('::1', 6)!]).toEqual([...new Array(15).fill(0), 1]);
    expect([...addressBytes('2001:db8::8:800:200c:417a', 6)!]).toEqual([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 8, 8, 0, 0x20, 0x0c, 0x41, 0x7a]);
    expect([...addressBytes('::ffff:192.0.2.1', 6)!].slice(10)).toEqual([0xff, 0xff, 192, 0, 2, 1]);
    expect(addressBytes('1::2::3', 6)).toBeNull();
    expect(addressBytes('fe80::1%eth0', 6)).toBeNull();
    expect(addressBytes('12345::', 6)).toBeNull();
  });

  it('formats IPv6 bytes as inet_ntop does', () => {
    for (const [text, expected] of [
      ['::1', '::1'],
      ['::', '::'],
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
      ['2001:0db8:0000:0000:0000:ff00:0042:8329', '2001:db8::ff00:42:8329'],
      ['fe80:0:0:0:1:0:0:0', 'fe80::1:0:0:0'], ['1:2:0:0:5:0:0:0', '1:2:0:0:5::'],
      ['1:0:2:3:4:5:6:7', '1:0:2:3:4:5:6:7'],
      ['::ffff:10.0.0.1', '::ffff:10.0.0.1'],
    ]) {
      expect(formatIpv6(addressBytes(text!, 6)!, 0), text).toBe(expected);
    }
  });

  it('queues records only inside a batch and hands them over in order at its end', () => {
    const calls: Array<{ bytes: Uint8Array; count: number }> = [];
    const b = new SendBatcher((buf, bytes, count) => {
      calls.push({ bytes: buf.slice(0, bytes), count });
      return count - 1; // one failed
    });
    let errors = 0;
    b.onSendErrors = (n) => (errors += n);
    expect(b.queue(7, 4, Buffer.from('x'), 1000, '127.0.0.1'), 'outside a batch: not queued').toBe(false);
    b.begin();
    expect(b.queue(7, 4, Buffer.from('hello'), 1000, '127.0.0.1')).toBe(true);
    expect(b.queue(8, 6, Buffer.from('abcd'), 2000, '::1')).toBe(true);
    expect(b.queue(8, 4, Buffer.from('x'), 1, 'not an address')).toBe(false);
    expect(calls).toEqual([]);
    b.end();
    expect(calls.length).toBe(1);
    expect(calls[0]!.count).toBe(2);
    expect(errors).toBe(1);
    const v = new DataView(calls[0]!.bytes.buffer);
    const le = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
    // record 1: id 7, 5 bytes, port 1000 family 4, 127.0.0.1, "hello" padded to 8
    expect(v.getUint32(0, le)).toBe(7);
    expect(v.getUint32(4, le)).toBe(5);
    expect(v.getUint32(8, le)).toBe(1000 | (4 << 16));
    expect([...calls[0]!.bytes.subarray(12, 16)]).toEqual([127, 0, 0, 1]);
    expect(Buffer.from(calls[0]!.bytes.subarray(28, 33)).toString()).toBe('hello');
    // record 2 at 28 + 8
    expect(v.getUint32(36, le)).toBe(8);
    expect(v.getUint32(44, le)).toBe(2000 | (6 << 16));
    expect(calls[0]!.bytes[36 + 12 + 15]).toBe(1);
    expect(calls[0]!.bytes.length).toBe(36 + 28 + 4);
  });

  it('flushes early when the buffer would overflow, and nested batches flush once', () => {
    const counts: number[] = [];
    const b = new SendBatcher((_buf, _bytes, count) => {
      counts.push(count);
      return count;
    });
    b.begin();
    b.begin();
    const big = Buffer.alloc(4000);
    for (let i = 0; i < 200; i++) expect(b.queue(1, 4, big, 9, '127.0.0.1')).toBe(true);
    b.end();
    const early = counts.reduce((a, c) => a + c, 0);
    b.end();
    expect(counts.reduce((a, c) => a + c, 0)).toBe(200);
    expect(early).toBeLessThan(200);
    expect(counts.length).toBeGreaterThan(1);
  });
});

describe('the addon as JS-path I/O (no forwarding thread)', () => {
  let engine: NativeFastPathEngine | null = null;
  const closers: Array<() => void> = [];

  afterEach(async () => {
    for (const c of closers.splice(0)) c();
    if (engine) await engine.close();
    engine = null;
  });

  async function load(): Promise<NativeFastPathEngine> {
    const e = await loadFastPath({ threads: 1, ioOnly: true });
    if ('unavailable' in e) throw new Error(`the addon must be built for this test: ${e.unavailable}`);
    engine = e;
    return e;
  }

  async function peer(address: string): Promise<{ sock: dgram.Socket; port: number; got: Buffer[] }> {
    const sock = dgram.createSocket(address.includes(':') ? 'udp6' : 'udp4');
    await new Promise<void>((r) => sock.bind(0, address, () => r()));
    const got: Buffer[] = [];
    sock.on('message', (m) => got.push(m));
    closers.push(() => sock.close());
    return { sock, port: sock.address().port, got };
  }

  async function until(cond: () => boolean, ms = 3000): Promise<void> {
    const end = Date.now() + ms;
    while (!cond() && Date.now() < end) await sleep(10);
  }

  for (const address of ['127.0.0.1', '::1']) {
    it(`relays in order through JS, sources as Endpoints, sends batched (${address})`, async (ctx) => {
      if (address === '::1' && !hasV6) ctx.skip();
      const e = await load();
      const family = address === '::1' ? 6 : 4;
      const a = await peer(address);
      const b = await peer(address);
      const froms: Endpoint[] = [];
      let out: MediaSocket | null = null;
      const inSock = await e.sockets.open(address, 0, family, (data, from) => {
        froms.push(from);
        out!.send(data, b.port, address);
      });
      out = await e.sockets.open(address, 0, family, () => {});
      const N = 300;
      for (let i = 0; i < N; i++) {
        const p = Buffer.alloc(172, 0);
        p[0] = 0x80;
        p.writeUInt16BE(i, 2);
        a.sock.send(p, inSock.localPort, address);
        if (i % 50 === 49) await sleep(5); // stay inside the peers' receive buffers
      }
      await until(() => b.got.length >= N);
      expect(b.got.length).toBe(N);
      expect(b.got.map((p) => p.readUInt16BE(2))).toEqual([...Array(N).keys()]);
      expect(froms.length).toBe(N);
      expect(froms[0]).toEqual({ address, port: a.port, family });
      expect(froms[N - 1], 'the same source object while the source stays').toBe(froms[0]);
      const st = e.status();
      expect(st.threads).toBe(0);
      expect(st.received).toBe(N);
      expect(st.jsSent).toBe(N);
      expect(st.jsSendErrors).toBe(0);
    });
  }

  it('closing a socket in a batch sends only what it queued itself; the rest leaves at the batch end', async () => {
    const e = await load();
    const a = await peer('127.0.0.1');
    const b = await peer('127.0.0.1');
    const other = await e.sockets.open('127.0.0.1', 0, 4, () => {});
    const idle = await e.sockets.open('127.0.0.1', 0, 4, () => {});
    const busy = await e.sockets.open('127.0.0.1', 0, 4, () => {});
    const sentAt: number[] = [];
    const inSock = await e.sockets.open('127.0.0.1', 0, 4, () => {
      other.send(Buffer.from('other'), b.port, '127.0.0.1');
      busy.send(Buffer.from('busy'), b.port, '127.0.0.1');
      sentAt.push(e.status().jsSent);
      idle.close(); // nothing of its own queued: no flush
      sentAt.push(e.status().jsSent);
      busy.close(); // its datagram (and the one queued before it) leave first
      sentAt.push(e.status().jsSent);
    });
    a.sock.send(Buffer.from([0x80]), inSock.localPort, '127.0.0.1');
    await until(() => b.got.length >= 2);
    expect(sentAt).toEqual([0, 0, 2]);
    expect(b.got.map(String)).toEqual(['other', 'busy']);
    expect(e.nativeLive().sockets).toBe(2);
  });

  it('hands empty and oversized datagrams up empty, and a new source gets a new Endpoint', async () => {
    const e = await load();
    const a = await peer('127.0.0.1');
    const c = await peer('127.0.0.1');
    const seen: Array<{ len: number; from: Endpoint }> = [];
    const s = await e.sockets.open('127.0.0.1', 0, 4, (data, from) => seen.push({ len: data.length, from }));
    a.sock.send(Buffer.alloc(0), s.localPort, '127.0.0.1');
    await until(() => seen.length >= 1);
    a.sock.send(Buffer.alloc(9000, 1), s.localPort, '127.0.0.1');
    await until(() => seen.length >= 2);
    c.sock.send(Buffer.alloc(12, 0x80), s.localPort, '127.0.0.1');
    await until(() => seen.length >= 3);
    expect(seen.map((x) => x.len)).toEqual([0, 0, 12]);
    expect(seen[2]!.from).toEqual({ address: '127.0.0.1', port: c.port, family: 4 });
    expect(seen[2]!.from).not.toBe(seen[0]!.from);
  });

  it('a send outside a batch goes out at once; a socket closed in a batch gets its queued datagrams first', async () => {
    const e = await load();
    const a = await peer('127.0.0.1');
    const b = await peer('127.0.0.1');
    const out = await e.sockets.open('127.0.0.1', 0, 4, () => {});
    expect(out.send(Buffer.from('now'), b.port, '127.0.0.1')).toBe(true);
    await until(() => b.got.length >= 1);
    expect(b.got.map(String)).toEqual(['now']);
    const closing = await e.sockets.open('127.0.0.1', 0, 4, () => {});
    const inSock = await e.sockets.open('127.0.0.1', 0, 4, () => {
      closing.send(Buffer.from('before close'), b.port, '127.0.0.1');
      closing.close();
      expect(closing.send(Buffer.from('after close'), b.port, '127.0.0.1')).toBe(false);
    });
    a.sock.send(Buffer.from([0x80]), inSock.localPort, '127.0.0.1');
    await until(() => b.got.length >= 2);
    await sleep(50);
    expect(b.got.map(String)).toEqual(['now', 'before close']);
    expect(e.nativeLive().sockets).toBe(2);
  });

  it('close() stops polling and frees every socket', async () => {
    const e = await load();
    const a = await peer('127.0.0.1');
    let n = 0;
    const s = await e.sockets.open('127.0.0.1', 0, 4, () => n++);
    a.sock.send(Buffer.from([0x80]), s.localPort, '127.0.0.1');
    await until(() => n >= 1);
    await e.close();
    engine = null;
    expect(e.nativeLive()).toEqual({ sockets: 0, entries: 0, srtpContexts: 0 });
    expect(s.send(Buffer.from('x'), a.port, '127.0.0.1')).toBe(false);
  });
});

describe('BatchErrors', () => {
  it('surfaces only the first error of a batch, on the next tick, and starts afresh', async () => {
    const seen: unknown[] = [];
    const listeners = process.listeners('uncaughtException');
    process.removeAllListeners('uncaughtException');
    process.on('uncaughtException', (err) => seen.push(err));
    try {
      const errors = new BatchErrors();
      const first = new Error('first');
      errors.note(first);
      errors.note(new Error('second'));
      errors.surface();
      expect(seen, 'not thrown inside the batch').toEqual([]);
      await new Promise((r) => setImmediate(r));
      expect(seen).toEqual([first]);
      errors.surface();
      const third = new Error('third');
      errors.note(third);
      errors.surface();
      await new Promise((r) => setImmediate(r));
      expect(seen, 'a clean batch surfaces nothing; the next batch its own first error').toEqual([first, third]);
    } finally {
      process.removeAllListeners('uncaughtException');
      for (const l of listeners) process.on('uncaughtException', l);
    }
  });
});
