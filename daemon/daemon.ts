/**
 * The Daemon: builds every room from the Config, starts the listeners, and shuts down in
 * order (stop listening → tear every call down through the leak audit → close sockets and the
 * fast path → leak summary). main.ts owns the process (arguments, signals, exit code).
 */
import type { Config } from './config/config.js';
import { AllocationsInFlight } from './call/allocations-in-flight.js';
import { CallHash } from './call/callhash.js';
import { CallInterfaces } from './call/call-interfaces.js';
import type { CallContext, DtlsContext } from './call/context.js';
import { ControlCli } from './control/cli.js';
import { CliCommands } from './control/cli-commands.js';
import { LegacyUdpControl } from './control/control-udp.js';
import type { HttpControl } from './control/http.js';
import { DEFAULT_STREAM_LIMITS, NgTcpTransport, type StreamLimits } from './control/ng-tcp.js';
import { NG_COMMANDS } from './control/ng-commands.js';
import type { NgFlags } from './call/flags.js';
import type { Reply } from './call/reply.js';
import { NgDispatcher, type NgHandlers } from './control/ng-dispatcher.js';
import { NgUdpTransport } from './control/ng-udp.js';
import { NgCommandError } from './errors.js';
import type { FastPathEngine, FastPathStatus } from './kernel/fast-path.js';
import { Kernelizer } from './kernel/kernelize.js';
import { nativeMemoryHooks } from './kernel/native-addon.js';
import { loadFastPath, type NativeFastPathStatus } from './kernel/native-fast-path.js';
import { nativeNgListeners } from './kernel/native-ng.js';
import { dgramListeners } from './net/datagram-listener.js';
import { DtlsCertificates } from './crypto/dtls-cert.js';
import { createLeakRegistry, readLeakInjection } from './leak/inject.js';
import type { LeakRegistry } from './leak/registry.js';
import { MemoryReturn } from './leak/memory-return.js';
import { isLeakType } from './leak/types.js';
import { CALLS_GAUGE } from './leak/growth.js';
import { log } from './log/logger.js';
import { dgramSocketFactory } from './net/dgram-socket.js';
import { InterfaceSet } from './net/interfaces.js';
import { readTestPause } from './net/test-pause.js';
import { DtmfLogger } from './log/dtmf-log.js';
import { Counters } from './stats/counters.js';
import type { PrometheusExporter } from './stats/prometheus.js';
import type { StatsSnapshot } from './stats/snapshot.js';
import { statisticsTree } from './stats/statistics.js';

export { VERSION } from './version.js';

export class Daemon {
  readonly counters = new Counters();
  readonly leaks: LeakRegistry;
  readonly interfaces: InterfaceSet;
  private engine: FastPathEngine | null = null;
  /** The addon as the JS path's socket layer only (no forwarding table): -t -1 with the addon built. */
  private mediaIo: FastPathEngine | null = null;
  private fastPathReason = 'disabled (-t/--table is negative)';
  private ctx!: CallContext;
  calls!: CallHash;
  private control!: NgDispatcher;
  private ngUdp: NgUdpTransport | null = null;
  private ngTcp: NgTcpTransport | null = null;
  private http: HttpControl | null = null;
  private legacyUdp: LegacyUdpControl | null = null;
  private cli: ControlCli | null = null;
  private cliCommands!: CliCommands;
  private metrics: PrometheusExporter | null = null;
  private growthTimer: NodeJS.Timeout | null = null;
  private dtlsCerts: DtlsCertificates | null = null;
  private memoryReturn: MemoryReturn | null = null;
  readonly started = Date.now();

  constructor(readonly config: Config) {
    this.leaks = createLeakRegistry(config.leakCheck, config.leakStacks, readLeakInjection());
    this.interfaces = new InterfaceSet(config.interfaces, config.portMin, config.portMax, config.interfaceAliases);
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
        loaded.batcher.onSendErrors = (n) => this.counters.add('sendErrors', n);
        this.engine = loaded;
        this.fastPathReason = '';
        log().info({ threads: cfg.fastPathThreads }, 'Fast path enabled');
      }
    }
    if (!this.engine && cfg.mediaSockets !== 'dgram') await this.loadMediaIo(cfg.table >= 0);
    const kernel = this.engine ? new Kernelizer(this.engine, this.leaks) : null;
    if (kernel) this.leaks.addHolderProbe('fast-path entries', (obj) => kernel.holds(obj));
    this.ctx = {
      config: cfg,
      interfaces: this.interfaces,
      leaks: this.leaks,
      counters: this.counters,
      sockets: this.engine?.sockets ?? this.mediaIo?.sockets ?? dgramSocketFactory,
      kernel,
      native: this.engine ?? this.mediaIo,
      allocations: new AllocationsInFlight(),
      dtls: this.startDtls(),
      dtmfLog: new DtmfLogger(cfg.dtmfLogDest, !cfg.dtmfNoLogInjects),
    };
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
      mesh: (f) => ci.mesh(f),
      create: (f) => ci.create(f),
      'create answer': (f) => ci.createAnswer(f),
      publish: (f) => ci.publish(f),
      'subscribe request': (f) => ci.subscribeRequest(f),
      'subscribe answer': (f) => ci.subscribeAnswer(f),
      unsubscribe: (f) => ci.unsubscribe(f),
      'block DTMF': (f) => ci.mediaControl(f, 'blockDtmf', true),
      'unblock DTMF': (f) => ci.mediaControl(f, 'blockDtmf', false),
      'block media': (f) => ci.mediaControl(f, 'blockMedia', true),
      'unblock media': (f) => ci.mediaControl(f, 'blockMedia', false),
      'silence media': (f) => ci.mediaControl(f, 'silence', true),
      'unsilence media': (f) => ci.mediaControl(f, 'silence', false),
      'play DTMF': (f) => ci.playDtmf(f),
      'play media': (f) => ci.playMedia(f),
      'stop media': (f) => ci.stopMedia(f),
      'start forwarding': (f) => ci.forwarding(f, true),
      'stop forwarding': (f) => ci.forwarding(f, false),
      statistics: () => this.statistics(),
      'leak-report': () => this.leakReport(),
      'leak-stacks': (f) => this.leakStacks(f),
      cli: async (f) => ({ response: await this.cliCommands.execute((f.body ?? '').trim()) }),
    };
    this.control = new NgDispatcher(handlers, this.counters);
    this.cliCommands = new CliCommands({ calls: this.calls, config: cfg, leaks: this.leaks, snapshot: () => this.statsSnapshot() });
    // with the addon loaded for media, ng over UDP goes through it too (batched reads and replies)
    this.ngUdp = new NgUdpTransport(this.control, ((this.engine ?? this.mediaIo) && nativeNgListeners()) || dgramListeners);
    await this.ngUdp.listen(cfg.listenNg);
    await this.bindAuxiliary(ci);
    this.growthTimer = setInterval(() => this.sampleGrowth(), cfg.leakSampleInterval * 1000);
    this.growthTimer.unref();
    this.sampleGrowth();
    // with the addon loaded: heap and malloc pages go back to the system once calls are gone
    const hooks = nativeMemoryHooks();
    if (hooks) {
      this.memoryReturn = new MemoryReturn(() => this.leaks.activity, hooks);
      this.memoryReturn.start();
    }
  }

  /**
   * Without the forwarding table (-t -1, or the fast path unavailable) the addon still owns the
   * media sockets when it loads: the JS thread reads them with recvmmsg when libuv finds them
   * readable and handles one batch per call, and sends in batches (docs/fast-path.md, "JS-path
   * I/O"). No forwarding thread runs and no entry is ever set, so
   * every packet takes the JS path. Node's dgram stays the fallback (`--media-sockets=dgram`).
   */
  private async loadMediaIo(tableFailed: boolean): Promise<void> {
    const cfg = this.config;
    if (tableFailed) {
      // the addon did not load for the fast path: it will not load for I/O either
      if (cfg.mediaSockets === 'native') throw new Error(`--media-sockets=native: the addon is unavailable: ${this.fastPathReason}`);
      return;
    }
    const loaded = await loadFastPath({ threads: 1, ioOnly: true, tos: cfg.tos ?? undefined });
    if ('unavailable' in loaded) {
      if (cfg.mediaSockets === 'native') throw new Error(`--media-sockets=native: the addon is unavailable: ${loaded.unavailable}`);
      log().info({ reason: loaded.unavailable }, 'Media sockets on Node dgram (the addon is unavailable)');
      return;
    }
    loaded.batcher.onSendErrors = (n) => this.counters.add('sendErrors', n);
    this.mediaIo = loaded;
    log().info('Media sockets owned by the addon (batched JS-path I/O, no forwarding table)');
  }

  /** The DTLS certificate (made now, renewed by a timer); without the addon, DTLS offers get an error reply. */
  private startDtls(): DtlsContext {
    const cfg = this.config;
    const certs = DtlsCertificates.create({ cipher: cfg.dtlsCertCipher, rsaKeySize: cfg.dtlsRsaKeySize, signature: cfg.dtlsSignature, lifetimeDays: 30 });
    if ('unavailable' in certs) {
      log().warn({ reason: certs.unavailable }, 'DTLS-SRTP unavailable: offers that need it will be refused');
      return { certs: null, unavailable: certs.unavailable, passive: cfg.dtlsPassive, mtu: cfg.dtlsMtu };
    }
    certs.startRenewal();
    this.dtlsCerts = certs;
    // test-only: a short handshake limit, so tests of handshakes that never finish stay short
    const limit = Number(process.env.RTPENGINE_TS_DTLS_HANDSHAKE_MS);
    return { certs, unavailable: '', passive: cfg.dtlsPassive, mtu: cfg.dtlsMtu, ...(limit > 0 ? { handshakeMs: limit } : {}) };
  }

  /** The other control listeners: CLI (-c), ng over TCP, HTTP/HTTPS/WebSocket, legacy rtpproxy UDP (-u). */
  private async bindAuxiliary(ci: CallInterfaces): Promise<void> {
    const cfg = this.config;
    const limits: StreamLimits = { ...DEFAULT_STREAM_LIMITS, idleMs: cfg.controlIdleTimeout * 1000 };
    this.cli = new ControlCli(this.cliCommands);
    await this.cli.listen(cfg.listenCli);
    if (cfg.listenTcpNg.length > 0) {
      this.ngTcp = new NgTcpTransport(this.control, limits);
      await this.ngTcp.listen(cfg.listenTcpNg);
    }
    if (cfg.listenHttp.length > 0 || cfg.listenHttps.length > 0) {
      // loaded only when configured: prom-client and ws are ~1.5 MB of heap a daemon without HTTP never needs
      const [{ PrometheusExporter }, { HttpControl }] = await Promise.all([import('./stats/prometheus.js'), import('./control/http.js')]);
      this.metrics = new PrometheusExporter(() => this.statsSnapshot());
      this.http = new HttpControl({ dispatcher: this.control, cli: this.cliCommands, metrics: this.metrics, limits });
      await this.http.listen(cfg.listenHttp, null);
      if (cfg.listenHttps.length > 0) await this.http.listen(cfg.listenHttps, { cert: cfg.httpsCert as string, key: cfg.httpsKey });
    }
    if (cfg.listenUdp) {
      this.legacyUdp = new LegacyUdpControl({
        offer: (f) => ci.offer(f),
        answer: (f) => ci.answer(f),
        delete: (f) => ci.delete(f),
        query: (f) => ci.query(f),
        callExists: (id) => this.calls.get(id) !== undefined,
        info: () => ({ created: this.counters.get('managedSessions'), active: this.calls.size }),
        silentTimeoutSeconds: () => cfg.silentTimeout,
      }, this.control.cache);
      await this.legacyUdp.listen(cfg.listenUdp);
    }
  }

  private sampleGrowth(): void {
    this.leaks.sampleGrowth({ CookieCacheEntry: this.control?.cache.size ?? 0, [CALLS_GAUGE]: this.calls?.size ?? 0 });
  }

  fastPathStatus(): FastPathStatus {
    if (this.engine) return { ...this.engine.status(), entries: this.ctx.kernel?.entryCount ?? 0 };
    return { available: false, enabled: false, reason: this.fastPathReason, threads: 0, entries: 0, sockets: 0, packets: 0, bytes: 0 };
  }

  /**
   * Who owns the media sockets: `fast-path` (the addon, forwarding table on), `addon` (the
   * addon as the JS path's batched I/O, -t -1) or `dgram` (Node's dgram); with the addon, the
   * datagrams it read and sent for the JS path.
   */
  mediaSocketsStatus(): Reply {
    const kind = this.engine ? 'fast-path' : this.mediaIo ? 'addon' : 'dgram';
    const io = this.mediaIo?.status() as NativeFastPathStatus | undefined;
    if (!io) return { kind };
    return { kind, received: io.received, recvErrors: io.recvErrors, sent: io.jsSent, sendErrors: io.jsSendErrors };
  }

  /** One reading of every counter, for `statistics`, the CLI totals and /metrics alike. */
  statsSnapshot(): StatsSnapshot {
    const live = { RTP: { packets: 0, bytes: 0, errors: 0 }, RTCP: { packets: 0, bytes: 0, errors: 0 } };
    const calls = this.calls.all();
    for (const call of calls) {
      const t = call.totals();
      for (const proto of ['RTP', 'RTCP'] as const) {
        live[proto].packets += t[proto].packets;
        live[proto].bytes += t[proto].bytes;
        live[proto].errors += t[proto].errors;
      }
    }
    const fp = this.fastPathStatus();
    const leaks = this.leaks.counters();
    const shortOf = new Map<string, string>(NG_COMMANDS.map((c) => [c.name, c.short]));
    const proxies = [...this.control.commandCounters.byProxy].map(([proxy, p]) => ({
      proxy,
      errors: p.errors,
      commands: NG_COMMANDS.map((c) => {
        const v = p.commands.get(c.name);
        return { name: c.name, short: c.short, count: v?.count ?? 0, seconds: (v?.totalMs ?? 0) / 1000 };
      }),
    }));
    return {
      uptimeSeconds: Math.floor((Date.now() - this.started) / 1000),
      counters: this.counters.snapshot(),
      sessions: { own: calls.length, foreign: 0, transcoded: 0 },
      live,
      kernel: { packets: fp.packets, bytes: fp.bytes },
      fastPath: { enabled: fp.enabled, entries: fp.entries, sockets: fp.sockets },
      proxies,
      commands: NG_COMMANDS.map((c) => ({ name: c.name, short: shortOf.get(c.name) ?? c.name })),
      leaks: { live: leaks.live, leaked: leaks.leaked, reachableAfterRelease: leaks.reachableAfterRelease, transientReachable: leaks.transientReachable, doubleRelease: leaks.doubleRelease },
      cookieCache: { entries: this.control.cache.size, bytes: this.control.cache.bytes },
      interfaces: this.interfaces.addresses.map((a) => ({
        name: a.name,
        address: a.address,
        min: a.pool.first,
        max: a.pool.last,
        used: a.pool.inUse * 2,
        free: (a.pool.capacity - a.pool.inUse) * 2,
        total: a.pool.capacity * 2,
      })),
      unsupportedFlags: this.counters.unsupportedSnapshot(),
    };
  }

  statistics(): Reply {
    return {
      statistics: statisticsTree(this.statsSnapshot()) as unknown as Reply,
      leaks: this.leaks.counters() as unknown as Reply,
      fastPath: this.fastPathStatus() as unknown as Reply,
      mediaSockets: this.mediaSocketsStatus(),
      cookieCache: { entries: this.control.cache.size, bytes: this.control.cache.bytes },
      unsupportedFlags: this.counters.unsupportedSnapshot(),
    };
  }

  private async leakReport(): Promise<Reply> {
    await this.leaks.settle();
    const native = (this.engine ?? this.mediaIo)?.nativeLive() ?? null;
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
    this.memoryReturn?.stop();
    this.dtlsCerts?.stop();
    this.ngUdp?.close();
    this.ngTcp?.close();
    this.http?.close();
    this.legacyUdp?.close();
    this.metrics?.close();
    this.control?.close();
    this.cli?.close();
    // each call after the command holding it (if any) has finished: teardown takes the write lock
    await this.calls?.destroyAll('shutdown');
    this.ctx?.dtmfLog?.close();
    await this.leaks.settle();
    const nativeEngine = this.engine ?? this.mediaIo;
    if (nativeEngine) {
      const native = nativeEngine.nativeLive();
      if (native.entries > 0 || native.sockets > 0) {
        log().warn({ native }, 'leak audit: native fast-path objects still live after every call was torn down');
        this.leaks.leaked += native.entries + native.sockets;
      }
      await nativeEngine.close();
    }
    const summary = this.leaks.summaryText();
    if (this.config.leakCheck !== 'off') process.stderr.write(`${summary}\n`);
    return !this.leaks.hasProblems();
  }
}
