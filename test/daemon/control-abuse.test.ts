/**
 * Abusive control clients (TCP ng, HTTP, WebSocket): garbage, oversized messages and bodies,
 * bad methods and content types, silent, trickling (slowloris) and half-open clients. Each
 * costs at most its own connection, gets the right status or a closed connection, and never
 * delays other clients. The idle timeout is 1 s here.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, type DaemonHandle } from '../helpers/daemon.js';
import { expectNoLeaks } from '../helpers/leaks.js';
import { encodeNg, freeTcpPort, httpRequest, NgTcpClient, WsClient } from '../helpers/ng-transports.js';

let d: DaemonHandle;
let tcpPort: number;
let httpPort: number;
import { sleep } from '../../support/sleep.js';

beforeAll(async () => {
  [tcpPort, httpPort] = [await freeTcpPort(), await freeTcpPort()];
  d = await startDaemon(['-N', `127.0.0.1:${tcpPort}`, `--listen-http=127.0.0.1:${httpPort}`, '--control-idle-timeout=1']);
});

afterAll(async () => {
  await expectNoLeaks(d);
});

/** Resolves when the server closes the connection (with everything it sent), or null after `ms`. */
function closedWithin(sock: net.Socket, ms: number): Promise<string | null> {
  let text = '';
  sock.on('data', (b: Buffer) => (text += b.toString('latin1')));
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(null), ms);
    sock.on('close', () => {
      clearTimeout(t);
      resolve(text);
    });
    sock.on('error', () => undefined);
  });
}

async function connect(port: number): Promise<net.Socket> {
  const s = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    s.once('connect', resolve);
    s.once('error', reject);
  });
  return s;
}

/** A ping over a fresh TCP ng connection must be answered quickly whatever else is going on. */
async function tcpPingMs(): Promise<number> {
  const c = new NgTcpClient(tcpPort);
  const t0 = Date.now();
  const r = await c.request({ command: 'ping' }, { timeoutMs: 2000 });
  c.close();
  expect(r.result).toBe('pong');
  return Date.now() - t0;
}

describe('TCP ng', () => {
  it('garbage closes that connection only', async () => {
    const bad = await connect(tcpPort);
    const closed = closedWithin(bad, 3000);
    bad.write('this is not ng at all');
    expect(await closed).toBe('');
    expect(await tcpPingMs()).toBeLessThan(1000);
  });

  it('a message over the size bound closes the connection', async () => {
    const big = await connect(tcpPort);
    const closed = closedWithin(big, 5000);
    big.write('c1 d3:sdp2000000:');
    big.write(Buffer.alloc(1_200_000, 0x61));
    expect(await closed).toBe('');
  });

  it('silent, trickling and half-open clients are closed and never delay others', async () => {
    const silent = await connect(tcpPort);
    const silentClosed = closedWithin(silent, 4000);
    const trickle = await connect(tcpPort);
    const trickleClosed = closedWithin(trickle, 4000);
    const msg = encodeNg({ command: 'ping' }, 'slow');
    let i = 0;
    const timer = setInterval(() => {
      if (i < msg.length - 1 && !trickle.destroyed) trickle.write(msg.subarray(i, ++i));
    }, 150);
    // half-open: a complete request, then FIN; the reply still arrives, then the server closes
    const half = await connect(tcpPort);
    const halfClosed = closedWithin(half, 4000);
    half.end(encodeNg({ command: 'ping' }, 'half'));
    // meanwhile 30 clients at once are answered promptly
    const times = await Promise.all(Array.from({ length: 30 }, () => tcpPingMs()));
    expect(Math.max(...times)).toBeLessThan(1000);
    expect(await halfClosed).toBe('half d6:result4:ponge');
    expect(await silentClosed).toBe('');
    expect(await trickleClosed).toBe('');
    clearInterval(timer);
  });
});

describe('TCP ng, a client that never reads', () => {
  it('is dropped once its unread replies pass the bound; others are served meanwhile', async () => {
    const reader = await connect(tcpPort);
    reader.pause(); // never reads: the daemon's replies pile up
    const requests = Array.from({ length: 4000 }, (_, i) => encodeNg({ command: 'statistics' }, `nr${i}`));
    reader.write(Buffer.concat(requests));
    const deadline = Date.now() + 15_000;
    while (!d.stderr().includes('client does not read its replies') && Date.now() < deadline) {
      expect(await tcpPingMs()).toBeLessThan(1000);
      await sleep(100);
    }
    expect(d.stderr()).toContain('client does not read its replies');
    reader.destroy();
  }, 30_000);
});

describe('HTTP', () => {
  const url = (p: string) => `http://127.0.0.1:${httpPort}${p}`;

  it('bad methods, content types, missing lengths and oversized bodies get their status', async () => {
    expect((await httpRequest(url('/ng'), { method: 'PUT', body: 'x' })).status).toBe(405);
    expect((await httpRequest(url('/ping'), { method: 'DELETE' })).status).toBe(405);
    expect((await httpRequest(url('/ng'), { method: 'POST', headers: { 'Content-Type': 'text/html' }, body: 'x' })).status).toBe(415);
    expect((await httpRequest(url('/cli'), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' })).status).toBe(415);
    expect((await httpRequest(url('/ng'), { method: 'POST', body: 'c1 d7:command4:pinge' })).status).toBe(415);
    expect((await httpRequest(url('/elsewhere'), { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: 'x' })).status).toBe(404);
    const chunked = await httpRequest(url('/ng'), { method: 'POST', headers: { 'Content-Type': 'application/x-rtpengine-ng', 'Transfer-Encoding': 'chunked' }, body: 'c1 d7:command4:pinge' });
    expect(chunked.status).toBe(411);
    const big = await httpRequest(url('/ng'), { method: 'POST', headers: { 'Content-Type': 'application/x-rtpengine-ng' }, body: Buffer.alloc(1_100_000, 0x61) });
    expect(big.status).toBe(413);
    expect(big.headers.connection).toBe('close');
  });

  it('malformed requests get 400', async () => {
    const s = await connect(httpPort);
    const closed = closedWithin(s, 3000);
    s.write('BLAH\r\n\r\n');
    expect(await closed).toMatch(/^HTTP\/1\.1 400 /);
  });

  it('slowloris clients are cut off while others are served', async () => {
    const slow: net.Socket[] = [];
    const closings: Array<Promise<string | null>> = [];
    for (let i = 0; i < 10; i++) {
      const s = await connect(httpPort);
      closings.push(closedWithin(s, 5000));
      s.write('GET /ping HTTP/1.1\r\nHost: x\r\n');
      slow.push(s);
    }
    const timer = setInterval(() => {
      for (const s of slow) if (!s.destroyed) s.write('X');
    }, 100);
    for (let i = 0; i < 5; i++) {
      const t0 = Date.now();
      expect((await httpRequest(url('/ping'))).status).toBe(200);
      expect(Date.now() - t0).toBeLessThan(1000);
      await sleep(100);
    }
    const results = await Promise.all(closings);
    clearInterval(timer);
    for (const r of results) expect(r, 'slow client closed by the server').not.toBeNull();
    // a body that never completes is cut off the same way
    const body = await connect(httpPort);
    const bodyClosed = closedWithin(body, 5000);
    body.write('POST /ng HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-rtpengine-ng\r\nContent-Length: 100\r\n\r\nc1 d7:');
    expect(await bodyClosed).not.toBeNull();
  });
});

describe('WebSocket', () => {
  it('refuses handshakes without a supported protocol', async () => {
    await expect(new WsClient(`ws://127.0.0.1:${httpPort}`, 'chat').ready).rejects.toThrow(/HTTP 400/);
    await expect(new WsClient(`ws://127.0.0.1:${httpPort}`, []).ready).rejects.toThrow(/HTTP 400/);
  });

  it('closes on an oversized message, answers a flood in order, closes idle connections', async () => {
    const big = new WsClient(`ws://127.0.0.1:${httpPort}`, 'echo.rtpengine.com');
    await big.ready;
    const code = new Promise<number>((resolve) => big.ws.on('close', (c) => resolve(c)));
    big.ws.send(Buffer.alloc(1_100_000));
    expect(await code).toBe(1009);

    const flood = new WsClient(`ws://127.0.0.1:${httpPort}`, 'ng.rtpengine.com');
    await flood.ready;
    const replies: string[] = [];
    const all = new Promise<void>((resolve) => flood.ws.on('message', (m: Buffer) => {
      replies.push(m.toString());
      if (replies.length === 200) resolve();
    }));
    for (let i = 0; i < 200; i++) flood.ws.send(encodeNg({ command: 'ping' }, `f${i}`));
    await all;
    expect(replies).toEqual(Array.from({ length: 200 }, (_, i) => `f${i} d6:result4:ponge`));

    const closed = new Promise<void>((resolve) => flood.ws.on('close', () => resolve()));
    await closed; // idle for 1 s
    expect(await tcpPingMs()).toBeLessThan(1000);
  });
});
