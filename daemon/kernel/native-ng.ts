/**
 * The ng UDP listener on the addon's socket (kernel/src/ngio.cc), used whenever the addon is
 * loaded for media: commands arrive in recvmmsg rounds, one JS call per round; replies are
 * queued in a send buffer and leave together with sendmmsg.
 *
 * When to flush: `handleMessage` is async, so a round's replies come in microtasks after the
 * round's call. The addon runs those (MakeCallback drains the microtask queue) and then calls
 * once more with count 0: the replies of every command that did not have to wait are queued by
 * then and leave together. A command that waits (for a call's lock, a file) replies in a later
 * turn of the event loop; outside a round a reply is sent at once, as Node's dgram would, so no
 * reply ever stays queued and replies keep their order with the other transports' (a CLI
 * `terminate` answered after the offer it waited for). A reply the buffer cannot carry is sent on
 * its own, after what is queued.
 */
import { log } from '../log/logger.js';
import type { AddressFamily, Endpoint } from '../net/endpoint.js';
import type { DatagramHandler, DatagramListener, DatagramListenerFactory } from '../net/datagram-listener.js';
import { loadAddon } from './native-addon.js';
import { BatchErrors, POLL_META_WORDS, SendBatcher, SourceAddresses } from './native-io.js';

interface RawNgSocket {
  localPort(): number;
  sendBatch(buf: Uint8Array, bytes: number, count: number): number;
  send(data: Uint8Array, port: number, address: string): boolean;
  close(): void;
}

type RawNgSocketClass = new (
  address: string,
  port: number,
  family: number,
  dispatch: (count: number) => void,
  meta: Uint32Array,
  slots: Uint8Array,
) => RawNgSocket;

/**
 * Commands per JS call: the round's replies leave when its commands are done (a command's
 * awaits interleave with the others' in the microtask queue, so they finish together). Bigger
 * rounds save calls and syscalls but hold the first replies back and leave the proxy idle
 * meanwhile: measured with the one-core benches (docs/benchmarks.md, "Fourth round").
 */
const ROUND = 16;

/** Bytes of replies queued per round at most: a few hundred typical replies (a fuller buffer is flushed early). */
const REPLY_CAPACITY = 128 * 1024;

class NativeNgListener implements DatagramListener {
  private readonly raw: RawNgSocket;
  private readonly meta: Uint32Array;
  private readonly metaBytes: Uint8Array;
  /** Where the addon's recvmmsg writes a round's commands, one slot each (the addon's NG_SLOT bytes). */
  private readonly slots: Buffer;
  private readonly batcher: SendBatcher;
  private readonly batchErrors = new BatchErrors();
  private readonly sources = new SourceAddresses();
  /** The last sender (SourceAddresses hands the same Endpoint out again while it repeats). */
  lastFrom: Endpoint | null = null;
  /** Between a round's call and its end call: replies are queued. */
  private collecting = false;
  private closed = false;

  constructor(
    cls: RawNgSocketClass,
    slotBytes: number,
    address: string,
    port: number,
    readonly family: AddressFamily,
    private readonly onDatagram: DatagramHandler,
  ) {
    this.meta = new Uint32Array(ROUND * POLL_META_WORDS);
    this.metaBytes = new Uint8Array(this.meta.buffer);
    this.slots = Buffer.alloc(ROUND * slotBytes);
    this.raw = new cls(address, port, family, this.dispatch, this.meta, this.slots);
    const raw = this.raw;
    this.batcher = new SendBatcher((buf, bytes, count) => raw.sendBatch(buf, bytes, count), REPLY_CAPACITY);
    // what a dgram listener's 'error' event would log
    this.batcher.onSendErrors = (n) => log().warn({ replies: n }, 'ng replies not sent (full send buffer or an ICMP error)');
  }

  /**
   * One call per recvmmsg round, then one with count 0 once the round's microtasks have run:
   * its queued replies leave. Each command is copied out of its slot (the next round reuses
   * the slots; a handler may keep a view of its message, e.g. a `play media` blob).
   */
  private readonly dispatch = (count: number): void => {
    if (count === 0) {
      if (this.collecting) {
        this.collecting = false;
        this.batcher.end();
      }
      return;
    }
    if (this.closed) return;
    if (!this.collecting) {
      this.collecting = true;
      this.batcher.begin();
    }
    const meta = this.meta;
    for (let i = 0; i < count && !this.closed; i++) {
      const k = i * POLL_META_WORDS;
      const off = meta[k + 1]!;
      const pf = meta[k + 3]!;
      const from = this.sources.endpoint(this, pf >>> 16 === 6 ? 6 : 4, meta, this.metaBytes, k + 4, pf & 0xffff);
      try {
        const len = meta[k + 2]!;
        // its own memory, as a dgram message has: a pooled slice would pin its 8 KiB pool for
        // as long as anything holds a view of the message
        const msg = Buffer.allocUnsafeSlow(len);
        this.slots.copy(msg, 0, off, off + len);
        this.onDatagram(msg, from, this);
      } catch (err) {
        this.batchErrors.note(err);
      }
    }
    this.batchErrors.surface();
  };

  send(data: Buffer, to: Endpoint): boolean {
    if (this.closed) return false;
    // queued while a round is being handled; at once otherwise (queue() refuses outside one)
    if (this.batcher.queue(0, to.family, data, to.port, to.address)) return true;
    this.batcher.flush(); // what is queued goes first
    return this.raw.send(data, to.port, to.address);
  }

  close(): void {
    if (this.closed) return;
    if (this.collecting) {
      this.collecting = false;
      this.batcher.end(); // replies already queued leave before the socket closes
    }
    this.closed = true;
    this.raw.close();
  }
}

/**
 * The addon's ng listener sockets, or null when the addon (or a build of it with NgSocket)
 * cannot be loaded: the caller keeps Node's dgram then.
 */
export function nativeNgListeners(): DatagramListenerFactory | null {
  const addon = loadAddon();
  if ('unavailable' in addon || typeof addon.NgSocket !== 'function' || (addon.NG_BATCH ?? 0) < ROUND) return null;
  const cls = addon.NgSocket as RawNgSocketClass;
  const slotBytes = addon.NG_SLOT ?? 0;
  if (slotBytes < 65536) return null;
  return {
    kind: 'native',
    listen(address: string, port: number, onDatagram: DatagramHandler): Promise<DatagramListener> {
      try {
        return Promise.resolve(new NativeNgListener(cls, slotBytes, address, port, address.includes(':') ? 6 : 4, onDatagram));
      } catch (err) {
        return Promise.reject(err instanceof Error ? err : new Error(String(err)));
      }
    },
  };
}
