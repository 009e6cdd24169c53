/**
 * The transport-independent ng dispatcher (rtpengine's control_ng.c without its sockets):
 * `<cookie> <body>` in, `<cookie> <reply>` out. Bodies are bencode (`d…`) or JSON (`{…}`),
 * answered in the same encoding. Every cookie goes through the one cookie cache first, so a
 * retransmit over any transport is answered with the identical bytes and never executed twice.
 * A transport (ng-udp.ts, ng-tcp.ts, http.ts with its WebSocket upgrade) only moves messages
 * in and out; `process()` alone is the cookie-less `ng-plain` variant (no cache).
 *
 * This is the one place that maps thrown errors to `error-reason` replies: handlers throw,
 * they never build failure replies themselves.
 */
import { NgCommandError, NG_ERROR_REASONS } from '../errors.js';
import { log } from '../log/logger.js';
import type { Counters } from '../stats/counters.js';
import { bencodeDecode, bencodeEncode, bencodeEncodeWith, type BencodeDict, type BencodeValue, type Encodable } from './bencode.js';
import type { Reply } from '../call/reply.js';
import { parseNgFlags, type NgFlags } from './call-flags.js';
import { CookieCache } from './cookie-cache.js';
import { CommandCounters, lookupCommand, type SupportedCommand } from './ng-commands.js';

export type { Reply };
export type NgHandler = (flags: NgFlags) => Promise<Reply> | Reply;
export type NgHandlers = Record<SupportedCommand, NgHandler>;

type Encoding = 'bencode' | 'json';

function jsonToBencode(value: unknown): BencodeValue {
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  if (typeof value === 'number') return Math.trunc(value);
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (Array.isArray(value)) return value.map(jsonToBencode);
  if (value && typeof value === 'object') {
    const out: BencodeDict = Object.create(null) as BencodeDict;
    for (const [k, v] of Object.entries(value)) out[k] = jsonToBencode(v);
    return out;
  }
  return Buffer.alloc(0);
}

/** The reply body, after `prefix` (latin1: the cookie and its space), encoded once. */
function encodeReply(reply: Reply, encoding: Encoding, prefix: string): Buffer {
  if (encoding === 'bencode') return bencodeEncode(reply, prefix);
  return encodeJson(reply, prefix);
}

/** A handler's reply with `result: ok` (in the place `{ ...result, result: 'ok' }` gives it). */
function encodeOk(result: Reply, encoding: Encoding, prefix: string): Buffer {
  if (encoding === 'bencode') return bencodeEncodeWith(result, 'result', 'ok', prefix);
  return encodeJson({ ...result, result: 'ok' }, prefix);
}

function encodeJson(reply: Reply, prefix: string): Buffer {
  const json = Buffer.from(JSON.stringify(reply, (_k, v: unknown) => (Buffer.isBuffer(v) ? v.toString('utf8') : typeof v === 'bigint' ? Number(v) : v)));
  return prefix ? Buffer.concat([Buffer.from(prefix, 'latin1'), json]) : json;
}

export class NgDispatcher {
  readonly cache = new CookieCache();
  readonly commandCounters = new CommandCounters();

  constructor(
    private readonly handlers: NgHandlers,
    private readonly counters: Counters,
  ) {}

  /** Returns the full reply message, or null when the message is dropped (no cookie). */
  async handleMessage(msg: Buffer, from: string): Promise<Buffer | null> {
    const space = msg.indexOf(0x20);
    if (space <= 0) {
      this.counters.add('ngGarbage');
      log().warn({ from, bytes: msg.length }, 'Received invalid NG data (no cookie)');
      return null;
    }
    const cookie = msg.toString('latin1', 0, space);
    const body = msg.subarray(space + 1);
    const cached = this.cache.lookup(cookie);
    if (cached) {
      this.counters.add('ngDuplicates');
      log().info({ from, cookie }, 'Detected command as a duplicate');
      return cached;
    }
    // the cache holds the whole reply message (cookie included): a retransmit carries the same
    // cookie, so it is answered with these bytes as they are, without building them again
    return this.cache.run(cookie, () => this.process(body, from, `${cookie} `));
  }

  /**
   * Decodes, dispatches and encodes one body; never throws. `ng-plain` transports call it
   * directly; `prefix` (the cookie and its space) is written before the encoded reply.
   */
  async process(body: Buffer, from = 'local', prefix = ''): Promise<Buffer> {
    const encoding: Encoding = body[0] === 0x7b ? 'json' : 'bencode';
    const started = performance.now();
    let command = '';
    let failed = false;
    // a handler's own reply goes to the encoder as it is, `result: ok` added while encoding
    let reply: Reply | null = null;
    let okResult: Reply | null = null;
    let flags: NgFlags | undefined;
    try {
      flags = parseNgFlags(this.decode(body));
      command = flags.command;
      if (command === '') throw new NgCommandError('NO_COMMAND');
      const entry = lookupCommand(command);
      if (!entry) throw new NgCommandError('UNKNOWN_COMMAND');
      if (!entry.supported) throw new NgCommandError('NOT_IMPLEMENTED', command);
      // the level checks come first: building a log line's fields costs even when pino drops it
      const logger = log();
      if (logger.isLevelEnabled('debug')) logger.debug({ from, command, callId: flags.callId, tag: flags.fromTag }, `Received command '${command}'`);
      const result = await this.handlers[entry.name as SupportedCommand](flags);
      if (command === 'ping') reply = { result: 'pong' };
      else okResult = result;
      if (command !== 'ping' && command !== 'statistics' && command !== 'list' && logger.isLevelEnabled('info')) {
        logger.info({ from, command, callId: flags.callId, tag: flags.fromTag, ms: +(performance.now() - started).toFixed(3) }, `Replying to '${command}'`);
      }
    } catch (err) {
      failed = true;
      this.counters.add('ngErrors');
      reply = this.errorReply(err, body, command, flags);
    }
    this.commandCounters.record(command, performance.now() - started, failed, from);
    try {
      return okResult !== null ? encodeOk(okResult, encoding, prefix) : encodeReply(reply as Reply, encoding, prefix);
    } catch (err) {
      log().error({ command, err: err instanceof Error ? err.message : String(err) }, 'Could not encode reply');
      return encodeReply({ result: 'error', 'error-reason': NG_ERROR_REASONS.INTERNAL }, encoding, prefix);
    }
  }

  private decode(body: Buffer): BencodeDict {
    if (body.length === 0) throw new NgCommandError('NO_PAYLOAD');
    const first = body[0];
    if (first === 0x64 /* d */) {
      let value: BencodeValue;
      try {
        value = bencodeDecode(body);
      } catch (err) {
        throw new NgCommandError('BENCODE_DECODE', undefined, { cause: err });
      }
      return value as BencodeDict;
    }
    if (first === 0x7b /* { */) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(body.toString('utf8'));
      } catch (err) {
        throw new NgCommandError('JSON_PARSE', undefined, { cause: err });
      }
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new NgCommandError('JSON_DICT');
      return jsonToBencode(parsed) as BencodeDict;
    }
    throw new NgCommandError('INVALID_FORMAT');
  }

  private errorReply(err: unknown, body: Buffer, command: string, flags: NgFlags | undefined): Reply {
    const about = { command, callId: flags?.callId, tag: flags?.fromTag };
    if (err instanceof NgCommandError) {
      log().warn({ ...about, reason: err.message }, 'Protocol error');
      if (err.code === 'SESSION_LIMIT' && this.lastRequestSupportsLoadLimit(body)) {
        return { result: 'load limit', message: NG_ERROR_REASONS.SESSION_LIMIT };
      }
      return { result: 'error', 'error-reason': err.reason };
    }
    // Anything else is our bug: report it without crashing and without touching other calls.
    log().error({ ...about, err: err instanceof Error ? { message: err.message, stack: err.stack } : String(err) }, 'Internal error handling command');
    return { result: 'error', 'error-reason': NG_ERROR_REASONS.INTERNAL };
  }

  private lastRequestSupportsLoadLimit(body: Buffer): boolean {
    try {
      return supportsLoadLimit(parseNgFlags(this.decode(body)));
    } catch {
      return false;
    }
  }

  close(): void {
    this.cache.close();
  }
}

function supportsLoadLimit(flags: NgFlags): boolean {
  return flags.supports.has('load-limit');
}
