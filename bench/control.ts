/**
 * bench/control: ng request rate and latency per control transport. For a bounded time, N
 * clients each keep one `ping` (or `statistics` with --command=statistics) outstanding over
 * UDP, TCP, HTTP (keep-alive) and WebSocket; printed: requests/s and p50/p99 latency at the
 * client. Every request has a fresh cookie, so each one runs the dispatcher (no cache hits).
 *
 * Usage: node dist/bench/control.js [--quick] [--clients=1,10] [--seconds=3] [--command=ping]
 */
import dgram from 'node:dgram';
import http from 'node:http';
import net from 'node:net';
import WebSocket from 'ws';
import { bencodeEncode, bencodeLength } from '../daemon/control/bencode.js';
import { startDaemon } from './lib/daemon.js';
import { argValue, fmt, hasFlag, percentile, table } from './lib/stats.js';

const quick = hasFlag('quick');
const clientCounts = (argValue('clients') ?? '1,10').split(',').map(Number).filter((n) => n > 0 && n <= 100);
const seconds = Math.min(30, Number(argValue('seconds') ?? (quick ? 1 : 3)));
const command = argValue('command') ?? 'ping';
const MAX_REQUESTS = 2_000_000;

type Send = (msg: Buffer) => Promise<Buffer>;

async function freeTcpPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

function udpClient(port: number): { send: Send; close(): void } {
  const s = dgram.createSocket('udp4');
  let pending: ((b: Buffer) => void) | null = null;
  s.on('message', (m) => pending?.(m));
  return {
    send: (msg) => new Promise((resolve) => {
      pending = resolve;
      s.send(msg, port, '127.0.0.1');
    }),
    close: () => s.close(),
  };
}

function tcpClient(port: number): { send: Send; close(): void } {
  const s = net.connect(port, '127.0.0.1');
  s.setNoDelay(true);
  let buf = Buffer.alloc(0);
  let pending: ((b: Buffer) => void) | null = null;
  s.on('data', (c: Buffer) => {
    buf = Buffer.concat([buf, c]);
    const sp = buf.indexOf(0x20);
    const len = sp < 0 ? -1 : bencodeLength(buf, sp + 1);
    if (len < 0) return;
    const msg = buf.subarray(0, sp + 1 + len);
    buf = buf.subarray(sp + 1 + len);
    pending?.(msg);
  });
  return { send: (msg) => new Promise((resolve) => { pending = resolve; s.write(msg); }), close: () => s.destroy() };
}

function httpClient(port: number): { send: Send; close(): void } {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  return {
    send: (msg) => new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, path: '/ng', method: 'POST', agent, headers: { 'Content-Type': 'application/x-rtpengine-ng', 'Content-Length': msg.length } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(Buffer.concat(chunks)));
      });
      req.on('error', reject);
      req.end(msg);
    }),
    close: () => agent.destroy(),
  };
}

async function wsClient(port: number): Promise<{ send: Send; close(): void }> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`, 'ng.rtpengine.com');
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  let pending: ((b: Buffer) => void) | null = null;
  ws.on('message', (m: Buffer) => pending?.(m));
  return { send: (msg) => new Promise((resolve) => { pending = resolve; ws.send(msg); }), close: () => ws.terminate() };
}

async function run(name: string, make: () => Promise<{ send: Send; close(): void }> | { send: Send; close(): void }, clients: number): Promise<string[]> {
  const cs = await Promise.all(Array.from({ length: clients }, () => make()));
  const lat: number[] = [];
  let n = 0;
  const deadline = performance.now() + seconds * 1000;
  await Promise.all(cs.map(async (c, ci) => {
    while (performance.now() < deadline && n < MAX_REQUESTS) {
      const msg = Buffer.concat([Buffer.from(`b${ci}_${n++} `), bencodeEncode({ command })]);
      const t0 = performance.now();
      await c.send(msg);
      lat.push(performance.now() - t0);
    }
  }));
  for (const c of cs) c.close();
  lat.sort((a, b) => a - b);
  return [name, String(clients), fmt(lat.length / seconds), fmt(percentile(lat, 0.5), 3), fmt(percentile(lat, 0.99), 3)];
}

async function main(): Promise<void> {
  const [tcpPort, httpPort] = [await freeTcpPort(), await freeTcpPort()];
  const d = await startDaemon({ leakCheck: 'summary', extra: ['-N', `127.0.0.1:${tcpPort}`, `--listen-http=127.0.0.1:${httpPort}`] });
  const rows: string[][] = [];
  try {
    for (const clients of clientCounts) {
      rows.push(await run('UDP', () => udpClient(d.ngPort), clients));
      rows.push(await run('TCP', () => tcpClient(tcpPort), clients));
      rows.push(await run('HTTP keep-alive', () => httpClient(httpPort), clients));
      rows.push(await run('WebSocket', () => wsClient(httpPort), clients));
    }
  } finally {
    await d.stop();
  }
  console.log(`ng '${command}' round trips, ${seconds} s per row, one request outstanding per client`);
  console.log(table(['transport', 'clients', 'req/s', 'p50 ms', 'p99 ms'], rows));
}

void main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
