/**
 * The Daemon: builds every room from the Config, starts the listeners, and shuts down in
 * order (stop listening → tear every call down through the leak audit → close sockets and the
 * fast path → leak summary). main.ts owns the process (arguments, signals, exit code).
 */
import { createSocket, type Socket } from 'node:dgram';
import type { Config } from './config/config.js';
import { CallHash } from './call/callhash.js';
import { CallInterfaces } from './call/call-interfaces.js';
import type { CallContext } from './call/context.js';
import { ControlCli } from './control/cli.js';
import type { NgFlags } from './call/flags.js';
import type { Reply } from './call/reply.js';
import { NgDispatcher, type NgHandlers } from './control/ng-dispatcher.js';
import { NgUdpTransport } from './control/ng-udp.js';
import { NgCommandError } from './errors.js';
import type { FastPathEngine, FastPathStatus } from './kernel/fast-path.js';
import { Kernelizer } from './kernel/kernelize.js';
import { loadFastPath } from './kernel/native-fast-path.js';
import { LeakInjector, readLeakInjection } from './leak/inject.js';
import { LeakRegistry } from './leak/registry.js';
import { isLeakType } from './leak/types.js';
import { CALLS_GAUGE } from './leak/growth.js';
import { log } from './log/logger.js';
import { dgramSocketFactory } from './net/dgram-socket.js';
import { InterfaceSet } from './net/interfaces.js';
import { readTestPause } from './net/test-pause.js';
import { whenListening } from './net/listen.js';
import { Counters } from './stats/counters.js';

export { VERSION } from './version.js';

export class Daemon {
  readonly counters = new Counters();
  readonly leaks: LeakRegistry;
  readonly interfaces: InterfaceSet;
  private engine: FastPathEngine | null = null;
  private fastPathReason = 'disabled (-t/--table is negative)';
  private ctx!: CallContext;
  calls!: CallHash;
  private control!: NgDispatcher;
  private ngUdp: NgUdpTransport | null = null;
  private cli: ControlCli | null = null;
  private readonly auxSockets: Socket[] = [];
  private growthTimer: NodeJS.Timeout | null = null;
  readonly started = Date.now();

  constructor(readonly config: Config) {
    this.leaks = new LeakRegistry(config.leakCheck, config.leakStacks);
    this.interfaces = new InterfaceSet(config.interfaces, config.portMin, config.portMax);
  }

  async start(): Promise<void> {
    const cfg = this.config;
    if (cfg.table >= 0) {
      const loaded = await loadFastPath({ threads: cfg.fastPathThreads, tos: cfg.tos ?? undefined });
      if ('unavailable' in loaded) {
        this.fastPathReason = loaded.unavailable;
        if (cfg.noFallback) throw new Error(`fast path unavailable and --no-fallback given: ${loaded.unavailable}`);
        log().warn({ reason: loaded.unavailable }, 'Fast path unavailable, forwarding on the JS path');
      } else {
        this.engine = loaded;
        this.fastPathReason = '';
        log().info({ threads: cfg.fastPathThreads }, 'Fast path enabled');
      }
    }
    const kernel = this.engine ? new Kernelizer(this.engine, this.leaks) : null;
    if (kernel) this.leaks.addHolderProbe('fast-path entries', (obj) => kernel.holds(obj));
    this.ctx = {
      config: cfg,
      interfaces: this.interfaces,
      leaks: this.leaks,
      injector: new LeakInjector(readLeakInjection()),
      counters: this.counters,
      sockets: this.engine ? this.engine.sockets : dgramSocketFactory,
      kernel,
    };
    if (this.ctx.injector.injection) log().warn({ injection: this.ctx.injector.injection }, 'TEST-ONLY leak injection is active');
    this.interfaces.allocationPause = readTestPause();
    if (this.interfaces.allocationPause) log().warn('TEST-ONLY port allocation pause point is active');
    this.calls = new CallHash(this.ctx);
    this.calls.startTimeoutSweep();
    const ci = new CallInterfaces(this.calls);
    const handlers: NgHandlers = {
      ping: () => ({}),
      offer: (f) => ci.offer(f),
      answer: (f) => ci.answer(f),
      delete: (f) => ci.delete(f),
      query: (f) => ci.query(f),
      list: (f) => ci.list(f),
      connect: (f) => ci.connect(f),
      publish: (f) => ci.publish(f),
      'subscribe request': (f) => ci.subscribeRequest(f),
      'subscribe answer': (f) => ci.subscribeAnswer(f),
      unsubscribe: (f) => ci.unsubscribe(f),
      statistics: () => this.statistics(),
      'leak-report': () => this.leakReport(),
      'leak-stacks': (f) => this.leakStacks(f),
    };
    this.control = new NgDispatcher(handlers, this.counters);
    this.ngUdp = new NgUdpTransport(this.control);
    await this.ngUdp.listen(cfg.listenNg);
    await this.bindAuxiliary();
    this.growthTimer = setInterval(() => this.sampleGrowth(), cfg.leakSampleInterval * 1000);
    this.growthTimer.unref();
    this.sampleGrowth();
  }

  /** -c serves the CLI; -u is bound (so port clashes show at start-up) though rtpproxy's protocol is not served. */
  private async bindAuxiliary(): Promise<void> {
    this.cli = new ControlCli({ calls: this.calls, config: this.config, counters: this.counters, leaks: this.leaks, started: this.started });
    await this.cli.listen(this.config.listenCli);
    const udp = this.config.listenUdp;
    if (udp) {
      const socket = createSocket(udp.address.includes(':') ? 'udp6' : 'udp4');
      await whenListening(socket, (done) => socket.bind(udp.port, udp.address, done));
      socket.on('message', (_m, r) => log().debug({ from: `${r.address}:${r.port}` }, 'legacy rtpproxy protocol not implemented; datagram ignored'));
      socket.on('error', () => undefined);
      this.auxSockets.push(socket);
      log().info({ address: udp.address, port: udp.port }, 'Legacy UDP port bound (protocol not implemented yet)');
    }
  }

  private sampleGrowth(): void {
    this.leaks.sampleGrowth({ CookieCacheEntry: this.control?.cache.size ?? 0, [CALLS_GAUGE]: this.calls?.size ?? 0 });
  }

  fastPathStatus(): FastPathStatus {
    if (this.engine) return { ...this.engine.status(), entries: this.ctx.kernel?.entryCount ?? 0 };
    return { available: false, enabled: false, reason: this.fastPathReason, threads: 0, entries: 0, sockets: 0, packets: 0, bytes: 0 };
  }

  statistics(): Reply {
    const c = this.counters.snapshot();
    const calls = this.calls.all();
    let packets = 0;
    let bytes = 0;
    let errors = 0;
    for (const call of calls) {
      const t = call.totals();
      packets += t.RTP.packets + t.RTCP.packets;
      bytes += t.RTP.bytes + t.RTCP.bytes;
      errors += t.RTP.errors + t.RTCP.errors;
    }
    const commands: Reply = {};
    for (const [name, v] of this.control.commandCounters.byCommand) {
      commands[name] = { count: v.count, errors: v.errors, 'average ms': v.count ? +(v.totalMs / v.count).toFixed(3) : 0 };
    }
    return {
      statistics: {
        currentstatistics: {
          sessionsown: calls.length,
          sessionsforeign: 0,
          sessionstotal: calls.length,
          transcodedmedia: 0,
          packets, bytes, errors,
        },
        totalstatistics: {
          uptime: Math.floor((Date.now() - this.started) / 1000),
          ...c,
          // torn-down calls are in the counters; live calls are added here
          relayedPackets: c.relayedPackets + packets,
          relayedBytes: c.relayedBytes + bytes,
          relayedErrors: c.relayedErrors + errors,
        },
        controlstatistics: { commands },
      },
      leaks: this.leaks.counters() as unknown as Reply,
      fastPath: this.fastPathStatus() as unknown as Reply,
      cookieCache: { entries: this.control.cache.size, bytes: this.control.cache.bytes },
    };
  }

  private async leakReport(): Promise<Reply> {
    await this.leaks.settle();
    const native = this.engine?.nativeLive() ?? null;
    return { ...(this.leaks.report() as unknown as Reply), native: native ?? {} };
  }

  private leakStacks(flags: NgFlags): Reply {
    const types = flags.types ?? [];
    const bad = types.filter((t) => !isLeakType(t));
    if (bad.length > 0) throw new NgCommandError('INVALID_VALUE', `unknown object type(s): ${bad.join(', ')}`);
    this.leaks.setStackTypes(types);
    log().info({ types }, 'Leak allocation stacks now recorded for these types');
    return { types };
  }

  /** Orderly shutdown; returns true when the leak check found nothing. */
  async shutdown(): Promise<boolean> {
    if (this.growthTimer) clearInterval(this.growthTimer);
    this.ngUdp?.close();
    this.control?.close();
    this.cli?.close();
    for (const s of this.auxSockets) s.close();
    // each call after the command holding it (if any) has finished: teardown takes the write lock
    await this.calls?.destroyAll('shutdown');
    await this.leaks.settle();
    if (this.engine) {
      const native = this.engine.nativeLive();
      if (native.entries > 0 || native.sockets > 0) {
        log().warn({ native }, 'leak audit: native fast-path objects still live after every call was torn down');
        this.leaks.leaked += native.entries + native.sockets;
      }
      await this.engine.close();
    }
    const summary = this.leaks.summaryText();
    if (this.config.leakCheck !== 'off') process.stderr.write(`${summary}\n`);
    return !this.leaks.hasProblems();
  }
}
