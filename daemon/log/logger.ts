/**
 * pino, with rtpengine's syslog-style levels (0-7) on top. Lines about a call carry `callId`
 * (and `tag`) through child loggers made by `callLogger()`. SIGUSR1/SIGUSR2 move the level.
 */
import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

/** syslog level → pino level name. 5 (notice) has no pino twin and maps to info. */
const SYSLOG_TO_PINO = ['fatal', 'fatal', 'fatal', 'error', 'warn', 'info', 'info', 'debug'] as const;

let syslogLevel = 6;
let root: Logger = pino({ level: 'info' }, pino.destination({ fd: 2, sync: true }));

export function initLogger(level: number, format: 'json' | 'pretty'): Logger {
  syslogLevel = level;
  const options = { level: SYSLOG_TO_PINO[level] ?? 'info', base: { pid: process.pid } };
  root = format === 'pretty'
    ? pino(options, pretty({ destination: 2, sync: true, colorize: false, translateTime: 'SYS:standard' }))
    : pino(options, pino.destination({ fd: 2, sync: true }));
  return root;
}

export function log(): Logger {
  return root;
}

export function callLogger(callId: string, tag?: string): Logger {
  return tag === undefined ? root.child({ callId }) : root.child({ callId, tag });
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
