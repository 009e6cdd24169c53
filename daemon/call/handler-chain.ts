/**
 * The handler chain decision (rtpengine's __determine_handler + codec_handlers_update): from
 * both sides' SDP, which input handler each packet stream runs and which codec and output
 * handlers each sink runs. Called by Call.rebuildSinks on every offer/answer, re-INVITE and
 * subscription change, under the call's write lock; never per packet.
 */
import { buildCodecHandlers } from '../codec/chain.js';
import type { CodecDesc } from '../codec/codec-handler.js';
import { codecHandlerFactories } from '../codec/registry.js';
import { buildTranscodeHandlers } from '../codec/transcode.js';
import type { ComfortNoiseConfig } from '../codec/comfort-noise.js';
import { inputHandlerFor, outputHandlerFor, transportHandlerFactories } from '../crypto/registry.js';
import type { CryptoParams, InputHandler } from '../crypto/transport-handler.js';
import type { PacketStream, SinkHandler } from '../media/packet-stream.js';
import { isRtpProtocol, STATIC_PAYLOAD_TYPES, type SdpCodec, type SdpMedia } from '../sdp/sdp-model.js';
import type { CallMedia } from './call-media.js';
import type { HandlerFactories } from './context.js';

export const DEFAULT_FACTORIES: HandlerFactories = { codec: codecHandlerFactories, transport: transportHandlerFactories };

/** A side's codec list in the codec room's terms (static payload types get their well-known names). */
export function codecDescs(codecs: readonly SdpCodec[]): CodecDesc[] {
  return codecs.map((c) => {
    const known = STATIC_PAYLOAD_TYPES[c.payloadType];
    return {
      payloadType: c.payloadType,
      encoding: c.encoding || known?.encoding || '',
      clockRate: c.clockRate || known?.clockRate || 0,
      channels: c.channels ?? known?.channels ?? null,
      fmtp: c.fmtp,
    };
  });
}

export function ptimeOf(sdp: SdpMedia | null): number | null {
  const v = sdp?.attributes.find((a) => a.name === 'ptime')?.value;
  const n = v ? Number(v) : NaN;
  return Number.isFinite(n) && n > 0 ? n : null;
}

/** Both m= lines carry RTP (not e.g. T.38 over udptl): codec handlers apply. */
function bothRtp(a: CallMedia, b: CallMedia): boolean {
  return isRtpProtocol(a.protocol) && isRtpProtocol(b.protocol);
}

/** Decides one RTP sink's codec handlers and output handler (source → dst). */
export function decideRtpSink(sink: SinkHandler, source: CallMedia, dst: CallMedia, f: HandlerFactories = DEFAULT_FACTORIES, cn?: ComfortNoiseConfig): void {
  sink.output = outputHandlerFor({ protocol: dst.protocol, crypto: dst.cryptoSend }, f.transport);
  // a sink the negotiation decided to transcode for follows its routes (codec-negotiation.ts)
  const routes = source.sendRoutes.get(dst) ?? null;
  const transcoding = routes && bothRtp(source, dst) ? buildTranscodeHandlers(routes, sink, cn) : null;
  sink.codec = transcoding ?? (bothRtp(source, dst)
    ? buildCodecHandlers(
      { source: codecDescs(source.codecs), sink: codecDescs(dst.codecs), sourcePtime: ptimeOf(source.sdp), sinkPtime: ptimeOf(dst.sdp) },
      sink,
      f.codec,
    )
    : null);
}

/** Decides an RTCP sink's output handler (a separate RTCP port may have keys of its own). */
export function decideRtcpSink(sink: SinkHandler, dst: CallMedia, f: HandlerFactories = DEFAULT_FACTORIES): void {
  const crypto = sink.dst === dst.rtcp && dst.rtcpCrypto ? dst.rtcpCrypto.send : dst.cryptoSend;
  sink.output = outputHandlerFor({ protocol: dst.protocol, crypto }, f.transport);
}

/** The keys a stream's packets arrive with: the media's, or the RTCP port's own. */
export function recvCrypto(media: CallMedia, stream?: PacketStream): CryptoParams | null {
  return stream === media.rtcp && media.rtcpCrypto ? media.rtcpCrypto.recv : media.cryptoRecv;
}

/** The input handler for one of a media's streams (what its participant sends us). */
export function inputFor(media: CallMedia, f: HandlerFactories = DEFAULT_FACTORIES, stream?: PacketStream): InputHandler {
  return inputHandlerFor({ protocol: media.protocol, crypto: recvCrypto(media, stream) }, f.transport);
}
