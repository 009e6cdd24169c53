/**
 * A call's sink handlers and handler accounting (rtpengine's sink_handler lists built by
 * __update_init_subscribers): who receives each stream's packets, through which codec and
 * output handlers, and the input handler each stream decodes with (docs/pipeline.md).
 *
 * Owner and lifetime: sinks live in their source stream's `rtpSinks`/`rtcpSinks`; stateful
 * handlers (codec, transport, timers) are accounted in `call.handlers` so teardown closes and
 * releases each exactly once. Lock rule: only under `call.write()`: packets arriving meanwhile
 * are deferred (CallGate), so none is relayed through a half-built sink list.
 */
import type { CodecHandlerSet } from '../codec/chain.js';
import type { TransportSpec } from '../crypto/transport-handler.js';
import type { DtmfInjector } from '../media/dtmf-inject.js';
import { SinkHandler, type PacketStream } from '../media/packet-stream.js';
import { applyAudioPlayers } from './audio-mix.js';
import type { CallMedia } from './call-media.js';
import type { Call, Closable } from './call.js';
import type { HandlerFactories } from './context.js';
import { DEFAULT_FACTORIES, decideRtcpSink, decideRtpSink, inputFor, recvCrypto } from './handler-chain.js';
import { updateStreamControls } from './media-control.js';
import { RtcpGenerator } from './rtcp-generate.js';

/**
 * Turns subscriptions into sinks (rtpengine's __update_init_subscribers) and decides every
 * handler chain: every stream's sink lists are rebuilt from its monologue's subscribers,
 * media by media index, each sink with its codec and output handlers, each stream with its
 * input handler (docs/pipeline.md).
 */
export function rebuildSinks(call: Call): void {
  call.refuseIfDestroyed('sinks');
  for (const stream of call.streams) clearSinks(call, stream);
  const f = call.ctx.handlerFactories ?? DEFAULT_FACTORIES;
  for (const source of call.monologues) {
    if (source.deleted) continue;
    for (const media of source.medias) {
      setInput(call, media, media.rtp, f);
      setInput(call, media, media.rtcp, f);
      if (media.rejected) continue;
      for (const subscriber of source.subscribers) {
        if (subscriber.deleted) continue;
        const dst = subscriberMedia(subscriber.medias, media);
        if (!dst || dst.rejected) continue;
        const rtp = newSink(call, dst.rtp);
        decideRtpSink(rtp, media, dst, f, call.ctx.config.comfortNoise);
        adoptCodecHandlers(call, rtp);
        adopt(call, rtp.output, 'TransportHandler');
        media.rtp.rtpSinks = appended(media.rtp.rtpSinks, rtp);
        const rtcpTarget = dst.rtcpTarget();
        addRtcpSink(call, media.rtp, newSink(call, rtcpTarget), dst, f);
        addRtcpSink(call, media.rtcp, newSink(call, rtcpTarget), dst, f);
      }
    }
  }
  call.players.refreshOutputs();
  applyAudioPlayers(call);
  updateStreamControls(call);
  if (call.ctx.kernel) for (const stream of call.streams) call.ctx.kernel.update(stream);
}

/**
 * The subscriber's media for `media`: the same m= position, or (participants connected later,
 * whose m= lines are in another order) the first media of the same type.
 */
function subscriberMedia(medias: readonly CallMedia[], media: CallMedia): CallMedia | undefined {
  let sameType: CallMedia | undefined;
  for (let i = 0; i < medias.length; i++) {
    const m = medias[i] as CallMedia;
    if (m.type !== media.type) continue;
    if (m.index === media.index) return m;
    sameType ??= m;
  }
  return sameType;
}

function addRtcpSink(call: Call, stream: PacketStream, sink: SinkHandler, dst: CallMedia, f: HandlerFactories): void {
  decideRtcpSink(sink, dst, f);
  adopt(call, sink.output, 'TransportHandler');
  stream.rtcpSinks = appended(stream.rtcpSinks, sink);
}

/**
 * `list` with `sink` added, at its exact size: not push (a list grown by push keeps room for 17
 * sinks, most streams have 1), and a literal for the first (concat's generic path costs more).
 */
function appended(list: SinkHandler[], sink: SinkHandler): SinkHandler[] {
  return list.length === 0 ? [sink] : list.concat(sink);
}

/** `generate RTCP`: starts the call's report generator (once). Sink rebuilds apply it to the streams. */
export function startRtcpGenerator(call: Call): void {
  call.refuseIfDestroyed('RTCP generator');
  if (call.rtcpGenerator) return;
  call.rtcpGenerator = new RtcpGenerator(call, call.ctx.config.rtcpInterval);
  adopt(call, call.rtcpGenerator, 'Timer');
}

/** `play DTMF`: the sink gets an injector (replacing and closing a previous one). */
export function attachInjector(call: Call, sink: SinkHandler, inj: DtmfInjector): void {
  call.refuseIfDestroyed('DTMF injector');
  if (sink.inject) drop(call, sink.inject);
  sink.inject = inj;
  adopt(call, inj, 'Timer');
}

/** A sink's codec handlers replaced (the audio player mixes what it would have forwarded). */
export function replaceSinkCodec(call: Call, sink: SinkHandler, set: CodecHandlerSet): void {
  if (sink.codec) for (const h of sink.codec.handlers) drop(call, h);
  sink.codec = set;
  adoptCodecHandlers(call, sink);
}

export function newSink(call: Call, dst: PacketStream): SinkHandler {
  return new SinkHandler(dst, call.ctx.leaks.register('SinkHandler', call.callId), call.ctx.counters);
}

/** Registers a stateful handler (stateless ones are shared and not accounted). */
export function adopt(call: Call, h: Closable, type: 'CodecHandler' | 'TransportHandler' | 'Timer'): void {
  if (h.stateless || call.handlers.has(h)) return;
  call.addHandler(h, call.ctx.leaks.register(type, call.callId));
}

function adoptCodecHandlers(call: Call, sink: SinkHandler): void {
  if (sink.codec) for (const h of sink.codec.handlers) adopt(call, h, 'CodecHandler');
}

/** Closes a handler taken out of the chain and releases its accounting. */
export function drop(call: Call, h: Closable): void {
  const handle = call.handlers.get(h);
  if (!handle) return;
  call.removeHandler(h);
  h.close();
  call.release(handle.type, handle, h);
}

/** Re-decides a stream's input handler when what it depends on changed (keeping SRTP state otherwise). */
function setInput(call: Call, media: CallMedia, stream: PacketStream, f: HandlerFactories): void {
  const last = stream.inputSpec;
  const crypto = recvCrypto(media, stream);
  if (last && last.protocol === media.protocol && last.crypto === crypto) return;
  const input = inputFor(media, f, stream);
  stream.inputSpec = crypto === null ? plainSpec(media.protocol) : { protocol: media.protocol, crypto };
  if (stream.input === input) return;
  drop(call, stream.input);
  stream.input = input;
  adopt(call, input, 'TransportHandler');
}

/** Plain transport specs, one per protocol name, shared by every stream (specs are never changed). */
const plainSpecs = new Map<string, TransportSpec>();

function plainSpec(protocol: string): TransportSpec {
  let spec = plainSpecs.get(protocol);
  if (!spec) {
    spec = { protocol, crypto: null };
    // protocol names come from SDP: bounded so a stream of odd names cannot grow it
    if (plainSpecs.size < 64) plainSpecs.set(protocol, spec);
  }
  return spec;
}

export function releaseSink(call: Call, sink: SinkHandler): void {
  if (sink.inject) drop(call, sink.inject);
  sink.inject = null;
  if (sink.codec) for (const h of sink.codec.handlers) drop(call, h);
  drop(call, sink.output);
  call.release('SinkHandler', sink.leak, sink);
}

export function clearSinks(call: Call, stream: PacketStream): void {
  for (const sink of stream.rtpSinks) releaseSink(call, sink);
  for (const sink of stream.rtcpSinks) releaseSink(call, sink);
  stream.rtpSinks = [];
  stream.rtcpSinks = [];
}

/** A stream leaves the call: its sinks, input handler, hooks and SSRC state go with it. */
export function releaseStream(call: Call, stream: PacketStream): void {
  clearSinks(call, stream);
  drop(call, stream.input);
  stream.stun?.close();
  stream.stun = null;
  call.closeDtls(stream);
  stream.bundle = null;
  stream.ssrcIn.clear();
  stream.ssrcOut.clear();
  call.release('PacketStream', stream.leak, stream);
}
