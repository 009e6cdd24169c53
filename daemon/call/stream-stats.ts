/**
 * A stream's counters as the outside sees them (query, delete, totals, the CLI): the JS path's
 * plus what the fast path forwarded for it.
 */
import type { PacketStream } from '../media/packet-stream.js';
import type { CallContext } from './context.js';

/** JS-path counters of a stream plus what the fast path forwarded for it. */
export function streamStats(stream: PacketStream, ctx: CallContext): { packets: number; bytes: number; errors: number; lastPacketMs: number } {
  const js = stream.stats;
  const native = ctx.kernel?.stats(stream) ?? null;
  if (!native) return { ...js };
  return {
    packets: js.packets + native.packets,
    bytes: js.bytes + native.bytes,
    errors: js.errors + native.errors,
    lastPacketMs: Math.max(js.lastPacketMs, native.lastPacketMs),
  };
}
