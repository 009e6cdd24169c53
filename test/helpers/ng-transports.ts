/**
 * ng clients over the other control transports, with NgClient's `request()` shape so the
 * media-call helpers drive a call over any of them: TCP (`COOKIE SP BENCODE` back to back),
 * HTTP/HTTPS POST /ng, and WebSocket (`ng.rtpengine.com`). Plus free-port helpers and a
 * self-signed certificate made with the openssl CLI.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { bencodeEncode, bencodeLength, type Encodable } from '../../daemon/control/bencode.js';
import type { DaemonHandle } from './daemon.js';
import { decodeNgBody, splitCookie, type NgReply } from './ng-client.js';

export interface NgRequester {
  request(msg: Record<string, unknown>, opts?: { cookie?: string; json?: boolean; timeoutMs?: number }): Promise<NgReply>;
  close(): void;
}

let seq = 0;
export const newCookie = (prefix: string) => `${prefix}${process.pid}_${++seq}`;

export function encodeNg(msg: Record<string, unknown>, cookie: string, json = false): Buffer {
  const body = json ? Buffer.from(JSON.stringify(msg)) : bencodeEncode(msg as Encodable);
  return Buffer.concat([Buffer.from(`${cookie} `), body]);
}

export function decodeNgMessage(data: Buffer): { cookie: string; reply: NgReply } {
  const parts = splitCookie(data);
  if (!parts) throw new Error(`reply without cookie: ${data.toString('latin1').slice(0, 200)}`);
  return { cookie: parts.cookie, reply: decodeNgBody(parts.body) };
}

/** The same daemon handle, with its `ng` replaced by another transport's client. */
export function over(d: DaemonHandle, client: NgRequester): DaemonHandle {
  return { ...d, ng: client as unknown as DaemonHandle['ng'] };
}

export async function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** ng over one TCP connection; replies are matched by cookie. */
export class NgTcpClient implements NgRequester {
  readonly socket: net.Socket;
  private buffer: Buffer = Buffer.alloc(0);
  private readonly waiters = new Map<string, (reply: NgReply) => void>();
  readonly ready: Promise<void>;
  closed = false;

  constructor(port: number, host = '127.0.0.1') {
    this.socket = net.connect(port, host);
    this.ready = new Promise((resolve, reject) => {
      this.socket.once('connect', () => resolve());
      this.socket.once('error', reject);
    });
    this.socket.on('error', () => undefined);
    this.socket.on('close', () => (this.closed = true));
    this.socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      for (;;) {
        const sp = this.buffer.indexOf(0x20);
        if (sp < 0) return;
        const len = bencodeLength(this.buffer, sp + 1);
        if (len < 0) return;
        const msg = this.buffer.subarray(0, sp + 1 + len);
        this.buffer = this.buffer.subarray(sp + 1 + len);
        const { cookie, reply } = decodeNgMessage(msg);
        this.waiters.get(cookie)?.(reply);
        this.waiters.delete(cookie);
      }
    });
  }

  async request(msg: Record<string, unknown>, opts: { cookie?: string; timeoutMs?: number } = {}): Promise<NgReply> {
    await this.ready;
    const cookie = opts.cookie ?? newCookie('t');
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(cookie);
        reject(new Error(`no TCP ng reply to ${String(msg.command)}`));
      }, opts.timeoutMs ?? 5000);
      this.waiters.set(cookie, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
      this.socket.write(encodeNg(msg, cookie));
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

export interface HttpResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** One HTTP(S) request with a fresh connection; self-signed certificates are accepted. */
export function httpRequest(url: string, opts: { method?: string; headers?: Record<string, string>; body?: Buffer | string; timeoutMs?: number } = {}): Promise<HttpResult> {
  const u = new URL(url);
  const mod = u.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(u, { method: opts.method ?? 'GET', headers: opts.headers, rejectUnauthorized: false, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.setTimeout(opts.timeoutMs ?? 5000, () => req.destroy(new Error(`HTTP ${url} timed out`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** ng over HTTP(S): POST /ng with `COOKIE SP BODY`, application/x-rtpengine-ng. */
export class NgHttpClient implements NgRequester {
  constructor(readonly baseUrl: string) {}

  async request(msg: Record<string, unknown>, opts: { cookie?: string; json?: boolean } = {}): Promise<NgReply> {
    const cookie = opts.cookie ?? newCookie('h');
    const res = await httpRequest(`${this.baseUrl}/ng`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-rtpengine-ng' },
      body: encodeNg(msg, cookie, opts.json),
    });
    if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${res.body.toString()}`);
    const decoded = decodeNgMessage(res.body);
    if (decoded.cookie !== cookie) throw new Error(`cookie mismatch: ${decoded.cookie} != ${cookie}`);
    return decoded.reply;
  }

  close(): void {}
}

/** A WebSocket with one subprotocol; `send()` resolves with the next message (requests are serial). */
export class WsClient {
  readonly ws: WebSocket;
  readonly ready: Promise<void>;
  private readonly queue: Array<(data: Buffer) => void> = [];

  constructor(url: string, protocol: string | string[]) {
    this.ws = new WebSocket(url, protocol, { rejectUnauthorized: false });
    this.ready = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
      this.ws.once('unexpected-response', (_req, res) => reject(new Error(`handshake refused: HTTP ${res.statusCode}`)));
    });
    this.ws.on('error', () => undefined);
    this.ws.on('message', (data: Buffer) => this.queue.shift()?.(data));
  }

  async send(data: Buffer | string, timeoutMs = 5000): Promise<Buffer> {
    await this.ready;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no WebSocket reply')), timeoutMs);
      this.queue.push((d) => {
        clearTimeout(timer);
        resolve(d);
      });
      this.ws.send(data);
    });
  }

  close(): void {
    this.ws.terminate();
  }
}

/** ng over WebSocket (`ng.rtpengine.com`). */
export class NgWsClient implements NgRequester {
  readonly client: WsClient;
  constructor(url: string) {
    this.client = new WsClient(url, 'ng.rtpengine.com');
  }

  async request(msg: Record<string, unknown>, opts: { cookie?: string; json?: boolean } = {}): Promise<NgReply> {
    const cookie = opts.cookie ?? newCookie('w');
    const decoded = decodeNgMessage(await this.client.send(encodeNg(msg, cookie, opts.json)));
    if (decoded.cookie !== cookie) throw new Error(`cookie mismatch: ${decoded.cookie} != ${cookie}`);
    return decoded.reply;
  }

  close(): void {
    this.client.close();
  }
}

/** A throw-away self-signed certificate and key (openssl CLI); `cleanup()` removes them. */
export function selfSignedCert(): { cert: string; key: string; cleanup(): void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rtpe-cert-'));
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
  return { cert, key, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
