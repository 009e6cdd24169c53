/**
 * The native fast path: wraps the C++ addon (`kernel/`, loaded by native-addon.ts) as a
 * `FastPathEngine`. Addon-owned sockets are the engine's `MediaSocketFactory`;
 * forwarding threads relay packets that match an entry and punt everything else up to the
 * socket's PacketHandler. See docs/fast-path.md.
 */
import type { Endpoint } from '../net/endpoint.js';
import type {
  EntrySrtpState,
  EntryStats,
  FastPathEngine,
  FastPathStatus,
  ForwardDestination,
  ForwardingEntry,
  NativeSrtpSpec,
} from './fast-path.js';
import { errorMessage, loadAddon, type Dispatch, type PolledDispatch, type RawAddon, type RawEngine } from './native-addon.js';
import { BatchErrors, POLL_BATCH, POLL_META_WORDS, SendBatcher, SourceAddresses } from './native-io.js';
import {
  PortInUseError,
  type AddressFamily,
  type MediaSocket,
  type MediaSocketFactory,
  type PacketHandler,
} from '../net/media-socket.js';

/** FastPathStatus with the engine's own counters (all cumulative since the engine started). */
export interface NativeFastPathStatus extends FastPathStatus {
  /** Datagrams read by the forwarding threads. */
  received: number;
  /** Datagrams sent by the threads (one per destination). */
  sent: number;
  /** Datagrams handed up to JS. */
  punted: number;
  /** Punted datagrams dropped because the queue to JS was full. */
  puntDropped: number;
  /** Invalid RTP/RTCP from an entry's source (dropped). */
  errors: number;
  /** Datagrams larger than the addon's buffer (dropped). */
  oversized: number;
  /** Zero-length datagrams (dropped). */
  empty: number;
  /** Accepted packets whose destination list was empty (dropped, not an error). */
  noDestination: number;
  /** Thread-side send failures, e.g. a full send buffer (dropped). */
  sendErrors: number;
  recvErrors: number;
  /** SRTP/SRTCP packets refused by the threads (authentication, replay, MKI, length); also in `errors`. */
  srtpDropped: number;
  /** Sum of all drops: puntDropped + errors + oversized + empty + noDestination + sendErrors. */
  dropped: number;
  /** Sends from JS through engine sockets (MediaSocket.send) and their failures. */
  jsSent: number;
  jsSendErrors: number;
  /** CPU time used by the forwarding threads. */
  cpuSeconds: number;
  /** Largest datagram the threads accept (bigger ones count as oversized). */
  maxPacket: number;
}

export interface LoadFastPathOptions {
  threads: number;
  tos?: number;
  /** Override the addon path (tests, packaging). Default: <package root>/kernel/build/Release. */
  addonPath?: string;
  /**
   * Bound on packets / bytes punted to JS and not yet delivered (a busy event loop); beyond
   * either, punted packets are dropped and counted in puntDropped. Defaults 32768 / 16 MiB.
   */
  puntQueuePackets?: number;
  puntQueueBytes?: number;
  /**
   * The addon as the JS path's socket layer only: no forwarding threads, no entries; the JS
   * thread polls the sockets itself and gets one call per batch (kernel/src/jsio.cc).
   */
  ioOnly?: boolean;
}

/**
 * Flushes a batch's queued sends; the first error of the batch (a handler's, else the flush's)
 * surfaces after it (BatchErrors).
 */
function endBatch(batcher: SendBatcher, errors: BatchErrors): void {
  try {
    batcher.end();
  } catch (err) {
    errors.note(err);
  }
  errors.surface();
}

const ZERO_STATS: EntryStats = { packets: 0, bytes: 0, errors: 0, lastPacketMs: 0 };

class NativeMediaSocket implements MediaSocket {
  closed = false;
  /** The last source seen (JS-path I/O): reused while packets keep coming from it. */
  lastFrom: Endpoint | null = null;
  /** Counters frozen at close (the slot is reused by later sockets). */
  finalStats: EntryStats | undefined;
  /** The batcher's generation when a datagram of this socket was last queued. */
  queuedIn = -1;

  constructor(
    readonly engine: NativeFastPathEngine,
    readonly id: number,
    readonly slot: number,
    readonly family: AddressFamily,
    readonly localAddress: string,
    readonly localPort: number,
    readonly onPacket: PacketHandler,
  ) {}

  send(data: Buffer, port: number, address: string): boolean {
    if (this.closed) return false;
    // inside a batch of received packets: queued, sent with the batch (native-io.ts)
    const batcher = this.engine.batcher;
    if (batcher.queue(this.id, this.family, data, port, address)) {
      this.queuedIn = batcher.generation;
      return true;
    }
    return this.engine.rawSend(this.id, data, port, address);
  }

  setTos(tos: number): void {
    if (this.closed) return;
    this.engine.rawSetTos(this.id, tos);
  }

  close(): void {
    if (this.closed) return;
    this.engine.closeSocket(this);
  }
}

class NativeSocketFactory implements MediaSocketFactory {
  readonly kind = 'native' as const;
  constructor(private readonly engine: NativeFastPathEngine) {}
  open(address: string, port: number, family: AddressFamily, onPacket: PacketHandler): Promise<MediaSocket> {
    try {
      return Promise.resolve(this.engine.openSocket(address, port, family, onPacket));
    } catch (err) {
      return Promise.reject(err);
    }
  }
  openPair(address: string, port: number, family: AddressFamily, onRtp: PacketHandler, onRtcp: PacketHandler): Promise<[MediaSocket, MediaSocket]> {
    try {
      return Promise.resolve(this.engine.openPair(address, port, family, onRtp, onRtcp));
    } catch (err) {
      return Promise.reject(err);
    }
  }
}

export class NativeFastPathEngine implements FastPathEngine {
  readonly sockets: MediaSocketFactory;
  /** JS-path sends queued while a batch of received packets is handled (native-io.ts). */
  readonly batcher: SendBatcher;
  private readonly batchErrors = new BatchErrors();
  private readonly raw: RawEngine;
  private readonly byId = new Map<number, NativeMediaSocket>();
  private readonly pages: Float64Array[] = [];
  private readonly slotFields: number;
  private readonly slotsPerPage: number;
  private readonly maxPacket: number;
  private readonly threadCount: number;
  private closed = false;
  private closing: Promise<void> | undefined;

  /** Use loadFastPath(); throws if the threads cannot start. */
  constructor(addon: RawAddon, options: { threads: number; tos?: number; puntQueuePackets?: number; puntQueueBytes?: number; ioOnly?: boolean }) {
    this.slotFields = addon.SLOT_FIELDS;
    this.slotsPerPage = addon.SLOTS_PER_PAGE;
    this.maxPacket = addon.MAX_PACKET;
    this.threadCount = options.ioOnly ? 0 : options.threads;
    this.raw = new addon.Engine(
      {
        threads: options.threads,
        tos: options.tos ?? -1,
        openOut: this.openOut,
        ...(options.puntQueuePackets !== undefined ? { puntQueuePackets: options.puntQueuePackets } : {}),
        ...(options.puntQueueBytes !== undefined ? { puntQueueBytes: options.puntQueueBytes } : {}),
        ...(options.ioOnly ? { pollMeta: this.pollMeta } : {}),
      },
      this.dispatch,
      this.dispatchPolled,
    );
    this.sockets = new NativeSocketFactory(this);
    const raw = this.raw;
    this.batcher = new SendBatcher((buf, bytes, count) => raw.sendBatch(buf, bytes, count));
  }

  /** Where the addon's open() describes the sockets it opened: id, port, slot each. */
  private readonly openOut = new Uint32Array(6);
  /** Descriptions of the datagrams of one polled batch (JS-path I/O only), written by the addon. */
  private readonly pollMeta = new Uint32Array(POLL_BATCH * POLL_META_WORDS);
  private readonly pollAddrBytes = new Uint8Array(this.pollMeta.buffer);
  private readonly sources = new SourceAddresses();

  /**
   * JS-path I/O only: one call per round of the JS thread's own recvmmsg over the ready
   * sockets (kernel/src/jsio.cc); sends made meanwhile leave together at the end.
   */
  private readonly dispatchPolled: PolledDispatch = (data, count) => {
    const meta = this.pollMeta;
    const batcher = this.batcher;
    batcher.begin();
    for (let i = 0; i < count; i++) {
      const k = i * POLL_META_WORDS;
      const sock = this.byId.get(meta[k]!);
      if (!sock || sock.closed) continue;
      const off = meta[k + 1]!;
      const pf = meta[k + 3]!;
      const from = this.sources.endpoint(sock, pf >>> 16 === 6 ? 6 : 4, meta, this.pollAddrBytes, k + 4, pf & 0xffff);
      try {
        sock.onPacket(data.subarray(off, off + meta[k + 2]!), from);
      } catch (err) {
        this.batchErrors.note(err);
      }
    }
    endBatch(batcher, this.batchErrors);
  };

  /** Delivers a batch of punted packets, in order, to their sockets' handlers. */
  private readonly dispatch: Dispatch = (data, meta, addrs) => {
    const n = addrs.length;
    const batcher = this.batcher;
    batcher.begin();
    for (let i = 0; i < n; i++) {
      const k = i * 5;
      const sock = this.byId.get(meta[k]!);
      if (!sock || sock.closed) continue;
      const off = meta[k + 1]!;
      const family: AddressFamily = meta[k + 4] === 6 ? 6 : 4;
      try {
        sock.onPacket(data.subarray(off, off + meta[k + 2]!), { address: addrs[i]!, port: meta[k + 3]!, family });
      } catch (err) {
        this.batchErrors.note(err);
      }
    }
    endBatch(batcher, this.batchErrors);
  };

  openSocket(address: string, port: number, family: AddressFamily, onPacket: PacketHandler): NativeMediaSocket {
    if (this.closed) throw new Error('fast path engine is closed');
    if (family !== 4 && family !== 6) throw new TypeError(`bad address family ${String(family)}`);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`bad port ${String(port)}`);
    this.openRaw(address, port, family, 1);
    return this.adopt(0, family, address, onPacket);
  }

  /** An RTP/RTCP pair on `port` and `port + 1` in one addon call; if either fails neither stays open. */
  openPair(address: string, port: number, family: AddressFamily, onRtp: PacketHandler, onRtcp: PacketHandler): [NativeMediaSocket, NativeMediaSocket] {
    if (this.closed) throw new Error('fast path engine is closed');
    if (family !== 4 && family !== 6) throw new TypeError(`bad address family ${String(family)}`);
    if (!Number.isInteger(port) || port < 1 || port > 65534) throw new RangeError(`bad port pair ${String(port)}`);
    this.openRaw(address, port, family, 2);
    return [this.adopt(0, family, address, onRtp), this.adopt(1, family, address, onRtcp)];
  }

  /** Opens `count` sockets on port, port + 1, …; throws (nothing left open) if one fails. */
  private openRaw(address: string, port: number, family: AddressFamily, count: number): void {
    const r = this.raw.open(address, port, family, count);
    if (typeof r === 'number') return;
    const at = port === 0 ? 0 : port + r.index;
    const err = Object.assign(new Error(`cannot open ${address}:${at}: ${r.message}`), { code: r.code, errno: r.errno });
    if (r.code === 'EADDRINUSE') throw new PortInUseError(address, at, { cause: err });
    throw err;
  }

  /** The socket the last openRaw described at `index` of openOut. */
  private adopt(index: number, family: AddressFamily, address: string, onPacket: PacketHandler): NativeMediaSocket {
    const out = this.openOut;
    const k = index * 3;
    const id = out[k]!;
    const slot = out[k + 2]!;
    const page = Math.floor(slot / this.slotsPerPage);
    if (!this.pages[page]) {
      const ab = this.raw.statsPage(page);
      if (!ab) throw new Error(`fast path stats page ${page} missing`);
      this.pages[page] = new Float64Array(ab);
    }
    const sock = new NativeMediaSocket(this, id, slot, family, address, out[k + 1]!, onPacket);
    this.byId.set(id, sock);
    return sock;
  }

  closeSocket(sock: NativeMediaSocket): void {
    if (sock.closed) return;
    // datagrams queued on it leave before it closes; other sockets' wait for the batch's end
    if (sock.queuedIn === this.batcher.generation) this.batcher.flush();
    // After closeSocket returns no thread touches the slot; freeze it before it is reused.
    this.raw.closeSocket(sock.id);
    sock.finalStats = this.readSlot(sock.slot);
    sock.closed = true;
    this.byId.delete(sock.id);
  }

  rawSend(id: number, data: Buffer, port: number, address: string): boolean {
    if (this.closed) return false;
    this.batcher.flush(); // what is queued goes first
    return this.raw.send(id, data, port, address);
  }

  rawSetTos(id: number, tos: number): void {
    if (!this.closed) this.raw.setTos(id, tos);
  }

  private own(socket: MediaSocket, what: string): NativeMediaSocket {
    if (!(socket instanceof NativeMediaSocket) || socket.engine !== this)
      throw new TypeError(`${what}: not a socket of this fast path engine`);
    return socket;
  }

  private readSlot(slot: number): EntryStats {
    const page = this.pages[Math.floor(slot / this.slotsPerPage)];
    if (!page) return { ...ZERO_STATS };
    const k = (slot % this.slotsPerPage) * this.slotFields;
    return { packets: page[k]!, bytes: page[k + 1]!, errors: page[k + 2]!, lastPacketMs: page[k + 3]! };
  }

  private flatDests(list: ForwardDestination[], what: string): (number | string)[] {
    const out: (number | string)[] = [];
    for (const d of list) {
      const via = this.own(d.via, `setEntry ${what} destination`);
      if (via.closed) throw new Error(`setEntry: ${what} destination socket ${via.localAddress}:${via.localPort} is closed`);
      out.push(via.id, d.address, d.port);
    }
    return out;
  }

  setEntry(socket: MediaSocket, entry: ForwardingEntry): EntrySrtpState | null {
    return this.installEntry(socket, entry, false) || null;
  }

  setEntryIfIdle(socket: MediaSocket, entry: ForwardingEntry): EntrySrtpState | null | false {
    return this.installEntry(socket, entry, true);
  }

  private installEntry(socket: MediaSocket, entry: ForwardingEntry, ifIdle: boolean): EntrySrtpState | null | false {
    if (this.closed) throw new Error('fast path engine is closed');
    const sock = this.own(socket, 'setEntry');
    if (sock.closed) throw new Error(`setEntry: socket ${sock.localAddress}:${sock.localPort} is closed`);
    const old = this.raw.setEntry(
      sock.id,
      entry.source.address,
      entry.source.port,
      this.flatDests(entry.rtp, 'rtp'),
      this.flatDests(entry.rtcp, 'rtcp'),
      entry.isRtcpSocket,
      entry.rtcpMux,
      entry.payloadTypes,
      entry.rtp.map((d) => (d.payloadTypeMap ? d.payloadTypeMap.flat() : null)),
      entry.srtpIn ?? null,
      entry.rtp.map((d) => d.srtp ?? null),
      entry.rtcp.map((d) => d.srtp ?? null),
      ifIdle,
    );
    if (old === false) return false;
    return old ?? null;
  }

  removeEntry(socket: MediaSocket): EntrySrtpState | null {
    const sock = this.own(socket, 'removeEntry');
    if (this.closed || sock.closed) return null;
    return this.raw.removeEntry(sock.id) || null;
  }

  srtpFailures(socket: MediaSocket): { auth: number; replay: number; invalid: number } | null {
    const sock = this.own(socket, 'srtpFailures');
    if (this.closed || sock.closed) return null;
    const f = this.raw.srtpFailures(sock.id);
    return f ? { auth: f[0], replay: f[1], invalid: f[2] } : null;
  }

  entryStats(socket: MediaSocket): EntryStats {
    const sock = this.own(socket, 'entryStats');
    if (sock.finalStats) return { ...sock.finalStats };
    return this.readSlot(sock.slot);
  }

  status(): NativeFastPathStatus {
    const s = this.raw.status();
    return {
      available: true,
      enabled: !this.closed,
      reason: this.closed ? 'closed' : '',
      threads: this.closed ? 0 : this.threadCount,
      entries: s.entries,
      sockets: s.sockets,
      packets: s.packets,
      bytes: s.bytes,
      received: s.received,
      sent: s.sent,
      punted: s.punted,
      puntDropped: s.puntDropped,
      errors: s.errors,
      oversized: s.oversized,
      empty: s.empty,
      noDestination: s.noDestination,
      sendErrors: s.sendErrors,
      recvErrors: s.recvErrors,
      srtpDropped: s.srtpDropped,
      dropped: s.puntDropped + s.errors + s.oversized + s.empty + s.noDestination + s.sendErrors,
      jsSent: s.jsSent,
      jsSendErrors: s.jsSendErrors,
      cpuSeconds: s.cpuSeconds,
      maxPacket: this.maxPacket,
    };
  }

  nativeLive(): { sockets: number; entries: number; srtpContexts: number } {
    return this.raw.live();
  }

  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closed = true;
    this.closing = new Promise<void>((resolve) => {
      // Joins the threads and closes every socket synchronously; `resolve` runs when the punt
      // queue to JS has been drained and released.
      if (!this.raw.close(() => resolve())) resolve();
    });
    // The threads are joined: the slots are final.
    for (const sock of this.byId.values()) {
      sock.finalStats = this.readSlot(sock.slot);
      sock.closed = true;
    }
    this.byId.clear();
    return this.closing;
  }
}

/**
 * Loads the addon and starts `threads` forwarding threads. Resolves to the engine, or to
 * `{ unavailable }` with the reason (addon not built and why, ABI mismatch, thread start failure).
 */
export async function loadFastPath(
  options: LoadFastPathOptions,
): Promise<NativeFastPathEngine | { unavailable: string }> {
  const addon = loadAddon(options.addonPath);
  if ('unavailable' in addon) return addon;
  const threads = options.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1 || threads > addon.MAX_THREADS)
    return { unavailable: `fast path threads must be an integer 1..${addon.MAX_THREADS}, got ${String(threads)}` };
  if (options.tos !== undefined && (!Number.isInteger(options.tos) || options.tos < 0 || options.tos > 255))
    return { unavailable: `bad TOS ${String(options.tos)} (0..255)` };
  try {
    for (const k of ['puntQueuePackets', 'puntQueueBytes'] as const) {
      const v = options[k];
      if (v !== undefined && (!Number.isInteger(v) || v < 1)) return { unavailable: `bad ${k} ${String(v)}` };
    }
    return new NativeFastPathEngine(addon, {
      threads,
      ioOnly: options.ioOnly,
      tos: options.tos,
      puntQueuePackets: options.puntQueuePackets,
      puntQueueBytes: options.puntQueueBytes,
    });
  } catch (err) {
    return { unavailable: errorMessage(err) };
  }
}
