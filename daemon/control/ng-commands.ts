/**
 * The ng command table, written once: it drives dispatch, the per-command counters in the
 * `statistics` reply and their names. `supported: false` are rtpengine commands this daemon
 * knows by name but does not implement yet; they get a clear error reply.
 */
export const NG_COMMANDS = [
  { name: 'ping', short: 'Ping', supported: true },
  { name: 'offer', short: 'Offer', supported: true },
  { name: 'answer', short: 'Answer', supported: true },
  { name: 'delete', short: 'Delete', supported: true },
  { name: 'query', short: 'Query', supported: true },
  { name: 'list', short: 'List', supported: true },
  { name: 'statistics', short: 'Stats', supported: true },
  { name: 'leak-report', short: 'LeakReport', supported: true },
  { name: 'leak-stacks', short: 'LeakStacks', supported: true },
  { name: 'start recording', short: 'StartRec', supported: false },
  { name: 'stop recording', short: 'StopRec', supported: false },
  { name: 'pause recording', short: 'PauseRec', supported: false },
  { name: 'start forwarding', short: 'StartFwd', supported: true },
  { name: 'stop forwarding', short: 'StopFwd', supported: true },
  { name: 'block DTMF', short: 'BlkDTMF', supported: true },
  { name: 'unblock DTMF', short: 'UnblkDTMF', supported: true },
  { name: 'block media', short: 'BlkMedia', supported: true },
  { name: 'unblock media', short: 'UnblkMedia', supported: true },
  { name: 'silence media', short: 'SlnMedia', supported: true },
  { name: 'unsilence media', short: 'UnslnMedia', supported: true },
  { name: 'play media', short: 'PlayMedia', supported: true },
  { name: 'stop media', short: 'StopMedia', supported: true },
  { name: 'play DTMF', short: 'PlayDTMF', supported: true },
  { name: 'publish', short: 'Pub', supported: true },
  { name: 'subscribe request', short: 'SubReq', supported: true },
  { name: 'subscribe answer', short: 'SubAns', supported: true },
  { name: 'unsubscribe', short: 'Unsub', supported: true },
  { name: 'connect', short: 'Conn', supported: true },
  { name: 'cli', short: 'CLI', supported: true },
  { name: 'create', short: 'Create', supported: true },
  { name: 'create answer', short: 'CreateAns', supported: true },
  { name: 'mesh', short: 'Mesh', supported: true },
] as const;

export type NgCommandName = (typeof NG_COMMANDS)[number]['name'];
export type SupportedCommand = Extract<(typeof NG_COMMANDS)[number], { supported: true }>['name'];

const BY_NAME = new Map<string, (typeof NG_COMMANDS)[number]>(NG_COMMANDS.map((c) => [c.name, c]));

/** Command strings match byte-exactly (no case folding, no trimming), as rtpengine's do. */
export function lookupCommand(name: string): (typeof NG_COMMANDS)[number] | undefined {
  return BY_NAME.get(name === 'CLI' ? 'cli' : name);
}

export interface CommandCounter {
  count: number;
  errors: number;
  totalMs: number;
}

/** More distinct proxies than this are counted together under "other" (bounded memory). */
const MAX_PROXIES = 1000;

/** The proxy of a transport's `from` (`ADDR:PORT`, `[ADDR]:PORT` or a name): its address. */
function count(c: CommandCounter | undefined, ms: number, failed: boolean): void {
  if (!c) return;
  c.count++;
  c.totalMs += ms;
  if (failed) c.errors++;
}

export function proxyAddress(from: string): string {
  // by hand, not with regular expressions (two per command were ~1 % of a command's CPU): the
  // last `:` followed only by digits ends the address; `[…]` around it is dropped
  const colon = from.lastIndexOf(':');
  if (colon < 0 || colon === from.length - 1) return from;
  for (let i = colon + 1; i < from.length; i++) {
    const c = from.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return from;
  }
  if (colon >= 2 && from.charCodeAt(0) === 0x5b /* [ */ && from.charCodeAt(colon - 1) === 0x5d /* ] */) return from.slice(1, colon - 1);
  return from.slice(0, colon);
}

/**
 * Per-command counters, overall and per proxy (rtpengine's control_ng_stats keyed by source
 * address): count, errors and processing time of each command.
 */
export class CommandCounters {
  readonly byCommand = new Map<string, CommandCounter>(NG_COMMANDS.map((c) => [c.name, { count: 0, errors: 0, totalMs: 0 }]));
  readonly byProxy = new Map<string, { commands: Map<string, CommandCounter>; errors: number }>();

  record(name: string, ms: number, failed: boolean, from = 'local'): void {
    const proxy = this.proxy(from);
    if (failed) proxy.errors++;
    const entry = lookupCommand(name);
    if (!entry) return;
    count(this.byCommand.get(entry.name), ms, failed);
    count(this.perProxy(proxy, entry.name), ms, failed);
  }

  /** The last source and its counters: a proxy sends command after command from one address. */
  private lastFrom = '';
  private lastProxy: { commands: Map<string, CommandCounter>; errors: number } | null = null;

  private proxy(from: string): { commands: Map<string, CommandCounter>; errors: number } {
    if (from === this.lastFrom && this.lastProxy) return this.lastProxy;
    const p = this.proxyOf(from);
    this.lastFrom = from;
    this.lastProxy = p;
    return p;
  }

  private proxyOf(from: string): { commands: Map<string, CommandCounter>; errors: number } {
    let key = proxyAddress(from);
    if (!this.byProxy.has(key) && this.byProxy.size >= MAX_PROXIES) key = 'other';
    let p = this.byProxy.get(key);
    if (!p) {
      p = { commands: new Map(), errors: 0 };
      this.byProxy.set(key, p);
    }
    return p;
  }

  private perProxy(proxy: { commands: Map<string, CommandCounter> }, name: string): CommandCounter {
    let c = proxy.commands.get(name);
    if (!c) {
      c = { count: 0, errors: 0, totalMs: 0 };
      proxy.commands.set(name, c);
    }
    return c;
  }
}
