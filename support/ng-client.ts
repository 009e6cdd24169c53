/**
 * A minimal ng control protocol client over UDP, for tests and benchmarks.
 *
 * Every datagram is `COOKIE SP BODY`; the reply carries the same cookie. Bodies are bencode by
 * default (our own codec from daemon/control/bencode.ts) or JSON on request. Replies are decoded
 * into plain JS (byte strings become UTF-8 strings).
 */
import dgram from 'node:dgram';
import { isIP } from 'node:net';
import { bencodeDecode, bencodeEncode, bencodeToPlain, type Encodable } from '../daemon/control/bencode.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type NgReply = Record<string, any>;

export interface NgRequestOptions {
  /** How long to wait for a reply to each transmission (default 5000 ms, or the client's). */
  timeoutMs?: number;
  /** How many times to resend the same datagram (same cookie) after a timeout (default 0, or the client's). */
  retries?: number;
  /** Send the body as JSON instead of bencode; the reply is then expected in JSON. */
  json?: boolean;
  /** Use this cookie instead of a fresh unique one. */
  cookie?: string;
}

interface Waiter {
  /** null: the client was closed or the send failed. */
  resolve(data: Buffer | null): void;
}

let cookieSeq = 0;

/** Splits a datagram into cookie and body at the first space; null if there is no space. */
export function splitCookie(data: Buffer): { cookie: string; body: Buffer } | null {
  const sp = data.indexOf(0x20);
  if (sp <= 0) return null;
  return { cookie: data.toString('latin1', 0, sp), body: data.subarray(sp + 1) };
}

/** Decodes a reply body (bencode dictionary or JSON object) into plain JS. */
export function decodeNgBody(body: Buffer): NgReply {
  if (body[0] === 0x7b /* { */) return JSON.parse(body.toString('utf8')) as NgReply;
  return bencodeToPlain(bencodeDecode(body)) as NgReply;
}

export class NgClient {
  private readonly socket: dgram.Socket;
  private readonly ready: Promise<void>;
  /** Waiters per cookie, oldest first: each reply datagram wakes the oldest waiter of its cookie. */
  private readonly waiters = new Map<string, Waiter[]>();
  /** raw() waiters whose datagram had no parseable cookie: they get any unclaimed reply. */
  private readonly strayWaiters: Waiter[] = [];
  private closed = false;

  constructor(
    readonly port: number,
    readonly host = '127.0.0.1',
    /** Defaults for every request (benchmarks retransmit under load; tests by default do not). */
    private readonly defaults: Pick<NgRequestOptions, 'timeoutMs' | 'retries'> = {},
  ) {
    const type = isIP(host) === 6 ? 'udp6' : 'udp4';
    this.socket = dgram.createSocket(type);
    this.socket.on('message', (msg) => this.dispatch(msg));
    this.socket.on('error', () => { /* surfaced as timeouts */ });
    this.ready = new Promise((resolve) => {
      this.socket.bind(0, type === 'udp6' ? '::1' : '127.0.0.1', () => resolve());
    });
    // never keep a test process alive just because a client was not closed
    this.socket.unref();
  }

  private dispatch(msg: Buffer): void {
    const parts = splitCookie(msg);
    if (parts) {
      const list = this.waiters.get(parts.cookie);
      const w = list?.shift();
      if (list && list.length === 0) this.waiters.delete(parts.cookie);
      if (w) {
        w.resolve(msg);
        return;
      }
    }
    const stray = this.strayWaiters.shift();
    if (stray) stray.resolve(msg);
  }

  private async sendAndWait(data: Buffer, cookie: string | null, timeoutMs: number): Promise<Buffer | null> {
    if (this.closed) throw new Error('NgClient is closed');
    await this.ready;
    return new Promise<Buffer | null>((resolve) => {
      let done = false;
      const waiter: Waiter = {
        resolve: (buf) => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          resolve(buf);
        },
      };
      const list = cookie === null ? this.strayWaiters : this.waitersFor(cookie);
      list.push(waiter);
      const timer = setTimeout(() => {
        if (done) return;
        done = true;
        const i = list.indexOf(waiter);
        if (i >= 0) list.splice(i, 1);
        if (cookie !== null && list.length === 0) this.waiters.delete(cookie);
        resolve(null);
      }, timeoutMs);
      this.socket.send(data, this.port, this.host, (err) => {
        if (err) waiter.resolve(null);
      });
    });
  }

  private waitersFor(cookie: string): Waiter[] {
    let list = this.waiters.get(cookie);
    if (!list) {
      list = [];
      this.waiters.set(cookie, list);
    }
    return list;
  }

  /** Sends one ng request and resolves with the decoded reply; rejects on timeout. */
  async request(msg: Record<string, unknown>, opts: NgRequestOptions = {}): Promise<NgReply> {
    const cookie = opts.cookie ?? `${process.pid}_${++cookieSeq}_${Date.now().toString(36)}`;
    const body = opts.json
      ? Buffer.from(JSON.stringify(msg), 'utf8')
      : bencodeEncode(msg as Encodable);
    const data = Buffer.concat([Buffer.from(`${cookie} `, 'latin1'), body]);
    const timeoutMs = opts.timeoutMs ?? this.defaults.timeoutMs ?? 5000;
    const attempts = 1 + Math.max(0, opts.retries ?? this.defaults.retries ?? 0);
    for (let i = 0; i < attempts; i++) {
      const reply = await this.sendAndWait(data, cookie, timeoutMs);
      if (this.closed) throw new Error('NgClient closed while waiting for a reply');
      if (reply === null) continue;
      const parts = splitCookie(reply);
      if (!parts) throw new Error(`ng reply without cookie: ${JSON.stringify(reply.toString('latin1'))}`);
      try {
        return decodeNgBody(parts.body);
      } catch (err) {
        throw new Error(`undecodable ng reply to ${String(msg.command)}: ${(err as Error).message}: ` +
          JSON.stringify(parts.body.toString('latin1').slice(0, 500)));
      }
    }
    throw new Error(`no ng reply to '${String(msg.command)}' (cookie ${cookie}) from ` +
      `${this.host}:${this.port} after ${attempts} attempt(s) of ${timeoutMs} ms`);
  }

  /** Like request(), but throws unless the result is ok (or pong). */
  async ok(msg: Record<string, unknown>, opts: NgRequestOptions = {}): Promise<NgReply> {
    const r = await this.request(msg, opts);
    if (r.result !== 'ok' && r.result !== 'pong') {
      throw new Error(`ng ${String(msg.command)} failed: ${JSON.stringify(r).slice(0, 400)}`);
    }
    return r;
  }

  /**
   * Sends raw bytes and resolves with the raw reply datagram, or null on timeout (default
   * 1000 ms). If the data starts with a cookie, only a reply with that cookie is taken.
   */
  async raw(data: Buffer | string, opts: { timeoutMs?: number } = {}): Promise<Buffer | null> {
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    const parts = splitCookie(buf);
    return this.sendAndWait(buf, parts ? parts.cookie : null, opts.timeoutMs ?? 1000);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const list of this.waiters.values()) for (const w of list) w.resolve(null);
    this.waiters.clear();
    for (const w of this.strayWaiters.splice(0)) w.resolve(null);
    try {
      this.socket.close();
    } catch {
      /* already closed */
    }
  }
}
