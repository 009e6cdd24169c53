/**
 * The ng command table, written once: it drives dispatch, the per-command counters in the
 * `statistics` reply and their names. `supported: false` are rtpengine commands this daemon
 * knows by name but does not implement yet; they get a clear error reply.
 */
export const NG_COMMANDS = [
  { name: 'ping', supported: true },
  { name: 'offer', supported: true },
  { name: 'answer', supported: true },
  { name: 'delete', supported: true },
  { name: 'query', supported: true },
  { name: 'list', supported: true },
  { name: 'statistics', supported: true },
  { name: 'leak-report', supported: true },
  { name: 'leak-stacks', supported: true },
  { name: 'start recording', supported: false },
  { name: 'stop recording', supported: false },
  { name: 'pause recording', supported: false },
  { name: 'start forwarding', supported: false },
  { name: 'stop forwarding', supported: false },
  { name: 'block DTMF', supported: false },
  { name: 'unblock DTMF', supported: false },
  { name: 'block media', supported: false },
  { name: 'unblock media', supported: false },
  { name: 'silence media', supported: false },
  { name: 'unsilence media', supported: false },
  { name: 'play media', supported: false },
  { name: 'stop media', supported: false },
  { name: 'play DTMF', supported: false },
  { name: 'publish', supported: true },
  { name: 'subscribe request', supported: true },
  { name: 'subscribe answer', supported: true },
  { name: 'unsubscribe', supported: true },
  { name: 'connect', supported: true },
  { name: 'create', supported: false },
  { name: 'create answer', supported: false },
] as const;

export type NgCommandName = (typeof NG_COMMANDS)[number]['name'];
export type SupportedCommand = Extract<(typeof NG_COMMANDS)[number], { supported: true }>['name'];

const BY_NAME = new Map<string, (typeof NG_COMMANDS)[number]>(NG_COMMANDS.map((c) => [c.name, c]));

/** Command strings match byte-exactly (no case folding, no trimming), as rtpengine's do. */
export function lookupCommand(name: string): (typeof NG_COMMANDS)[number] | undefined {
  return BY_NAME.get(name);
}

export interface CommandCounter {
  count: number;
  errors: number;
  totalMs: number;
}

export class CommandCounters {
  readonly byCommand = new Map<string, CommandCounter>(NG_COMMANDS.map((c) => [c.name, { count: 0, errors: 0, totalMs: 0 }]));

  record(name: string, ms: number, failed: boolean): void {
    const c = this.byCommand.get(name);
    if (!c) return;
    c.count++;
    c.totalMs += ms;
    if (failed) c.errors++;
  }
}
