/**
 * The CLI's commands (rtpengine's cli.c without its socket), shared by every transport that
 * carries them: the TCP CLI (-c), HTTP `GET /cli/…` and `POST /cli`, the WebSocket
 * subprotocol `cli.rtpengine.com` and the ng command `cli`. The commands an operator needs day
 * to day: session counts and lists, one call's details, totals, the session limit (0 drains),
 * terminating calls, the log level, and our leak summary.
 */
import type { Config } from '../config/config.js';
import type { CallHash } from '../call/callhash.js';
import type { Call } from '../call/call.js';
import { streamStats } from '../call/stream-stats.js';
import type { LeakRegistry } from '../leak/registry.js';
import { getSyslogLevel, log, setSyslogLevel } from '../log/logger.js';
import type { StatsSnapshot } from '../stats/snapshot.js';
import { cliTotals } from '../stats/statistics.js';

export interface CliContext {
  calls: CallHash;
  config: Config;
  leaks: LeakRegistry;
  snapshot: () => StatsSnapshot;
}

const secs = (ms: number) => Math.floor(ms / 1000);

function sessionLine(call: Call): string {
  return `callid: ${call.callId} | deletionmark: ${call.deleteTimer ? 'yes' : 'no'} | created: ${secs(call.created)} | ` +
    `last_signal: ${secs(call.lastSignal)} | foreign: no\n`;
}

function callDetails(call: Call): string {
  const lines = [`\n${sessionLine(call).trimEnd()}`];
  for (const m of call.monologues) {
    lines.push(`--- Tag '${m.tag}'${m.label ? `, label '${m.label}'` : ''}, created ${secs(m.created)}, in dialogue with '${m.peer()?.tag ?? ''}'`);
    for (const media of [...m.medias].sort((a, b) => a.index - b.index)) {
      lines.push(`------ Media #${media.index} (${media.type} over ${media.protocol})${media.rtcpMux ? ' using RTCP-mux' : ''}${media.rejected ? ' rejected' : ''}`);
      for (const stream of [media.rtp, media.rtcp]) {
        const fd = stream.selectedFd;
        const ep = stream.endpoint;
        const st = streamStats(stream, call.ctx);
        lines.push(`-------- Port ${fd ? `${fd.local.address}:${fd.localPort}` : '(none)'} <> ${ep ? `${ep.address}:${ep.port}` : '(unknown)'}` +
          `${stream.isRtcp ? ' (RTCP)' : ''}, ${st.packets} p, ${st.bytes} b, ${st.errors} e, last packet ${secs(st.lastPacketMs)}` +
          `${stream.kernelized ? ', kernelized' : ''}`);
      }
    }
  }
  return `${lines.join('\n')}\n`;
}

export class CliCommands {
  constructor(private readonly ctx: CliContext) {}

  /** Runs one CLI command line and returns its output (never rejects). */
  async execute(line: string): Promise<string> {
    const words = line.split(/\s+/).filter((w) => w !== '');
    const [verb, what, arg] = words;
    try {
      if (verb === 'list') return this.list(what, arg, words.slice(2).join(' '));
      if (verb === 'terminate' && what) return await this.terminate(what);
      if (verb === 'set' && what === 'maxsessions' && arg !== undefined) return this.setMaxSessions(arg);
      if (verb === 'set' && what === 'loglevel' && arg !== undefined) return this.setLogLevel(words[words.length - 1] as string);
      if (verb === 'get' && what === 'loglevel') return `Log level: ${getSyslogLevel()}\n`;
    } catch (err) {
      log().error({ line, err: err instanceof Error ? err.message : String(err) }, 'CLI command failed');
      return 'Internal error.\n';
    }
    return `Unknown or incomplete command: ${line}\n`;
  }

  private list(what: string | undefined, arg: string | undefined, rest: string): string {
    const calls = this.ctx.calls;
    switch (what) {
      case 'numsessions':
        return `Current sessions own: ${calls.size}\nCurrent sessions foreign: 0\nCurrent sessions total: ${calls.size}\nCurrent transcoded media: 0\n`;
      case 'sessions': {
        const all = calls.all();
        if (all.length === 0) return 'No sessions on this media relay.\n';
        const limit = arg === undefined || arg === 'all' ? all.length : Number(arg);
        if (!Number.isInteger(limit) || limit < 0) return `Invalid session count: ${arg}\n`;
        return all.slice(0, limit).map(sessionLine).join('');
      }
      case 'callid': {
        const call = rest ? calls.get(rest) : undefined;
        return call ? callDetails(call) : `Call id not found (${rest}).\n`;
      }
      case 'totals':
        return cliTotals(this.ctx.snapshot());
      case 'maxsessions':
        return `Maximum sessions configured on rtpengine: ${this.ctx.config.maxSessions}\n`;
      case 'loglevel':
        return `Log level: ${getSyslogLevel()}\n`;
      case 'leaks':
        return `${this.ctx.leaks.summaryText()}\n`;
      default:
        return `Unknown or incomplete command: list ${what ?? ''}\n`;
    }
  }

  /** Answers once the calls are gone: each teardown waits for the command holding its call. */
  private async terminate(what: string): Promise<string> {
    const calls = this.ctx.calls;
    if (what === 'all') {
      const all = calls.all();
      await Promise.all(all.map((call) => calls.teardown(call, 'terminated')));
      return `All calls terminated by operator (${all.length}).\n`;
    }
    const call = calls.get(what);
    if (!call) return `Call Id (${what}) not found.\n`;
    await calls.teardown(call, 'terminated');
    return `Call Id (${what}) successfully terminated by operator.\n`;
  }

  private setMaxSessions(value: string): string {
    if (!/^-?\d+$/.test(value) || Number(value) < -1) return `Invalid maxsessions value: ${value}\n`;
    this.ctx.config.maxSessions = Number(value);
    return Number(value) === -1 ? 'Max sessions set to unlimited.\n' : `Max sessions set to ${value}.\n`;
  }

  private setLogLevel(value: string): string {
    if (!/^[0-7]$/.test(value)) return `Invalid log level: ${value}\n`;
    setSyslogLevel(Number(value));
    return `Success setting loglevel to ${value}\n`;
  }

}
