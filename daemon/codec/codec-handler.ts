/**
 * The codec handler contract (rtpengine's codec.c: struct codec_handler). Every sink of a
 * stream's RTP has one codec handler per payload type the sender uses; the packet path looks
 * the handler up by the packet's payload type and hands it the packet. A handler may
 *   - emit the packet unchanged (pass-through),
 *   - emit a rewritten copy (payload-type renumbering),
 *   - emit nothing now and zero or more packets later (a transcoder buffering for ptime),
 * always through the CodecOutput it was created with, which runs the sink's output handler
 * (plain / SRTP encrypt) and sends to the sink's endpoint.
 *
 * Handlers are created by signalling (offer/answer, re-INVITE, subscriptions) under the call's
 * write lock, never per packet, and closed when the sink is rebuilt or the call torn down.
 * `process` runs on the packet path under the call's read side: synchronous, no awaits.
 */
import type { SsrcContext } from './ssrc.js';

/** A codec as one side of the call names it (what its SDP says about one payload type). */
export interface CodecDesc {
  payloadType: number;
  /** Encoding name as written (`PCMU`, `telephone-event`, `opus`); compare case-insensitively. */
  encoding: string;
  clockRate: number;
  /** null: not given (1 for audio). */
  channels: number | null;
  /** a=fmtp values for this payload type, in SDP order. */
  fmtp: readonly string[];
}

/** Where a codec handler's packets go: the sink's output handler, then the socket. */
export interface CodecOutput {
  /**
   * Sends one RTP packet to the sink. The buffer is handed over: the caller must not modify it
   * afterwards (the socket may still read it). The output SSRC context of the packet's SSRC is
   * counted on the way out.
   */
  sendRtp(packet: Buffer): void;
  /** The output state for `ssrc` at the sink (sequence/timestamp offsets for rewriting handlers). */
  outputSsrc(ssrc: number): SsrcContext;
}

/** What the handler chain decision knows about one payload type of one sink. */
export interface CodecHandlerSpec {
  /** The codec of this payload type in the sender's numbering. */
  source: CodecDesc;
  /** The same codec as the sink numbers it, or null if the sink does not list it. */
  sink: CodecDesc | null;
  /** Everything the sink accepts, in its preference order (a transcoder picks from these). */
  sinkCodecs: readonly CodecDesc[];
  /** Everything the sender uses. */
  sourceCodecs: readonly CodecDesc[];
  /** Packetisation time of each side in ms, when its SDP says (a=ptime). */
  sourcePtime: number | null;
  sinkPtime: number | null;
}

/**
 * What the native fast path needs to do a handler's work itself: payload type `from` leaves
 * as `to` (equal for pass-through). A handler the addon cannot do says null.
 */
export interface NativeCodecAction {
  from: number;
  to: number;
}

export interface CodecHandler {
  /** Short name for `query` and for the fast path's reason (`passthrough`, `renumber`, `transcode` …). */
  readonly kind: string;
  /**
   * Holds nothing but references (pass-through, renumber): not registered with the leak audit,
   * `close()` does nothing. A handler with buffers, timers or codec contexts says false and is
   * registered (leak type CodecHandler) and closed exactly once.
   */
  readonly stateless: boolean;
  /** The addon's equivalent, or null when this handler needs the JS path. */
  readonly native: NativeCodecAction | null;
  /**
   * Handles one valid RTP packet whose payload type this handler was chosen for. `input` is the
   * sender's per-SSRC state (already counted). The packet buffer is shared with the other
   * sinks: never modify it; emit a copy instead.
   */
  process(packet: Buffer, input: SsrcContext): void;
  /**
   * Optional: a packet of the same sender went to another handler of this sink (e.g. an event
   * between audio packets). A handler that orders packets by sequence number takes it as
   * consumed, so it does not wait for it.
   */
  note?(packet: Buffer): void;
  /** Releases timers and codec state. Called once, under the call's write lock. */
  close(): void;
}

/**
 * Makes a handler for one payload type of one sink, or declines (null) so the next factory is
 * asked. Factories are tried in the order of `codecHandlerFactories` (registry.ts); the
 * built-in pass-through / renumber choice is the fallback when every factory declines.
 */
export interface CodecHandlerFactory {
  readonly name: string;
  create(spec: CodecHandlerSpec, output: CodecOutput): CodecHandler | null;
}
