/**
 * pino, with rtpengine's syslog-style levels (0-7) on top. Lines about a call carry `callId`
 * (and `tag`) through child loggers made by `callLogger()`. SIGUSR1/SIGUSR2 move the level.
 */
import { createRequire } from 'node:module';
import { pino, type Logger } from 'pino';
import type PinoPretty from 'pino-pretty';

export type { Logger };

/** syslog level → pino level name. 5 (notice) has no pino twin and maps to info. */
const SYSLOG_TO_PINO = ['fatal', 'fatal', 'fatal', 'error', 'warn', 'info', 'info', 'debug'] as const;

let syslogLevel = 6;
let root: Logger = pino({ level: 'info' }, pino.destination({ fd: 2, sync: true }));

export function initLogger(level: number, format: 'json' | 'pretty'): Logger {
  syslogLevel = level;
  const options = { level: SYSLOG_TO_PINO[level] ?? 'info', base: { pid: process.pid } };
  // pino-pretty (~0.5 MB of heap) is loaded only for --log-format=pretty, not for the default json
  root = format === 'pretty'
    ? pino(options, (createRequire(import.meta.url)('pino-pretty') as typeof PinoPretty)({ destination: 2, sync: true, colorize: false, translateTime: 'SYS:standard' }))
    : pino(options, pino.destination({ fd: 2, sync: true }));
  return root;
}

export function log(): Logger {
  return root;
}

type LogFn = (objOrMsg: object | string, msg?: string) => void;
type LevelName = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

/** What callers of `callLogger()` use: the level methods of a pino logger. */
export type CallLog = Record<LevelName, LogFn>;

/**
 * A call's logger. A pino child serialises its bindings when it is made, which cost every
 * command its share of a child even when the line was then dropped ('Creating new call' at
 * info under -L 4): the child is made only for a line whose level is on.
 */
class LazyCallLog implements CallLog {
  constructor(private readonly callId: string, private readonly tag: string | undefined) {}

  private emit(level: LevelName, objOrMsg: object | string, msg?: string): void {
    if (!root.isLevelEnabled(level)) return;
    const child = this.tag === undefined ? root.child({ callId: this.callId }) : root.child({ callId: this.callId, tag: this.tag });
    if (typeof objOrMsg === 'string') child[level](objOrMsg);
    else child[level](objOrMsg, msg);
  }

  fatal(o: object | string, m?: string): void { this.emit('fatal', o, m); }
  error(o: object | string, m?: string): void { this.emit('error', o, m); }
  warn(o: object | string, m?: string): void { this.emit('warn', o, m); }
  info(o: object | string, m?: string): void { this.emit('info', o, m); }
  debug(o: object | string, m?: string): void { this.emit('debug', o, m); }
  trace(o: object | string, m?: string): void { this.emit('trace', o, m); }
}

export function callLogger(callId: string, tag?: string): CallLog {
  return new LazyCallLog(callId, tag);
}

export function getSyslogLevel(): number {
  return syslogLevel;
}

/** SIGUSR1 lowers (delta -1), SIGUSR2 raises (+1), as in rtpengine. */
export function shiftLogLevel(delta: number): number {
  syslogLevel = Math.min(7, Math.max(0, syslogLevel + delta));
  root.level = SYSLOG_TO_PINO[syslogLevel] ?? 'info';
  return syslogLevel;
}

/** The CLI's `set loglevel N`. */
export function setSyslogLevel(level: number): void {
  shiftLogLevel(level - syslogLevel);
}
