/**
 * Streams whose endpoint the packet path learned or changed, waiting to be re-kernelized.
 * The fast path is re-evaluated a microtask later, once the packet that taught the endpoint
 * has been relayed: an entry installed mid-packet would let the addon overtake that packet,
 * and would hand the addon SRTP counters from before it. Never under the call's write lock:
 * the writer's release flushes what waits.
 */
import type { Kernelizer } from '../kernel/kernelize.js';
import type { PacketStream } from '../media/packet-stream.js';

export interface KernelPendingOwner {
  readonly destroyed: boolean;
  readonly writeLocked: boolean;
  readonly streams: readonly PacketStream[];
  readonly ctx: { readonly kernel: Kernelizer | null };
}

export class KernelPending {
  /** Made by the first learned endpoint (a call without media never has one). */
  private pending: Set<PacketStream> | null = null;

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
    if (!kernel || o.destroyed) return;
    for (const stream of streams) {
      if (!o.streams.includes(stream)) continue;
      kernel.update(stream);
      // streams that send to this one must now send to its new endpoint
      for (const s of o.streams) {
        if (s !== stream && (s.rtpSinks.some((k) => k.dst === stream) || s.rtcpSinks.some((k) => k.dst === stream))) kernel.update(s);
      }
    }
  }
}
