/**
 * One m= line of a monologue (rtpengine's call_media): its RTP and RTCP packet streams, the
 * local port pair they use, and what the participant's SDP said. Owned by the Call
 * (call.medias); `monologue` is a back-reference. Changed only under the call's write lock.
 */
import type { CryptoParams } from '../crypto/transport-handler.js';
import type { IceAgent } from '../ice/agent.js';
import type { DtlsMedia } from './call-dtls.js';
import type { LeakHandle } from '../leak/registry.js';
import type { PacketStream, StreamFd } from '../media/packet-stream.js';
import type { LocalAddress } from '../net/interfaces.js';
import type { Direction, SdpCodec, SdpMedia } from '../sdp/sdp-model.js';
import type { CodecOffer, CodecRoute, PreviousCodecs } from './codec-negotiation.js';
import type { RtcpMuxOption } from './flags.js';
import { NO_MUX_POLICY } from './rtcp-mux.js';
import type { Monologue } from './monologue.js';
import { SdesState, type SdesFlags } from '../crypto/sdes-negotiate.js';
import type { LegacyOsrtp } from './osrtp-legacy.js';
import type { BundleDemux } from '../media/bundle-demux.js';

/**
 * A BUNDLE group of one participant's m= lines (call/bundle.ts): `head` is the tagged m= line
 * whose transport (ports, sockets, ICE) the others use once `shared`.
 */
export interface BundleGroup {
  head: CallMedia;
  /** Every m= line of the group in m= order, the head among them. */
  medias: CallMedia[];
  /** One transport for all (an accepted or required bundle); false: offered, not yet answered. */
  shared: boolean;
  /** Demultiplexes packets arriving on the head's port (when shared). */
  demux: BundleDemux | null;
}

/** What the BUNDLE demultiplexer needs to know of one m= line of a participant. */
export interface BundleInfo {
  mid: string | null;
  payloadTypes: number[];
  ssrcs: number[];
  /** The id the participant uses for the MID header extension (0: none). */
  midExtId: number;
}

export interface PortPair {
  local: LocalAddress;
  port: number;
  leak: LeakHandle;
}

/** ICE: a host candidate on another address of the media's interface (its own port pair). */
export interface IceHost extends PortPair {
  rtpFd: StreamFd;
  rtcpFd: StreamFd;
}

export class CallMedia {
  /** Local ports of this side: where the participant sends and where we send from. */
  ports: PortPair | null = null;
  /** The participant's last SDP for this m= line (null until it sent one). */
  sdp: SdpMedia | null = null;
  type: string;
  protocol = 'RTP/AVP';
  direction: Direction = 'sendrecv';
  codecs: SdpCodec[] = [];
  // rtcp-mux state: written only by decideRtcpMux (rtcp-mux.ts), which says what each means
  muxOffered = false;
  rtcpMux = false;
  muxPolicy: ReadonlySet<RtcpMuxOption> = NO_MUX_POLICY;
  /** Port 0 in the participant's SDP: no ports, no sinks. */
  rejected = false;
  /** SDES: the participant's lines, ours to it, the keys each way. */
  readonly sdes = new SdesState();
  /** The participant speaks SRTP (RTP/SAVP[F], or an accepted OSRTP offer). */
  srtp = false;
  /** We offered it SRTP (SAVP or OSRTP); its answer says whether it took it. */
  srtpOffered = false;
  /** Legacy OSRTP (osrtp-legacy.ts): the participant wrote this media as a plain + SRTP pair; where the plain twin goes. */
  legacyOsrtp: LegacyOsrtp | null = null;
  /** The m= protocol we last wrote toward this participant. */
  protocolSent: string | null = null;
  /** The SDES flags of the offer this m= line was last negotiated with (answers carry none). */
  sdesFlags: SdesFlags | null = null;
  /** The offer this participant received, kept until it answers. */
  codecOffer: CodecOffer | null = null;
  /** The last negotiated codecs seen from this side, for `reuse codecs` / `static codecs` on a re-offer. */
  previousCodecs: PreviousCodecs | null = null;
  /** How packets this participant sends reach each peer media, per payload type (absent: the built-in decision). */
  readonly sendRoutes = new Map<CallMedia, CodecRoute[]>();
  /** SRTP keys the participant sends with (its SDP), and we send to it with (our SDP to it); null: plain. */
  cryptoRecv: CryptoParams | null = null;
  cryptoSend: CryptoParams | null = null;
  /** Keys of the RTCP port's own DTLS association (no rtcp-mux, RFC 5764 §4.1.2); null: RTCP uses the above. */
  rtcpCrypto: { recv: CryptoParams; send: CryptoParams } | null = null;
  /** The ICE agent when the relay terminates ICE toward this participant (call-ice.ts). */
  ice: IceAgent | null = null;
  iceLeak: LeakHandle | null = null;
  /** Foundation of our candidates toward this participant. */
  iceFoundation = '';
  /** ICE host candidates on the interface's other addresses (call.ts allocateIceHosts). */
  iceHosts: IceHost[] = [];
  /** DTLS-SRTP toward this participant (call-dtls.ts); null when the relay does none. */
  dtls: DtlsMedia | null = null;
  /** `ICE=force-relay`: the participants' own ICE runs end to end; we are only a relay candidate. */
  iceRelay = false;
  /** BUNDLE toward this participant: its group, or null. */
  bundle: BundleGroup | null = null;
  /** The group's head when this m= line uses the head's transport (no ports of its own). */
  bundleHead: CallMedia | null = null;
  /** What packets of this m= line look like, for the BUNDLE demultiplexer. */
  bundleInfo: BundleInfo | null = null;

  constructor(
    readonly monologue: Monologue,
    /** 1-based position of the m= line, as rtpengine numbers medias. */
    readonly index: number,
    type: string,
    readonly rtp: PacketStream,
    readonly rtcp: PacketStream,
    readonly leak: LeakHandle,
  ) {
    this.type = type;
  }

  /** Where RTCP for this participant goes: its RTP stream when muxed. */
  rtcpTarget(): PacketStream {
    return this.rtcpMux ? this.rtp : this.rtcp;
  }
}
