/**
 * The JS path's batched I/O through the addon's sockets (kernel/src/jsio.cc).
 *
 * Input (JS-path I/O only): the addon reads the ready sockets on the JS thread and calls once
 * per batch; SourceAddresses turns the raw source addresses of its description into Endpoints.
 *
 * Output: while the JS thread handles a batch of packets the addon handed up (one call per batch, see
 * NativeFastPathEngine.dispatch), every datagram the pipeline sends is appended to one shared
 * buffer instead of costing a native call and a sendto() each; at the end of the batch the
 * whole buffer goes to the addon in one call, which sends it with sendmmsg(). Sends outside a
 * batch (timers, DTMF, ICE checks) go out at once, after anything still queued, so the order of
 * datagrams on a socket is the order they were sent in.
 *
 * Record layout (must match jsio.cc, host byte order): u32 socket id, u32 length,
 * u32 port | family << 16, 16 address bytes (network order), the data padded to 4 bytes.
 */
import type { Endpoint } from '../net/endpoint.js';

const HEADER = 28;
/** The addon reads the header words in host byte order. */
const LE = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
/** Enough for a punt batch (128 packets) fanned out a few times; a fuller buffer is flushed early. */
const CAPACITY = 512 * 1024;
/** Parsed destination addresses, by their text (a relay talks to few distinct peers). */
const ADDRESS_CACHE_MAX = 4096;

export type SendBatchFn = (buf: Uint8Array, bytes: number, count: number) => number;

/** The IPv4 or IPv6 text form as 4 or 16 bytes, or null if it is not one. */
export function addressBytes(address: string, family: 4 | 6): Uint8Array | null {
  if (family === 4) {
    const parts = address.split('.');
    if (parts.length !== 4) return null;
    const out = new Uint8Array(4);
    for (let i = 0; i < 4; i++) {
      const p = parts[i]!;
      if (!/^\d{1,3}$/.test(p)) return null;
      const v = Number(p);
      if (v > 255) return null;
      out[i] = v;
    }
    return out;
  }
  return ipv6Bytes(address);
}

function ipv6Bytes(address: string): Uint8Array | null {
  let text = address;
  const pct = text.indexOf('%');
  if (pct >= 0) return null; // scoped addresses: sent one by one (the addon parses them)
  let tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.', lastColon)) {
    const v4 = addressBytes(text.slice(lastColon + 1), 4);
    if (!v4) return null;
    tail = [(v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!];
    text = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const group = (s: string): number[] | null => {
    if (s === '') return [];
    const out: number[] = [];
    for (const g of s.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const head = group(halves[0]!);
  const rest = halves.length === 2 ? group(halves[1]!) : [];
  if (!head || !rest) return null;
  let words: number[];
  if (halves.length === 2) {
    const missing = 8 - head.length - rest.length;
    if (missing < 1) return null;
    words = [...head, ...new Array<number>(missing).fill(0), ...rest];
  } else {
    words = head;
  }
  if (words.length !== 8) return null;
  if (tail.length) words.splice(6, 2, ...tail);
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[2 * i] = words[i]! >> 8;
    out[2 * i + 1] = words[i]! & 0xff;
  }
  return out;
}

export class SendBatcher {
  private readonly u8: Uint8Array;
  private readonly view: DataView;
  private bytes = 0;
  private count = 0;
  /** > 0 while a batch of received packets is being handled: sends are queued. */
  private depth = 0;
  private readonly addresses = new Map<string, Uint8Array | null>();
  /** The last destination looked up: most batches send to few peers, often one. */
  private lastAddress = '';
  private lastAddressBytes: Uint8Array | null = null;
  /**
   * Bumped whenever the queue is emptied: a sender that notes it after queuing knows, while it
   * is unchanged, that its datagrams are still queued (closeSocket flushes only then).
   */
  generation = 0;
  /** Datagrams the addon could not send at a flush (full buffers, ICMP errors): the caller counts them. */
  onSendErrors: ((n: number) => void) | null = null;

  /** `capacity`: bytes of records queued at most (a fuller buffer is flushed early). */
  constructor(
    private readonly sendBatch: SendBatchFn,
    private readonly capacity = CAPACITY,
  ) {
    this.u8 = new Uint8Array(capacity);
    this.view = new DataView(this.u8.buffer);
  }

  get batching(): boolean {
    return this.depth > 0;
  }

  begin(): void {
    this.depth++;
  }

  end(): void {
    if (--this.depth === 0) this.flush();
  }

  /**
   * Queues one datagram; false when it cannot be queued (not in a batch, an address the
   * record cannot carry): the caller sends it at once after calling flush().
   */
  queue(socketId: number, family: 4 | 6, data: Uint8Array, port: number, address: string): boolean {
    if (this.depth === 0) return false;
    let addr: Uint8Array | null | undefined;
    if (address === this.lastAddress) {
      addr = this.lastAddressBytes;
    } else {
      addr = this.addresses.get(address);
      if (addr === undefined) {
        if (this.addresses.size >= ADDRESS_CACHE_MAX) this.addresses.clear();
        addr = addressBytes(address, family);
        this.addresses.set(address, addr);
      }
      this.lastAddress = address;
      this.lastAddressBytes = addr;
    }
    if (addr === null || addr.length !== (family === 4 ? 4 : 16)) return false;
    const len = data.length;
    const need = HEADER + ((len + 3) & ~3);
    if (need > this.capacity) return false;
    if (this.bytes + need > this.capacity) this.flush();
    const off = this.bytes;
    const v = this.view;
    v.setUint32(off, socketId, LE);
    v.setUint32(off + 4, len, LE);
    v.setUint32(off + 8, port | (family << 16), LE);
    const u8 = this.u8;
    u8.set(addr, off + 12);
    u8.set(data, off + HEADER);
    this.bytes = off + need;
    this.count++;
    return true;
  }

  /** Sends everything queued (in order), in one call to the addon. */
  flush(): void {
    const count = this.count;
    if (count === 0) return;
    const bytes = this.bytes;
    this.count = 0;
    this.bytes = 0;
    this.generation++;
    const sent = this.sendBatch(this.u8, bytes, count);
    if (sent < count) this.onSendErrors?.(count - sent);
  }
}

// ------------------------------------------------------------------------------------------
// Input: the datagrams of a polled batch (kernel/src/jsio.cc)

/** Datagrams per polled batch at most (the addon reads up to this many per round). */
export const POLL_BATCH = 256;
/** Words per datagram in the batch's description: id, offset, length, port | family << 16, 4 address words. */
export const POLL_META_WORDS = 8;

/** IPv6 text as inet_ntop writes it (RFC 5952: lower case, the longest run of zero groups as `::`). */
export function formatIpv6(b: Uint8Array, at: number): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((b[at + 2 * i]! << 8) | b[at + 2 * i + 1]!);
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return `::ffff:${b[at + 12]}.${b[at + 13]}.${b[at + 14]}.${b[at + 15]}`;
  }
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (xs: number[]) => xs.map((x) => x.toString(16)).join(':');
  if (bestStart < 0) return hex(g);
  return `${hex(g.slice(0, bestStart))}::${hex(g.slice(bestStart + bestLen))}`;
}

const SOURCE_CACHE_MAX = 4096;

/**
 * Source endpoints of polled datagrams without a string per packet: address texts are cached
 * by their bytes, and a socket's last source object is handed out again while packets keep
 * coming from it (the packet path never modifies an Endpoint it is given).
 */
export class SourceAddresses {
  private readonly v4 = new Map<number, string>();
  private readonly v6 = new Map<string, string>();

  endpoint(sock: { lastFrom: Endpoint | null }, family: 4 | 6, meta: Uint32Array, bytes: Uint8Array, word: number, port: number): Endpoint {
    let address: string | undefined;
    if (family === 4) {
      const key = meta[word]!;
      address = this.v4.get(key);
      if (address === undefined) {
        const at = word * 4;
        address = `${bytes[at]}.${bytes[at + 1]}.${bytes[at + 2]}.${bytes[at + 3]}`;
        if (this.v4.size >= SOURCE_CACHE_MAX) this.v4.clear();
        this.v4.set(key, address);
      }
    } else {
      const key = `${meta[word]}:${meta[word + 1]}:${meta[word + 2]}:${meta[word + 3]}`;
      address = this.v6.get(key);
      if (address === undefined) {
        address = formatIpv6(bytes, word * 4);
        if (this.v6.size >= SOURCE_CACHE_MAX) this.v6.clear();
        this.v6.set(key, address);
      }
    }
    const last = sock.lastFrom;
    if (last !== null && last.port === port && last.address === address) return last;
    const from: Endpoint = { address, port, family };
    sock.lastFrom = from;
    return from;
  }
}

/**
 * The first error of a batch of deliveries (a round of datagrams handed to their handlers): a
 * faulty handler starves no other datagram of the batch, and its error still surfaces as an
 * uncaught exception, as it would from a dgram 'message' listener, on the next tick, once the
 * whole batch was delivered. One per dispatcher, reused from batch to batch.
 */
export class BatchErrors {
  private failed = false;
  private first: unknown;

  note(err: unknown): void {
    if (this.failed) return;
    this.failed = true;
    this.first = err;
  }

  /** Throws the batch's first error on the next tick, if it had one, and starts afresh. */
  surface(): void {
    if (!this.failed) return;
    const err = this.first;
    this.failed = false;
    this.first = undefined;
    process.nextTick(() => {
      throw err;
    });
  }
}
