/**
 * The typed flag model the call logic reads (rtpengine's sdp_ng_flags, kept beside the call
 * code). `control/` parses ng messages into it; nothing in `call/` knows about bencode.
 */
import type { SdesFlags } from '../crypto/sdes-negotiate.js';
import type { DtmfLogDest } from '../log/dtmf-log.js';

export type { SdesFlags };
export type DtlsOption = 'off' | 'passive' | 'active';
export type OsrtpOption = 'offer' | 'offer-legacy' | 'accept' | 'accept-legacy';
import type { LearningMode } from '../net/endpoint.js';

export type { LearningMode };
export type RtcpMuxOption = 'offer' | 'demux' | 'accept' | 'reject' | 'require';
export type ReplaceOption = 'origin' | 'origin-full' | 'session-connection' | 'sdp-version' | 'force-increment-sdp-ver' | 'username' | 'session-name' | 'zero-address';
export type IceOption = 'remove' | 'force' | 'default' | 'force-relay' | 'optional' | 'reject';
/** `ICE-lite`: which side(s) we act as an ICE-lite agent toward (offer only). */
export type IceLiteOption = 'forward' | 'backward' | 'both' | 'off';
/** `bundle` (RFC 8843/9143): accept a bundled offer, bundle our offer, one port from the start, RFC bundle-only. */
export type BundleOption = 'accept' | 'offer' | 'require' | 'strict' | 'reject';

/** The ng `audio-player` values (`force` is rtpengine's older spelling of `always`). */
export type AudioPlayerMode = 'default' | 'transcoding' | 'always' | 'off';

export interface CodecFlags {
  strip: string[];
  offer: string[];
  mask: string[];
  except: string[];
  transcode: string[];
  accept: string[];
  consume: string[];
  ignore: string[];
  set: string[];
}

export interface DtmfSecFlags {
  trigger?: string;
  triggerEnd?: string;
  modeTrigger?: string;
  modeTriggerEnd?: string;
  endMs?: number;
  endDigits?: number;
  frequencies?: number[];
  delay?: number;
  logDest?: DtmfLogDest;
}

export interface NgFlags {
  command: string;
  callId?: string;
  /** `subscribe request`: the publishers (we take the first). */
  fromTags: string[];
  /** `connect` across calls names the other call. */
  toCallId?: string;
  /** `mesh`: the calls to merge. */
  calls?: string[];
  /** `mesh`: media flows, each `from` participant heard by the `to` participants. */
  meshTags?: Array<{ from: string; to: string[] }>;
  /** `create`: codecs of the default audio media (rtpengine's `codecs-offer`). */
  codecsOffer?: string[];
  /** `create`: the m= lines to offer, each with its type and codecs. */
  medias?: Array<{ type: string; codecs: string[] }>;
  fromTag?: string;
  toTag?: string;
  viaBranch?: string;
  sdp?: string;
  label?: string;
  setLabel?: string;
  toLabel?: string;
  receivedFrom?: { family: 4 | 6; address: string };
  mediaAddress?: string;
  addressFamily?: 4 | 6;
  direction: string[];
  fromInterface?: string;
  toInterface?: string;
  /** `interface`: the one interface of a single-sided command (publish, subscribe request). */
  interface?: string;
  ice?: IceOption;
  iceLite?: IceLiteOption;
  rtcpMux: Set<RtcpMuxOption>;
  /** `bundle` list (call/bundle.ts). */
  bundle: Set<BundleOption>;
  /** `extmap: {strip: [...]}`: header-extension URIs (or `all`) whose a=extmap lines are removed. */
  extmapStrip?: string[];
  replace: Set<ReplaceOption>;
  codec: CodecFlags;
  /** `ptime`: packet time toward the receiver of an offer (repacketises). */
  ptime?: number;
  /** `ptime-reverse`: packet time toward the offerer, written into the answer. */
  ptimeReverse?: number;
  endpointLearning?: LearningMode;
  transportProtocol?: string;
  /** The `SDES` flag family. */
  sdes: SdesFlags;
  /** `OSRTP`: opportunistic SRTP (RFC 8643) and its legacy two-m=-line form. */
  osrtp: Set<OsrtpOption>;
  /** `DTLS`: `off` (also `no`, `disable`) or the role the relay prefers (call-dtls.ts). */
  dtls?: DtlsOption;
  /** `DTLS-reverse`: the role preferred toward a participant that offered DTLS to us. */
  dtlsReverse?: 'passive' | 'active';
  /** `DTLS-fingerprint`: hash of the a=fingerprint we write (sha-1 … sha-512). */
  dtlsFingerprint?: string;
  deleteDelay?: number;
  limit?: number;
  tos?: number;
  supports: Set<string>;
  /** Normalised boolean flags: trust-address, strict-source, fatal, fast, … */
  flags: Set<string>;
  /** `play DTMF`: `code`/`digit`, `duration` and `pause` (ms), `volume` (dB). */
  dtmf: { code?: string; duration?: number; volume?: number; pause?: number };
  /** `play media`: the source (`file`, `blob`, `blob64`, `db-id`) and how to play it. */
  play: { file?: string; blob?: Buffer; blob64?: string; dbId?: string; repeatTimes?: number; repeatDuration?: number; startPos?: number };
  /** `audio-player`: per-call override of --audio-player (mixing toward a receiver). */
  audioPlayer?: AudioPlayerMode;
  /** `block DTMF`: rtpengine's DTMF-security mode. */
  dtmfSecurity?: string;
  /** DTMF triggers, tone frequencies, DTMF-delay and DTMF-log-dest (see media/dtmf-security.ts). */
  dtmfSec: DtmfSecFlags;
  /**
   * rtpengine-documented flags and keys this message used that the daemon does not implement
   * yet (names from call/unsupported-flags.ts): warned about once per call and counted.
   */
  unsupported?: Set<string>;
  /** For `cli`: the CLI command line to run. */
  body?: string;
  /** For `leak-stacks`: the object types to watch. */
  types?: string[];
}
