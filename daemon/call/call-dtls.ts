/**
 * DTLS-SRTP on the call model (rtpengine's DTLS handling in call.c/sdp.c/dtls.c, RFC 5763/5764):
 * per m= line, whether the relay terminates DTLS toward a participant, the a=setup /
 * a=fingerprint / a=tls-id lines it writes, which end of each association it is, the sessions
 * on the media's streams, and the SRTP keys they give.
 *
 * Rules:
 * - A participant whose SDP has a=fingerprint on an SRTP m= line (`UDP/TLS/RTP/SAVP[F]`,
 *   `RTP/SAVP[F]`) speaks DTLS-SRTP; the relay terminates it unless `DTLS=off`.
 * - Toward the receiver of an offer the relay offers DTLS when the m= protocol it writes is
 *   `UDP/TLS/…`, or when it is `RTP/SAVP[F]` and the offerer spoke DTLS too, no a=crypto goes
 *   out (`SDES=off`), or `DTLS=passive`/`active` asks for it; `DTLS=off` never. (rtpengine adds
 *   DTLS beside SDES on every SRTP offer; we keep SDES-only offers as they were.) Its a=setup is `actpass`, or `passive` with
 *   `DTLS=passive` (or `--dtls-passive` unless `DTLS=active`).
 * - Toward a participant that offered DTLS, the answer takes the role its a=setup leaves: its
 *   `active` makes us passive, `passive` active; for `actpass` we prefer active unless
 *   `DTLS-reverse` / `DTLS` say `passive` (or `--dtls-passive`).
 * - An answerer's a=setup decides the role of an association we offered (`active` or none:
 *   we are passive; `passive`: we are active).
 * - The a=fingerprint hash: `DTLS-fingerprint`, else the one the peer used, else sha-256.
 * - Media of a DTLS side is blocked until its handshake gives keys; a handshake that fails
 *   (wrong fingerprint, timeout, alert) leaves it blocked, logged and counted.
 * The active end starts its handshake once it knows where the peer is: the selected ICE pair,
 * or without ICE the SDP address. Sessions survive re-INVITEs that keep the peer's fingerprint.
 */
import { randomBytes } from 'node:crypto';
import { fingerprintHash, fingerprintLine, type FingerprintHash } from '../crypto/dtls-cert.js';
import type { NativeDtlsCert } from '../crypto/dtls-native.js';
import { DTLS_PENDING } from '../crypto/dtls-pending.js';
import { DtlsSession, parseFingerprint, type DtlsKeys, type Fingerprint } from '../crypto/dtls-session.js';
import { NgCommandError } from '../errors.js';
import type { PacketStream } from '../media/packet-stream.js';
import type { SdpMedia, SdpSession } from '../sdp/sdp-model.js';
import type { CallMedia } from './call-media.js';
import type { Call } from './call.js';
import type { NgFlags } from './flags.js';

type Setup = 'actpass' | 'active' | 'passive';

/** DTLS-SRTP toward one participant on one m= line. */
export class DtlsMedia {
  /** The participant's a=fingerprint, a=setup and a=tls-id. */
  remote: Fingerprint | null = null;
  remoteSetup: string | null = null;
  remoteTlsId: string | null = null;
  /**
   * `offered`: we offered DTLS to it and wait for its answer; `remote-offer`: it offered DTLS,
   * our answer decides the roles; `negotiated`: roles known, sessions running.
   */
  phase: 'offered' | 'remote-offer' | 'negotiated' = 'offered';
  /** What our a=setup said last. */
  setup: Setup = 'actpass';
  /** Our end of the association once negotiated (true: DTLS client). */
  active = false;
  /** The role we take when the participant leaves it to us (actpass). */
  prefer: 'active' | 'passive' = 'active';
  keys: DtlsKeys | null = null;
  /** Keys of the RTCP port's association (no rtcp-mux). */
  rtcpKeys: DtlsKeys | null = null;
  failed: string | null = null;
  readonly tlsId = randomBytes(16).toString('hex');

  constructor(
    /** The certificate our a=fingerprint announced for this media (fixed while it lives). */
    readonly cert: NativeDtlsCert,
    public hash: FingerprintHash,
  ) {}
}

/** What a participant's SDP says about DTLS (media level first, then session level). */
export interface RemoteDtls {
  /** Some a=fingerprint was present (a malformed one counts: it asked for DTLS). */
  present: boolean;
  fingerprint: Fingerprint | null;
  setup: string | null;
  tlsId: string | null;
}

export function remoteDtls(sdp: SdpMedia, session: SdpSession): RemoteDtls {
  const get = (name: string) => sdp.attributes.find((a) => a.name === name)?.value
    ?? session.attributes.find((a) => a.name === name)?.value ?? null;
  const fp = get('fingerprint');
  return {
    present: fp !== null,
    fingerprint: fp === null ? null : parseFingerprint(fp),
    setup: get('setup')?.trim().toLowerCase() ?? null,
    tlsId: get('tls-id')?.trim() ?? null,
  };
}

export function isUdpTls(protocol: string): boolean {
  return /^UDP\/TLS\//i.test(protocol);
}

function isSrtp(protocol: string): boolean {
  return /\bRTP\/SAVPF?$/i.test(protocol);
}

/** The certificate for new DTLS media; an offer that needs DTLS fails clearly without one. */
function certificate(call: Call): NativeDtlsCert {
  const d = call.ctx.dtls;
  if (!d?.certs) throw new NgCommandError('NO_DTLS', d?.unavailable || 'no DTLS certificate');
  return d.certs.current();
}

function dtlsAvailable(call: Call): boolean {
  return !!call.ctx.dtls?.certs;
}

function sameFingerprint(a: Fingerprint | null, b: Fingerprint | null): boolean {
  return a !== null && b !== null && a.hash === b.hash && a.value.equals(b.value);
}

/** Stops a media's DTLS (sessions closed, state gone). */
export function closeDtlsMedia(call: Call, media: CallMedia): void {
  call.closeDtls(media.rtp);
  call.closeDtls(media.rtcp);
  media.dtls = null;
}

function restart(call: Call, media: CallMedia, d: DtlsMedia): void {
  call.closeDtls(media.rtp);
  call.closeDtls(media.rtcp);
  d.keys = null;
  d.rtcpKeys = null;
  d.failed = null;
  d.phase = 'remote-offer';
}

function ourLines(d: DtlsMedia, flags: NgFlags): string[] {
  const lines = [`setup:${d.setup}`, `fingerprint:${fingerprintLine(d.cert, d.hash)}`];
  if (!flags.flags.has('no-tls-id')) lines.push(`tls-id:${d.tlsId}`);
  return lines;
}

function hashFor(flags: NgFlags, peer: Fingerprint | null, current?: FingerprintHash): FingerprintHash {
  return (flags.dtlsFingerprint ? fingerprintHash(flags.dtlsFingerprint) : null) ?? current
    ?? (peer ? fingerprintHash(peer.hash) : null) ?? 'sha-256';
}

function configPassive(call: Call): boolean {
  return call.ctx.dtls?.passive ?? false;
}

/** The sender of an SDP (offer or answer) speaks DTLS: records what it said. */
function takeRemote(call: Call, media: CallMedia, theirs: RemoteDtls, flags: NgFlags): DtlsMedia {
  let d = media.dtls;
  if (!d) {
    d = new DtlsMedia(certificate(call), hashFor(flags, theirs.fingerprint));
    media.dtls = d;
  } else if (flags.dtlsFingerprint) {
    d.hash = hashFor(flags, theirs.fingerprint);
  }
  const changed = !sameFingerprint(d.remote, theirs.fingerprint) || (theirs.tlsId !== null && d.remoteTlsId !== null && theirs.tlsId !== d.remoteTlsId);
  if (d.phase === 'negotiated' && changed) restart(call, media, d);
  d.remote = theirs.fingerprint;
  d.remoteSetup = theirs.setup;
  d.remoteTlsId = theirs.tlsId;
  return d;
}

/**
 * One m= line of an offer. Returns the DTLS lines of the receiver's SDP: our own, [] to strip
 * the offerer's (we terminate its DTLS), or undefined to pass the input's through.
 */
export function dtlsOffer(call: Call, sm: CallMedia, rm: CallMedia, sdp: SdpMedia, session: SdpSession, flags: NgFlags, outProtocol: string, sdesLines: number): string[] | undefined {
  const off = flags.dtls === 'off';
  const theirs = remoteDtls(sdp, session);
  const senderDtls = theirs.present && isSrtp(sdp.protocol) && !off && sdp.port !== 0;
  if (senderDtls) {
    const d = takeRemote(call, sm, theirs, flags);
    if (d.phase === 'offered') d.phase = 'remote-offer';
    const pref = flags.dtlsReverse ?? (flags.dtls === 'off' ? undefined : flags.dtls);
    d.prefer = pref ?? (configPassive(call) ? 'passive' : 'active');
  } else if (sm.dtls && sm.dtls.phase !== 'offered') {
    // the participant offers without DTLS now: its association ends
    closeDtlsMedia(call, sm);
  }

  const explicit = flags.dtls === 'passive' || flags.dtls === 'active';
  // an SRTP receiver that SDES does not key (no a=crypto goes out) gets DTLS as well
  const want = !off && sdp.port !== 0 && isSrtp(outProtocol)
    && (isUdpTls(outProtocol) || senderDtls || ((explicit || sdesLines === 0) && dtlsAvailable(call)));
  if (!want) {
    if (rm.dtls) closeDtlsMedia(call, rm);
    return senderDtls || (off && theirs.present) ? [] : undefined;
  }
  let d = rm.dtls;
  if (!d) {
    d = new DtlsMedia(certificate(call), hashFor(flags, theirs.fingerprint));
    rm.dtls = d;
  } else if (flags.dtlsFingerprint) {
    d.hash = hashFor(flags, null);
  }
  if (d.phase !== 'negotiated') {
    d.phase = 'offered';
    const passive = flags.dtls === 'passive' || (configPassive(call) && flags.dtls !== 'active');
    d.setup = passive ? 'passive' : 'actpass';
  }
  return ourLines(d, flags);
}

/**
 * One m= line of an answer (`sm` answered, `rm` offered). Returns the DTLS lines of the
 * offerer's SDP, as dtlsOffer does.
 */
export function dtlsAnswer(call: Call, sm: CallMedia, rm: CallMedia, sdp: SdpMedia, session: SdpSession, flags: NgFlags): string[] | undefined {
  const theirs = remoteDtls(sdp, session);
  let answererDtls = false;
  // the association we offered to the answerer: its a=setup decides our end
  if (sm.dtls) {
    if (theirs.present && isSrtp(sdp.protocol) && sdp.port !== 0) {
      const d = takeRemote(call, sm, theirs, flags);
      // RFC 4145: an answer without a=setup means it is active; actpass is not allowed in an
      // answer, and we take the active end then
      const active = theirs.setup === 'passive' || theirs.setup === 'actpass';
      if (d.phase === 'negotiated' && d.active !== active) restart(call, sm, d);
      d.active = active;
      d.setup = active ? 'active' : 'passive';
      d.phase = 'negotiated';
      answererDtls = true;
    } else {
      closeDtlsMedia(call, sm);
    }
  }
  // the association the offerer asked for: our answer says which end we are
  const d = rm.dtls;
  if (!d || d.phase === 'offered') {
    if (d) closeDtlsMedia(call, rm); // we offered it DTLS earlier; this exchange is not DTLS toward it
    return answererDtls ? [] : undefined;
  }
  if (sdp.port === 0) {
    closeDtlsMedia(call, rm);
    return answererDtls ? [] : undefined;
  }
  if (d.phase !== 'negotiated') {
    const pref = flags.dtlsReverse ?? (flags.dtls === 'passive' || flags.dtls === 'active' ? flags.dtls : undefined) ?? d.prefer;
    const rs = d.remoteSetup;
    d.active = rs === 'passive' ? true : rs === 'active' ? false : pref === 'active';
    d.setup = d.active ? 'active' : 'passive';
    d.phase = 'negotiated';
  }
  return ourLines(d, flags);
}

/** After offer/answer: a DTLS side's keys in the pipeline's terms (blocked until the handshake gives them). */
export function syncDtlsContexts(media: CallMedia): void {
  const own = media.dtls;
  if (!own || own.phase === 'offered') {
    media.rtcpCrypto = null;
    return;
  }
  // a BUNDLE member uses its head's transport, and so its association's keys
  const d = media.bundleHead?.dtls ?? own;
  media.cryptoRecv = d.keys?.recv ?? DTLS_PENDING;
  media.cryptoSend = d.keys?.send ?? DTLS_PENDING;
  // without rtcp-mux the RTCP port has its own association and keys (RFC 5764 §4.1.2)
  media.rtcpCrypto = media.rtcpMux ? null : { recv: d.rtcpKeys?.recv ?? DTLS_PENDING, send: d.rtcpKeys?.send ?? DTLS_PENDING };
}

/** The streams that carry an association: RTP, and RTCP on its own port without rtcp-mux. */
function dtlsStreams(media: CallMedia): PacketStream[] {
  return media.rtcpMux ? [media.rtp] : [media.rtp, media.rtcp];
}

/**
 * Creates the sessions of a negotiated media (once) and starts the active end where it can.
 * Called after every offer/answer, once BUNDLE groups are known: a member runs none (its
 * head's association covers the shared transport).
 */
export function startDtls(call: Call, media: CallMedia): void {
  const d = media.dtls;
  const native = call.ctx.dtls?.certs?.native;
  if (!d || d.phase !== 'negotiated' || !native || media.bundleHead) {
    if (media.bundleHead) {
      call.closeDtls(media.rtp);
      call.closeDtls(media.rtcp);
    }
    return;
  }
  if (media.rtcpMux) call.closeDtls(media.rtcp);
  for (const stream of dtlsStreams(media)) {
    if (stream.dtls) continue;
    const rtcp = stream === media.rtcp;
    // the media's call, looked up when the event comes: calls may have merged since
    const session = new DtlsSession(native, d.cert, d.active, d.remote, {
      connected: (keys) => dtlsConnected(media.monologue.call, media, rtcp, keys),
      failed: (reason) => dtlsFailed(media.monologue.call, media, rtcp, reason),
    }, call.ctx.dtls?.mtu, call.ctx.dtls?.handshakeMs);
    call.adoptDtls(stream, session);
  }
  kickDtls(call, media);
}

/**
 * The active end sends its ClientHello once the peer's address is known: the selected ICE pair
 * of the component, or (no ICE) the SDP address. Called again when ICE selects a pair.
 */
export function kickDtls(call: Call, media: CallMedia): void {
  const d = media.dtls;
  if (!d || d.phase !== 'negotiated' || !d.active) return;
  for (const stream of dtlsStreams(media)) {
    const session = stream.dtls;
    if (!(session instanceof DtlsSession)) continue;
    const fd = stream.selectedFd;
    const component = stream === media.rtp ? 1 : 2;
    const peer = media.ice ? media.ice.selectedPairs.get(component) ?? null : stream.sendable();
    if (fd && peer) session.start(fd.socket, peer);
  }
}

function dtlsConnected(call: Call, media: CallMedia, rtcp: boolean, keys: DtlsKeys): void {
  const d = media.dtls;
  if (call.destroyed || !d) return;
  call.log(media.monologue.tag).info({ media: media.index, component: rtcp ? 2 : 1, profile: keys.profile, role: d.active ? 'active' : 'passive' }, 'DTLS-SRTP established');
  if (rtcp) d.rtcpKeys = keys;
  else d.keys = keys;
  syncDtlsContexts(media);
  for (const m of call.medias) if (m.bundleHead === media) syncDtlsContexts(m);
  call.rebuildSinks();
}

function dtlsFailed(call: Call, media: CallMedia, rtcp: boolean, reason: string): void {
  if (call.destroyed) return;
  call.ctx.counters.add('dtlsFailures');
  if (media.dtls && !rtcp) media.dtls.failed = reason;
  call.log(media.monologue.tag).warn({ media: media.index, component: rtcp ? 2 : 1, reason }, 'DTLS-SRTP handshake failed, media of this stream stays blocked');
}
