/**
 * The I/O floor of the ng command path (bench/churn --one-core --floor): the daemon's own ng
 * transport, dispatcher (cookie cache, bencode, flag parsing, counters) and media-socket I/O,
 * with an empty call model in place of the real one. An offer or answer opens the daemon's
 * RTP/RTCP socket pair on the address family of the request and answers with the request's SDP
 * (a reply of the same size class as the daemon's); a delete closes the call's sockets. No SDP
 * parse or rewrite, no codec negotiation, no call objects, no leak registry.
 *
 * What this process costs per offer/answer/delete cycle is a lower bound on what the daemon can
 * cost with these parts: the rest of the daemon's CPU per cycle is its call logic.
 *
 * Usage (spawned by bench/lib/one-core.ts): node dist/bench/lib/io-floor-server.js NG_PORT MIN MAX
 * Prints "ready" once listening; stops on SIGTERM.
 */
import { NG_COMMANDS, type SupportedCommand } from '../../daemon/control/ng-commands.js';
import { NgDispatcher, type NgHandler, type NgHandlers } from '../../daemon/control/ng-dispatcher.js';
import { NgUdpTransport } from '../../daemon/control/ng-udp.js';
import { NgCommandError } from '../../daemon/errors.js';
import { loadFastPath } from '../../daemon/kernel/native-fast-path.js';
import { nativeNgListeners } from '../../daemon/kernel/native-ng.js';
import { initLogger } from '../../daemon/log/logger.js';
import { Counters } from '../../daemon/stats/counters.js';

const [ngPort, min, max] = process.argv.slice(2).map(Number);
if (!ngPort || !min || !max) throw new Error('usage: io-floor-server NG_PORT MIN MAX');

initLogger(4, 'json'); // the benches run the daemon with -L 4 too: per-command info lines are off

const loaded = await loadFastPath({ threads: 1, ioOnly: true });
if ('unavailable' in loaded) throw new Error(`the addon is unavailable: ${loaded.unavailable}`);
const engine = loaded;

type Sock = ReturnType<typeof engine.openSocket>;
const calls = new Map<string, Sock[]>();
const nextPort = { 4: min, 6: min };
const ignore = () => {};

/** The next free even port of the family's range (each family has its own, as in the daemon). */
function openPair(family: 4 | 6, into: Sock[]): void {
  const address = family === 6 ? '::1' : '127.0.0.1';
  for (let tries = 0; tries < (max - min) / 2; tries++) {
    const port = nextPort[family];
    nextPort[family] = port + 2 > max - 1 ? min : port + 2;
    try {
      into.push(...engine.openPair(address, port, family, ignore, ignore)); // as the daemon's openPair
      return;
    } catch {
      // taken: the next pair (a failed pair leaves neither port open)
    }
  }
  throw new NgCommandError('NO_PORTS');
}

const media: NgHandler = (flags) => {
  const callId = flags.callId ?? '';
  const socks = calls.get(callId) ?? [];
  calls.set(callId, socks);
  openPair(flags.addressFamily === 6 ? 6 : 4, socks);
  return { sdp: flags.sdp ?? '' };
};
const unsupported: NgHandler = () => {
  throw new NgCommandError('NOT_IMPLEMENTED', 'not part of the I/O floor');
};
const handlers = Object.fromEntries(NG_COMMANDS.filter((c) => c.supported).map((c) => [c.name, unsupported])) as NgHandlers;
Object.assign(handlers, {
  ping: () => ({ result: 'pong' }),
  offer: media,
  answer: media,
  delete: (flags) => {
    const callId = flags.callId ?? '';
    for (const s of calls.get(callId) ?? []) engine.closeSocket(s);
    calls.delete(callId);
    return {};
  },
} satisfies Partial<Record<SupportedCommand, NgHandler>>);

// the ng sockets the daemon uses when the addon is loaded (kernel/native-ng.ts)
const ngListeners = nativeNgListeners();
if (!ngListeners) throw new Error('the addon has no ng listener');
const transport = new NgUdpTransport(new NgDispatcher(handlers, new Counters()), ngListeners);
await transport.listen([{ address: '127.0.0.1', port: ngPort }]);
process.on('SIGTERM', () => {
  transport.close();
  for (const socks of calls.values()) for (const s of socks) engine.closeSocket(s);
  void engine.close().then(() => process.exit(0));
});
console.log('ready');
