/**
 * HTTP and HTTPS control (`--listen-http`, `--listen-https`; rtpengine's websocket.c HTTP side):
 *   POST /ng        application/x-rtpengine-ng, `COOKIE SP BODY` through the dispatcher and its
 *                   cookie cache; reply 200 application/x-rtpengine-ng (600 "error" without cookie)
 *   POST /ng-plain  application/x-rtpengine-ng or application/json, a bare body, no cache
 *   POST /cli       text/plain CLI command line;  GET /cli/COMMAND (URL-encoded)
 *   GET  /metrics   Prometheus text format;        GET /ping → "pong"
 *   OPTIONS *       200 with the CORS headers rtpengine sends on every response
 * WebSocket upgrades on the same listeners go to websocket.ts.
 *
 * Abuse never costs more than one connection: bodies over the limit get 413 before they are
 * read, a request must arrive completely within the idle timeout (Node answers 408 and closes),
 * other methods get 405, wrong content types 415, chunked bodies 411.
 */
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { ListenSpec } from '../config/config.js';
import { ConfigError } from '../errors.js';
import { log } from '../log/logger.js';
import { whenListening } from '../net/listen.js';
import type { PrometheusExporter } from '../stats/prometheus.js';
import type { CliCommands } from './cli-commands.js';
import type { NgDispatcher } from './ng-dispatcher.js';
import type { StreamLimits } from './ng-tcp.js';
import { WebSocketControl } from './websocket.js';

const CT_NG = 'application/x-rtpengine-ng';
const CT_JSON = 'application/json';
const CT_TEXT = 'text/plain';

const CORS_HEADERS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Max-Age': '86400',
  'Access-Control-Allow-Methods': 'GET, POST',
  'Access-Control-Allow-Headers': 'Content-Type',
};

class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly close = false) {
    super(message);
  }
}

export interface HttpControlDeps {
  dispatcher: NgDispatcher;
  cli: CliCommands;
  metrics: PrometheusExporter;
  limits: StreamLimits;
}

export interface TlsFiles {
  cert: string;
  key: string | null;
}

export class HttpControl {
  private readonly servers: Server[] = [];
  private readonly sockets = new Set<Socket>();
  readonly ws: WebSocketControl;

  constructor(private readonly deps: HttpControlDeps) {
    this.ws = new WebSocketControl(deps.dispatcher, deps.cli, deps.limits);
  }

  async listen(specs: readonly ListenSpec[], tls: TlsFiles | null): Promise<void> {
    if (specs.length === 0) return;
    let tlsOptions: { cert: Buffer; key: Buffer } | null = null;
    if (tls) {
      try {
        // rtpengine reads the key from the certificate file when no key file is given
        tlsOptions = { cert: readFileSync(tls.cert), key: readFileSync(tls.key ?? tls.cert) };
      } catch (err) {
        throw new ConfigError(`Cannot read the HTTPS certificate or key: ${(err as Error).message}`);
      }
    }
    const idle = this.deps.limits.idleMs;
    const options = {
      headersTimeout: idle,
      requestTimeout: idle,
      keepAliveTimeout: Math.min(5000, idle),
      connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(idle / 2))),
      maxHeaderSize: 16 * 1024,
    };
    for (const spec of specs) {
      const handler = (req: IncomingMessage, res: ServerResponse) => void this.onRequest(req, res);
      const server: Server = tlsOptions ? createHttpsServer({ ...options, ...tlsOptions }, handler) : createHttpServer(options, handler);
      server.maxConnections = this.deps.limits.maxConnections;
      server.timeout = idle; // socket inactivity, also for keep-alive connections that never send
      server.on('upgrade', (req: IncomingMessage, socket, head: Buffer) => this.ws.upgrade(req, socket, head));
      server.on('connection', (s: Socket) => {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
      });
      server.on('clientError', (err, socket) => {
        // malformed request line/headers, header or request timeout: answer if possible, then close
        const code = (err as NodeJS.ErrnoException).code;
        const status = code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
        if (socket.writable) socket.end(`HTTP/1.1 ${status} ${status === 408 ? 'Request Timeout' : status === 431 ? 'Request Header Fields Too Large' : 'Bad Request'}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
        else socket.destroy();
      });
      await whenListening(server, (done) => server.listen(spec.port, spec.address, done));
      server.on('error', (err) => log().warn({ err: err.message }, 'HTTP listener error'));
      this.servers.push(server);
      log().info({ address: spec.address, port: spec.port, tls: tlsOptions !== null }, `Listening for HTTP${tlsOptions ? 'S' : ''}/WebSocket control`);
    }
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const from = `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? 0}`;
    try {
      const path = (req.url ?? '/').split('?')[0] as string;
      log().debug({ from, method: req.method, path }, 'HTTP request');
      if (req.method === 'OPTIONS') return this.send(res, 200, null, '');
      if (req.method === 'GET') return await this.get(res, path);
      if (req.method === 'POST') return await this.post(req, res, path, from);
      res.setHeader('Allow', 'GET, POST, OPTIONS');
      throw new HttpError(405, 'method not allowed');
    } catch (err) {
      if (err instanceof HttpError) {
        log().info({ from, method: req.method, url: req.url?.slice(0, 200), status: err.status, reason: err.message }, 'HTTP request refused');
        if (err.close) res.setHeader('Connection', 'close');
        this.send(res, err.status, CT_TEXT, `${err.message}\n`);
        if (err.close) req.socket.end();
      } else {
        log().error({ from, err: err instanceof Error ? err.message : String(err) }, 'HTTP request failed');
        if (!res.headersSent) this.send(res, 500, CT_TEXT, 'internal error\n');
        else res.destroy();
      }
    }
  }

  private async get(res: ServerResponse, path: string): Promise<void> {
    if (path === '/ping') return this.send(res, 200, CT_TEXT, 'pong\n');
    if (path === '/metrics') return this.send(res, 200, this.deps.metrics.contentType, await this.deps.metrics.render());
    if (path.startsWith('/cli/')) {
      let line: string;
      try {
        line = decodeURIComponent(path.slice(5));
      } catch {
        throw new HttpError(400, 'bad URL encoding');
      }
      return this.send(res, 200, CT_TEXT, await this.deps.cli.execute(line.trim()));
    }
    throw new HttpError(404, 'not found');
  }

  private async post(req: IncomingMessage, res: ServerResponse, path: string, from: string): Promise<void> {
    const allowed: Record<string, readonly string[]> = { '/ng': [CT_NG], '/ng-plain': [CT_NG, CT_JSON], '/cli': [CT_TEXT] };
    const types = allowed[path];
    if (!types) throw new HttpError(404, 'not found', true);
    const contentType = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
    if (!types.includes(contentType)) throw new HttpError(415, `unsupported content type (expected ${types.join(' or ')})`, true);
    const body = await this.readBody(req);
    if (path === '/ng') {
      const reply = await this.deps.dispatcher.handleMessage(body, from);
      if (!reply) return this.send(res, 600, CT_TEXT, 'error\n');
      return this.send(res, 200, CT_NG, reply);
    }
    if (path === '/ng-plain') return this.send(res, 200, CT_NG, await this.deps.dispatcher.process(body, from));
    return this.send(res, 200, CT_TEXT, await this.deps.cli.execute(body.toString('utf8').trim()));
  }

  private readBody(req: IncomingMessage): Promise<Buffer> {
    const max = this.deps.limits.maxMessage;
    const lengthHeader = req.headers['content-length'];
    if (lengthHeader === undefined) return Promise.reject(new HttpError(411, 'Content-Length required', true));
    const length = Number(lengthHeader);
    if (!Number.isSafeInteger(length) || length < 0) return Promise.reject(new HttpError(400, 'bad Content-Length', true));
    if (length > max) return Promise.reject(new HttpError(413, `body over ${max} bytes`, true));
    return new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > max) {
          req.destroy();
          reject(new HttpError(413, `body over ${max} bytes`, true));
        } else chunks.push(chunk);
      });
      req.on('end', () => resolve(Buffer.concat(chunks)));
      req.on('error', (err) => reject(new HttpError(400, err.message, true)));
    });
  }

  private send(res: ServerResponse, status: number, contentType: string | null, body: string | Buffer): void {
    if (res.headersSent || res.destroyed) return;
    const payload = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    res.writeHead(status, {
      ...(contentType ? { 'Content-Type': contentType } : {}),
      'Content-Length': String(payload.length),
      ...CORS_HEADERS,
    });
    res.end(payload);
  }

  close(): void {
    for (const s of this.servers) s.close();
    this.servers.length = 0;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    this.ws.close();
  }
}
