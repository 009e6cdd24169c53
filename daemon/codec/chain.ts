/**
 * The codec part of the handler chain decision (rtpengine's codec_handlers_update): for one
 * sink, which handler each payload type of the sender gets. Decided by signalling from both
 * sides' codec lists, never per packet.
 *
 * The rule for plain relaying: a packet's payload type is read in its sender's numbering (the
 * codec list of the sender's own SDP). If the sink lists the same codec (encoding, clock rate,
 * channels) under the same number, or does not list it at all, the packet passes unchanged; if
 * the sink lists it under another number, the packet is renumbered to the sink's. Payload types
 * the sender did not list pass unchanged. Factories (transcoders …) are asked first.
 */
import type { CodecDesc, CodecHandler, CodecHandlerFactory, CodecOutput } from './codec-handler.js';
import type { SsrcContext } from './ssrc.js';
import { PassthroughHandler, RenumberHandler } from './passthrough.js';

export function sameCodec(a: CodecDesc, b: CodecDesc): boolean {
  return a.clockRate === b.clockRate
    && (a.channels ?? 1) === (b.channels ?? 1)
    && a.encoding.toLowerCase() === b.encoding.toLowerCase();
}

export interface CodecPlanEntry {
  pt: number;
  kind: 'passthrough' | 'renumber';
  /** The payload type the packet leaves with. */
  to: number;
}

/** The built-in decision for every payload type of the sender (pure: unit-testable). */
export function planCodecHandlers(source: readonly CodecDesc[], sink: readonly CodecDesc[]): CodecPlanEntry[] {
  const out: CodecPlanEntry[] = [];
  for (const c of source) {
    const match = sinkMatch(c, sink);
    const to = match ? match.payloadType : c.payloadType;
    out.push({ pt: c.payloadType, kind: to === c.payloadType ? 'passthrough' : 'renumber', to });
  }
  return out;
}

/** The sink's codec for `c`: its own number first, else the first codec that is the same. */
function sinkMatch(c: CodecDesc, sink: readonly CodecDesc[]): CodecDesc | null {
  const samePt = sink.find((s) => s.payloadType === c.payloadType);
  if (samePt && sameCodec(samePt, c)) return samePt;
  return sink.find((s) => sameCodec(s, c)) ?? null;
}

/** Handlers of one sink by payload type; `fallback` takes payload types the sender did not list. */
export class CodecHandlerSet {
  readonly byPt: (CodecHandler | undefined)[] = new Array<CodecHandler | undefined>(128);
  readonly handlers: CodecHandler[] = [];

  constructor(readonly fallback: CodecHandler) {}

  /** Handlers that want to hear of packets handled by the others (sequencing transcoders). */
  private readonly noted: CodecHandler[] = [];

  set(pt: number, h: CodecHandler): void {
    this.byPt[pt & 0x7f] = h;
    this.handlers.push(h);
    if (h.note) this.noted.push(h);
  }

  lookup(pt: number): CodecHandler {
    return this.byPt[pt] ?? this.fallback;
  }

  /** A packet of the sender the relay itself dropped before the sinks (blocked, malformed). */
  skipped(packet: Buffer): void {
    const noted = this.noted;
    for (let i = 0; i < noted.length; i++) noted[i]!.note!(packet);
  }

  /** Hands a packet to its handler and tells the sequencing ones of the others about it. */
  dispatch(packet: Buffer, input: SsrcContext): void {
    const h = this.byPt[(packet[1] as number) & 0x7f] ?? this.fallback;
    h.process(packet, input);
    const noted = this.noted;
    for (let i = 0; i < noted.length; i++) if (noted[i] !== h) noted[i]!.note!(packet);
  }
}

export interface CodecSides {
  source: readonly CodecDesc[];
  sink: readonly CodecDesc[];
  sourcePtime: number | null;
  sinkPtime: number | null;
}

/**
 * Builds one sink's handlers, or returns null when every payload type passes unchanged (the
 * packet path then skips the lookup altogether).
 */
export function buildCodecHandlers(
  sides: CodecSides,
  output: CodecOutput,
  factories: readonly CodecHandlerFactory[],
): CodecHandlerSet | null {
  const plan = planCodecHandlers(sides.source, sides.sink);
  let set: CodecHandlerSet | null = null;
  const made: Array<[number, CodecHandler]> = [];
  for (let i = 0; i < sides.source.length; i++) {
    const source = sides.source[i] as CodecDesc;
    const entry = plan[i] as CodecPlanEntry;
    if (made.some(([pt]) => pt === source.payloadType)) continue; // a PT listed twice: first wins
    const sink = sides.sink.find((s) => s.payloadType === entry.to && sameCodec(s, source)) ?? null;
    let h: CodecHandler | null = null;
    for (const f of factories) {
      h = f.create({ source, sink, sinkCodecs: sides.sink, sourceCodecs: sides.source, sourcePtime: sides.sourcePtime, sinkPtime: sides.sinkPtime }, output);
      if (h) break;
    }
    if (!h && entry.kind === 'renumber') h = new RenumberHandler(output, entry.pt, entry.to);
    if (h) made.push([source.payloadType, h]);
    else made.push([source.payloadType, new PassthroughHandler(output, source.payloadType)]);
  }
  if (made.every(([, h]) => h instanceof PassthroughHandler)) return null;
  set = new CodecHandlerSet(new PassthroughHandler(output, -1));
  for (const [pt, h] of made) set.set(pt, h);
  return set;
}
