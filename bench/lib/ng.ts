/**
 * A small ng control client for the benchmarks (no vitest): `COOKIE SP BENCODE` over UDP to
 * 127.0.0.1, replies matched by cookie, per-request timeout and retransmits with the same cookie.
 */
import dgram from 'node:dgram';
import { bencodeDecode, bencodeEncode, bencodeToPlain, type Encodable } from '../../daemon/control/bencode.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type NgReply = Record<string, any>;

let seq = 0;

export class NgClient {
  private readonly socket: dgram.Socket;
  private readonly ready: Promise<void>;
  private readonly pending = new Map<string, (b: Buffer | null) => void>();
  private closed = false;

  constructor(readonly port: number, readonly host = '127.0.0.1') {
    this.socket = dgram.createSocket('udp4');
    this.socket.on('message', (msg) => {
      const sp = msg.indexOf(0x20);
      if (sp <= 0) return;
      const cookie = msg.toString('latin1', 0, sp);
      const r = this.pending.get(cookie);
      if (r) {
        this.pending.delete(cookie);
        r(msg.subarray(sp + 1));
      }
    });
    this.socket.on('error', () => undefined);
    this.ready = new Promise((resolve) => this.socket.bind(0, '127.0.0.1', () => resolve()));
    this.socket.unref();
  }

  async request(msg: Record<string, unknown>, timeoutMs = 5000, retries = 2): Promise<NgReply> {
    if (this.closed) throw new Error('NgClient closed');
    await this.ready;
    const cookie = `b${process.pid}_${++seq}`;
    const data = Buffer.concat([Buffer.from(`${cookie} `, 'latin1'), bencodeEncode(msg as Encodable)]);
    for (let attempt = 0; attempt <= retries; attempt++) {
      const body = await new Promise<Buffer | null>((resolve) => {
        const timer = setTimeout(() => {
          this.pending.delete(cookie);
          resolve(null);
        }, timeoutMs);
        this.pending.set(cookie, (b) => {
          clearTimeout(timer);
          resolve(b);
        });
        this.socket.send(data, this.port, this.host, (err) => {
          if (err) {
            clearTimeout(timer);
            this.pending.delete(cookie);
            resolve(null);
          }
        });
      });
      if (body) {
        if (body[0] === 0x7b) return JSON.parse(body.toString('utf8')) as NgReply;
        return bencodeToPlain(bencodeDecode(body)) as NgReply;
      }
      if (this.closed) break;
    }
    throw new Error(`no ng reply to '${String(msg.command)}' after ${retries + 1} attempt(s) of ${timeoutMs} ms`);
  }

  /** Like request(), but throws unless result is ok. */
  async ok(msg: Record<string, unknown>, timeoutMs?: number): Promise<NgReply> {
    const r = await this.request(msg, timeoutMs);
    if (r.result !== 'ok' && r.result !== 'pong') {
      throw new Error(`ng ${String(msg.command)} failed: ${JSON.stringify(r).slice(0, 400)}`);
    }
    return r;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const r of this.pending.values()) r(null);
    this.pending.clear();
    try {
      this.socket.close();
    } catch {
      /* closed */
    }
  }
}
