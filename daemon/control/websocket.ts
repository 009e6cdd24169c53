/**
 * WebSocket control on the HTTP/HTTPS listeners (rtpengine's websocket.c protocols), one
 * request per message, each answered with one binary message:
 *   ng.rtpengine.com        `COOKIE SP BODY` through the dispatcher and its cookie cache
 *   ng-plain.rtpengine.com  a bare bencode/JSON body, no cookie, no cache
 *   cli.rtpengine.com       a CLI command line, answered with the CLI's text
 *   echo.rtpengine.com      the message itself
 * A handshake offering none of these is refused (rtpengine accepts no other protocol).
 *
 * Messages of one connection are handled in order; while a few are queued the socket is
 * paused, so a flooding client fills its own TCP window, not our memory. Idle connections and
 * clients that do not read their replies are closed.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { log } from '../log/logger.js';
import type { CliCommands } from './cli-commands.js';
import type { NgDispatcher } from './ng-dispatcher.js';
import { yieldToEventLoop, type StreamLimits } from './ng-tcp.js';

export const WS_PROTOCOLS = ['ng.rtpengine.com', 'ng-plain.rtpengine.com', 'cli.rtpengine.com', 'echo.rtpengine.com'] as const;
type WsProtocol = (typeof WS_PROTOCOLS)[number];

const MAX_QUEUED = 16;

function offered(req: IncomingMessage): string[] {
  const header = req.headers['sec-websocket-protocol'];
  return (header ?? '').split(',').map((p) => p.trim()).filter((p) => p !== '');
}

export class WebSocketControl {
  private readonly wss: WebSocketServer;

  constructor(
    private readonly dispatcher: NgDispatcher,
    private readonly cli: CliCommands,
    private readonly limits: StreamLimits,
  ) {
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: limits.maxMessage,
      clientTracking: true,
      // the client's first protocol that we speak (the upgrade check below ensures there is one)
      handleProtocols: (protocols) => [...protocols].find((p) => (WS_PROTOCOLS as readonly string[]).includes(p)) ?? false,
    });
  }

  /** The HTTP server's 'upgrade' event. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const protocol = offered(req).find((p) => (WS_PROTOCOLS as readonly string[]).includes(p));
    if (!protocol || (req.url ?? '/').length > 1024) {
      log().warn({ from: req.socket.remoteAddress, offered: offered(req) }, 'WebSocket handshake without a supported protocol refused');
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: 30\r\n\r\nunsupported WebSocket protocol');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws, req, protocol as WsProtocol));
  }

  get connectionCount(): number {
    return this.wss.clients.size;
  }

  private onConnection(ws: WebSocket, req: IncomingMessage, protocol: WsProtocol): void {
    const from = `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? 0}`;
    log().info({ from, protocol }, 'WebSocket control connection established');
    const queue: Buffer[] = [];
    let busy = false;

    req.socket.setTimeout(this.limits.idleMs, () => {
      if (!busy) ws.terminate();
    });

    const run = async () => {
      if (busy) return;
      busy = true;
      try {
        while (queue.length > 0 && ws.readyState === ws.OPEN) {
          const msg = queue.shift() as Buffer;
          const reply = await this.handle(protocol, msg, from);
          if (reply && ws.readyState === ws.OPEN) ws.send(reply, { binary: true });
          if (ws.bufferedAmount > this.limits.maxPendingOutput) {
            log().warn({ from }, 'WebSocket client does not read its replies; closing');
            ws.terminate();
            return;
          }
          if (ws.isPaused && queue.length < MAX_QUEUED / 2) ws.resume();
          await yieldToEventLoop();
        }
      } finally {
        busy = false;
      }
    };

    ws.on('message', (data: RawData) => {
      queue.push(Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer));
      if (queue.length >= MAX_QUEUED) ws.pause();
      void run();
    });
    ws.on('error', (err) => log().info({ from, err: err.message }, 'WebSocket control connection error'));
    ws.on('close', () => {
      queue.length = 0;
      log().info({ from, protocol }, 'WebSocket control connection closed');
    });
  }

  private async handle(protocol: WsProtocol, msg: Buffer, from: string): Promise<Buffer | null> {
    switch (protocol) {
      case 'ng.rtpengine.com':
        return this.dispatcher.handleMessage(msg, from);
      case 'ng-plain.rtpengine.com':
        return this.dispatcher.process(msg, from);
      case 'cli.rtpengine.com':
        return Buffer.from(await this.cli.execute(msg.toString('utf8').trim()), 'utf8');
      case 'echo.rtpengine.com':
        return msg;
    }
  }

  close(): void {
    for (const ws of this.wss.clients) ws.terminate();
    this.wss.close();
  }
}
