/**
 * Streams whose endpoint the packet path learned or changed, waiting to be re-kernelized.
 * The fast path is re-evaluated a microtask later, once the packet that taught the endpoint
 * has been relayed: an entry installed mid-packet would let the addon overtake that packet,
 * and would hand the addon SRTP counters from before it. Never under the call's write lock:
 * the writer's release flushes what waits.
 *
 * The hand-over keeps the packets' order: packets the forwarding threads read before the entry
 * exists are on their way up to JS, and an entry installed while some still are would forward
 * the next ones at once, ahead of them. So the entry goes in only once the addon has none of the
 * socket's packets left for JS (`Kernelizer.update` with `ifIdle`), retried after the JS thread
 * has handled what was queued; after HANDOVER_WAIT_MS (a JS thread that far behind) it goes in
 * anyway, as before.
 */
import type { Kernelizer } from '../kernel/kernelize.js';
import type { PacketStream } from '../media/packet-stream.js';

/** How long a hand-over waits for its socket's packets still on their way up to JS. */
export const HANDOVER_WAIT_MS = 500;

export interface KernelPendingOwner {
  readonly destroyed: boolean;
  readonly writeLocked: boolean;
  readonly streams: readonly PacketStream[];
  readonly ctx: { readonly kernel: Kernelizer | null };
}

export class KernelPending {
  /** Made by the first learned endpoint (a call without media never has one). */
  private pending: Set<PacketStream> | null = null;
  /** Streams whose entry waits for their socket's packets queued up to JS, since when (ms). */
  private waiting: Map<PacketStream, number> | null = null;
  private retry: NodeJS.Immediate | null = null;

  constructor(private readonly owner: KernelPendingOwner) {}

  add(stream: PacketStream): void {
    const pending = (this.pending ??= new Set());
    pending.add(stream);
    if (pending.size === 1) queueMicrotask(() => this.flush());
  }

  flush(): void {
    const o = this.owner;
    const pending = this.pending;
    if (pending === null || pending.size === 0 || o.writeLocked) return;
    const streams = [...pending];
    pending.clear();
    const kernel = o.ctx.kernel;
    if (!kernel || o.destroyed) {
      this.waiting = null;
      return;
    }
    const now = Date.now();
    for (const stream of streams) {
      if (!o.streams.includes(stream)) {
        this.waiting?.delete(stream);
        continue;
      }
      this.install(kernel, stream, now);
      // streams that send to this one must now send to its new endpoint
      for (const s of o.streams) {
        if (s !== stream && (s.rtpSinks.some((k) => k.dst === stream) || s.rtcpSinks.some((k) => k.dst === stream))) this.install(kernel, s, now);
      }
    }
    if (pending.size > 0 && this.retry === null) {
      // after the poll phase: the addon's queued batches are handled by then
      this.retry = setImmediate(() => {
        this.retry = null;
        this.flush();
      });
    }
  }

  private install(kernel: Kernelizer, stream: PacketStream, now: number): void {
    const since = this.waiting?.get(stream) ?? now;
    if (kernel.update(stream, { ifIdle: now - since < HANDOVER_WAIT_MS })) {
      this.waiting?.delete(stream);
      return;
    }
    (this.waiting ??= new Map()).set(stream, since);
    (this.pending ??= new Set()).add(stream);
  }
}
