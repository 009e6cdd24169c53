/**
 * The ng transport over TCP (`--listen-tcp-ng`, rtpengine's control_ng_tcp_new()): messages are
 * `COOKIE SP BENCODED-DICTIONARY`, back to back with no other framing; a message ends where its
 * dictionary ends (as rtpengine's chunk_message() finds it). Replies, `COOKIE SP REPLY`, go
 * back on the connection the request came on.
 *
 * Each connection is its own small state machine: requests are handled one at a time in
 * arrival order while the socket is paused (back-pressure instead of a growing queue), the
 * input buffer and unsent output are bounded, and a connection that sends nothing for the idle
 * timeout — silent, half-open or trickling a message byte by byte — is closed. None of this
 * blocks any other connection: all waiting is asynchronous, and a connection goes back to the
 * event loop after each request, so one with thousands queued takes turns with the rest.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { ListenSpec } from '../config/config.js';
import { log } from '../log/logger.js';
import { whenListening } from '../net/listen.js';
import { BencodeError, bencodeLength } from './bencode.js';
import type { NgDispatcher } from './ng-dispatcher.js';

export interface StreamLimits {
  /** Bytes of one message (and so of the unparsed input buffer). */
  maxMessage: number;
  /** Bytes of replies the client has not read yet before it is dropped as a non-reader. */
  maxPendingOutput: number;
  /** ms without any input (or with a message still incomplete) before the connection is closed. */
  idleMs: number;
  maxConnections: number;
}

export const DEFAULT_STREAM_LIMITS: StreamLimits = {
  maxMessage: 1024 * 1024,
  maxPendingOutput: 4 * 1024 * 1024,
  idleMs: 60_000,
  maxConnections: 1000,
};

const MAX_COOKIE = 256;

/** Back to the event loop: a client with many queued requests takes turns with everyone else. */
export const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

type Frame = { message: Buffer } | { incomplete: true } | { invalid: string };

/** Cuts the first message off `buf` (leading CR/LF between messages are skipped). */
export function nextFrame(buf: Buffer): Frame & { consumed: number } {
  let start = 0;
  while (start < buf.length && (buf[start] === 0x0a || buf[start] === 0x0d)) start++;
  const space = buf.indexOf(0x20, start);
  if (space < 0) {
    if (buf.length - start > MAX_COOKIE) return { invalid: 'cookie too long', consumed: 0 };
    return { incomplete: true, consumed: start };
  }
  if (space === start) return { invalid: 'no cookie', consumed: 0 };
  if (space - start > MAX_COOKIE) return { invalid: 'cookie too long', consumed: 0 };
  if (space + 1 >= buf.length) return { incomplete: true, consumed: start };
  if (buf[space + 1] !== 0x64 /* d */) return { invalid: 'not a bencoded dictionary', consumed: 0 };
  let len: number;
  try {
    len = bencodeLength(buf, space + 1);
  } catch (err) {
    return { invalid: err instanceof BencodeError ? err.message : String(err), consumed: 0 };
  }
  if (len < 0) return { incomplete: true, consumed: start };
  const end = space + 1 + len;
  return { message: buf.subarray(start, end), consumed: end };
}

export class NgTcpTransport {
  private readonly servers: Server[] = [];
  private readonly connections = new Set<Socket>();

  constructor(
    private readonly dispatcher: NgDispatcher,
    private readonly limits: StreamLimits = DEFAULT_STREAM_LIMITS,
  ) {}

  get connectionCount(): number {
    return this.connections.size;
  }

  async listen(specs: readonly ListenSpec[]): Promise<void> {
    for (const spec of specs) {
      const server = createServer({ allowHalfOpen: true }, (conn) => this.onConnection(conn));
      server.maxConnections = this.limits.maxConnections;
      await whenListening(server, (done) => server.listen(spec.port, spec.address, done));
      server.on('error', (err) => log().warn({ err: err.message }, 'TCP ng listener error'));
      this.servers.push(server);
      log().info({ address: spec.address, port: spec.port }, 'Listening for ng commands (TCP)');
    }
  }

  private onConnection(conn: Socket): void {
    const from = `${conn.remoteAddress ?? '?'}:${conn.remotePort ?? 0}`;
    log().info({ from }, 'New TCP control ng connection');
    this.connections.add(conn);
    let buffer: Buffer = Buffer.alloc(0);
    let busy = false;
    let closed = false;
    // a message must arrive completely within idleMs of its first byte (no trickling)
    let partialTimer: NodeJS.Timeout | null = null;
    const partial = (pending: boolean) => {
      if (!pending) {
        if (partialTimer) clearTimeout(partialTimer);
        partialTimer = null;
      } else if (!partialTimer) {
        partialTimer = setTimeout(() => close('message not completed in time', 'warn'), this.limits.idleMs);
      }
    };

    const close = (reason: string, level: 'info' | 'warn' = 'info') => {
      if (closed) return;
      closed = true;
      partial(false);
      log()[level]({ from, reason }, 'TCP control ng connection closing');
      conn.destroy();
    };

    const pump = async () => {
      if (busy || closed) return;
      busy = true;
      conn.pause();
      try {
        for (;;) {
          const frame = nextFrame(buffer);
          if ('invalid' in frame) {
            close(`invalid data: ${frame.invalid}`, 'warn');
            return;
          }
          if ('incomplete' in frame) {
            buffer = buffer.subarray(frame.consumed);
            partial(buffer.length > 0);
            if (buffer.length > this.limits.maxMessage) close('buffer length exceeded', 'warn');
            return;
          }
          buffer = buffer.subarray(frame.consumed);
          const reply = await this.dispatcher.handleMessage(Buffer.from(frame.message), from);
          if (closed) return;
          if (reply) conn.write(reply);
          if (conn.writableLength > this.limits.maxPendingOutput) {
            close('client does not read its replies', 'warn');
            return;
          }
          await yieldToEventLoop();
          if (closed) return;
        }
      } finally {
        busy = false;
        if (!closed) conn.resume();
      }
    };

    conn.setKeepAlive(true, 10_000);
    conn.setNoDelay(true);
    // no byte for idleMs: silent, half-open or trickling; a queued request does not count as idle
    conn.setTimeout(this.limits.idleMs, () => {
      if (!busy) close('idle timeout');
    });
    conn.on('data', (chunk: Buffer) => {
      buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
      if (buffer.length > this.limits.maxMessage + MAX_COOKIE + 2) {
        close('buffer length exceeded', 'warn');
        return;
      }
      void pump();
    });
    conn.on('end', () => {
      // the client half-closed: finish what it sent, then close our side
      const finish = () => (busy ? setTimeout(finish, 10) : conn.end());
      finish();
    });
    conn.on('error', (err) => close(`socket error: ${err.message}`));
    conn.on('close', () => {
      closed = true;
      partial(false);
      this.connections.delete(conn);
    });
  }

  close(): void {
    for (const s of this.servers) s.close();
    this.servers.length = 0;
    for (const c of this.connections) c.destroy();
    this.connections.clear();
  }
}
