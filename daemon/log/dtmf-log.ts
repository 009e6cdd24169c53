/**
 * DTMF event logging (rtpengine's dtmf.c JSON and --dtmf-log-dest): every finished DTMF event
 * (an RFC 4733 end packet, an in-band digit `detect DTMF` found, or a digit `play DTMF`
 * generated unless --dtmf-no-log-injects) is logged with call-id and tag and, when a
 * destination is configured (--dtmf-log-dest, or the ng `DTMF-log-dest` key per call), sent as
 * one JSON object per UDP datagram with rtpengine's field names:
 *
 *   {"callid","source_tag","tags":[…],"type":"DTMF","timestamp":UNIX_SECS,"source_ip",
 *    "event","duration":MS,"volume"}
 *
 * plus our own `source` (`RFC`, `in-band`, `injected`). One unbound dgram socket per address
 * family for the whole daemon, created on first use and closed at shutdown. A send error is
 * counted, never thrown: logging must not touch the media.
 */
import { createSocket, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import { callLogger } from './logger.js';

export interface DtmfLogDest {
  address: string;
  port: number;
}

export interface DtmfLogEvent {
  callId: string;
  sourceTag: string;
  tags: readonly string[];
  sourceIp: string;
  event: number;
  durationMs: number;
  volume: number;
  ssrc: number;
  source: 'RFC' | 'in-band' | 'injected';
}

const DIGITS = '0123456789*#ABCD';

/** `ADDR:PORT`, `[V6]:PORT` or `PORT` (loopback); null when it is none of them. */
export function parseDtmfLogDest(s: string): DtmfLogDest | null {
  const t = s.trim();
  let address = '127.0.0.1';
  let port: string;
  const v6 = /^\[([^\]]+)\]:(\d+)$/.exec(t);
  if (v6) {
    address = v6[1] as string;
    port = v6[2] as string;
  } else if (/^\d+$/.test(t)) port = t;
  else {
    const i = t.lastIndexOf(':');
    if (i <= 0) return null;
    address = t.slice(0, i);
    port = t.slice(i + 1);
  }
  const p = Number(port);
  if (!/^\d+$/.test(port) || p < 1 || p > 65535 || isIP(address) === 0) return null;
  return { address, port: p };
}

/** The log line of one event (call-id and tag through the call logger). */
export function logDtmfEvent(ev: DtmfLogEvent): void {
  const digit = DIGITS[ev.event] ?? '?';
  callLogger(ev.callId, ev.sourceTag).info({
    dtmf: { event: ev.event, digit, duration: ev.durationMs, volume: ev.volume, ssrc: ev.ssrc, source: ev.source, sourceIp: ev.sourceIp },
  }, `DTMF event '${digit}' (${ev.source})`);
}

export class DtmfLogger {
  private readonly sockets: { 4: Socket | null; 6: Socket | null } = { 4: null, 6: null };
  private closed = false;
  sent = 0;
  sendErrors = 0;

  constructor(
    /** --dtmf-log-dest (null: only a call's own `DTMF-log-dest` sends). */
    readonly dest: DtmfLogDest | null,
    /** --dtmf-no-log-injects: digits `play DTMF` generates are neither logged nor sent. */
    readonly logInjects = true,
  ) {}

  /** Logs one event and sends it to the call's destination, else the daemon's. */
  report(ev: DtmfLogEvent, callDest: DtmfLogDest | null): void {
    if (ev.source === 'injected' && !this.logInjects) return;
    logDtmfEvent(ev);
    const dest = callDest ?? this.dest;
    if (dest === null || this.closed) return;
    const json = JSON.stringify({
      callid: ev.callId,
      source_tag: ev.sourceTag,
      tags: ev.tags,
      type: 'DTMF',
      timestamp: Math.floor(Date.now() / 1000),
      source_ip: ev.sourceIp,
      event: ev.event,
      duration: ev.durationMs,
      volume: ev.volume,
      source: ev.source,
    });
    const family = isIP(dest.address) === 6 ? 6 : 4;
    let sock = this.sockets[family];
    if (sock === null) {
      sock = createSocket(family === 6 ? 'udp6' : 'udp4');
      sock.on('error', () => { this.sendErrors++; });
      sock.unref();
      this.sockets[family] = sock;
    }
    sock.send(json, dest.port, dest.address, (err) => {
      if (err) this.sendErrors++;
      else this.sent++;
    });
  }

  close(): void {
    this.closed = true;
    for (const f of [4, 6] as const) {
      this.sockets[f]?.close();
      this.sockets[f] = null;
    }
  }
}
