/**
 * One DTLS-SRTP association on one packet stream (rtpengine's dtls_connection, RFC 5763/5764):
 * the stream's DTLS hook. The handshake runs in the addon (kernel/src/dtls.cc) on memory BIOs;
 * this side feeds it the records that arrive (RFC 7983 demux happened in the packet path),
 * sends what it writes, drives its retransmission timer, checks the peer's certificate against
 * the a=fingerprint of its SDP, and turns the exported keying material into the two SRTP
 * directions (RFC 5764 §4.2).
 *
 * Bounded: one timer per session, and the whole handshake gets HANDSHAKE_LIMIT_MS; a session
 * that never finishes fails then and frees its SSL object. `close()` frees everything at once.
 */
import { timingSafeEqual } from 'node:crypto';
import type { Endpoint } from '../net/endpoint.js';
import type { MediaSocket } from '../net/media-socket.js';
import type { DtlsHook } from './dtls-hook.js';
import {
  DTLS_CONNECTED, DTLS_FAILED, DTLS_HANDSHAKING, type NativeDtls, type NativeDtlsCert, type NativeDtlsConnection,
} from './dtls-native.js';
import type { CryptoParams } from './transport-handler.js';

/** A handshake that has not finished after this long fails (OpenSSL alone would retry for minutes). */
export const HANDSHAKE_LIMIT_MS = 30_000;
/** Retransmission timers never fire sooner than this (OpenSSL starts at 1 s and backs off). */
const MIN_TIMER_MS = 10;

/** The peer's certificate fingerprint from its SDP (a=fingerprint). */
export interface Fingerprint {
  /** SDP hash name, lower case: sha-1, sha-224, sha-256, sha-384, sha-512. */
  hash: string;
  value: Buffer;
}

/** The keys of both SRTP directions of this association. */
export interface DtlsKeys {
  /** What the peer encrypts with (our input handler decrypts with it). */
  recv: CryptoParams;
  /** What we encrypt with toward the peer. */
  send: CryptoParams;
  /** OpenSSL's name of the negotiated SRTP protection profile. */
  profile: string;
}

export interface DtlsSessionEvents {
  connected(keys: DtlsKeys): void;
  failed(reason: string): void;
}

export type DtlsSessionState = 'new' | 'handshaking' | 'connected' | 'failed' | 'closed';

/** RFC 5764 profile names (as OpenSSL spells them) → the SRTP layer's suite names. */
const PROFILE_SUITES: Record<string, string> = {
  SRTP_AES128_CM_SHA1_80: 'AES_CM_128_HMAC_SHA1_80',
  SRTP_AES128_CM_SHA1_32: 'AES_CM_128_HMAC_SHA1_32',
  SRTP_AEAD_AES_128_GCM: 'AEAD_AES_128_GCM',
  SRTP_AEAD_AES_256_GCM: 'AEAD_AES_256_GCM',
};

/** Parses an `a=fingerprint` value (`sha-256 AB:CD:…`); null if malformed. */
export function parseFingerprint(value: string): Fingerprint | null {
  const m = /^\s*(sha-(?:1|224|256|384|512))\s+([0-9a-f]{2}(?::[0-9a-f]{2})+)\s*$/i.exec(value);
  if (!m) return null;
  const value_ = Buffer.from(m[2]!.replace(/:/g, ''), 'hex');
  const lengths: Record<string, number> = { 'sha-1': 20, 'sha-224': 28, 'sha-256': 32, 'sha-384': 48, 'sha-512': 64 };
  const hash = m[1]!.toLowerCase();
  if (value_.length !== lengths[hash]) return null;
  return { hash, value: value_ };
}

/**
 * A datagram of well-formed DTLS records (RFC 6347 §4.1: type 20..25, version 1.0 or 1.2,
 * 13-byte header, lengths that add up to the datagram). Anything else is garbage that the
 * packet path counts and drops before OpenSSL sees it.
 */
export function isDtlsDatagram(d: Buffer): boolean {
  let off = 0;
  while (off < d.length) {
    if (d.length - off < 13) return false;
    const type = d[off]!;
    const version = d.readUInt16BE(off + 1);
    const len = d.readUInt16BE(off + 11);
    if (type < 20 || type > 25 || (version !== 0xfefd && version !== 0xfeff)) return false;
    off += 13 + len;
    if (off > d.length) return false;
  }
  return true;
}

/** `AB:CD:…`: how SDP writes a fingerprint. */
export function formatFingerprint(value: Buffer): string {
  return [...value].map((b) => b.toString(16).padStart(2, '0').toUpperCase()).join(':');
}

/** Splits RFC 5764 keying material (client key, server key, client salt, server salt). */
export function keysFromMaterial(profile: string, keyLen: number, saltLen: number, material: Buffer, weAreClient: boolean): DtlsKeys | null {
  const suite = PROFILE_SUITES[profile];
  if (!suite || material.length !== 2 * (keyLen + saltLen)) return null;
  const clientKey = material.subarray(0, keyLen);
  const serverKey = material.subarray(keyLen, 2 * keyLen);
  const clientSalt = material.subarray(2 * keyLen, 2 * keyLen + saltLen);
  const serverSalt = material.subarray(2 * keyLen + saltLen);
  const client: CryptoParams = { suite, masterKey: Buffer.from(clientKey), masterSalt: Buffer.from(clientSalt) };
  const server: CryptoParams = { suite, masterKey: Buffer.from(serverKey), masterSalt: Buffer.from(serverSalt) };
  return weAreClient ? { send: client, recv: server, profile } : { send: server, recv: client, profile };
}

export class DtlsSession implements DtlsHook {
  state: DtlsSessionState = 'new';
  /** Why the session failed (for logs and `query`). */
  failure = '';
  keys: DtlsKeys | null = null;
  private conn: NativeDtlsConnection | null;
  private timer: NodeJS.Timeout | null = null;
  private deadline: NodeJS.Timeout | null = null;
  /** Where our records go: the peer we heard from last, or the one given to start(). */
  private peer: Endpoint | null = null;
  private socket: MediaSocket | null = null;

  constructor(
    native: NativeDtls,
    cert: NativeDtlsCert,
    /** We are the DTLS client (a=setup:active on our side). */
    readonly active: boolean,
    /** The peer's a=fingerprint; null: none given, and the handshake fails at the check. */
    private readonly expected: Fingerprint | null,
    private readonly events: DtlsSessionEvents,
    mtu = 1200,
    /** How long the handshake may take in all (tests shorten it). */
    private readonly limitMs = HANDSHAKE_LIMIT_MS,
  ) {
    this.conn = new native.DtlsConnection(cert, active, mtu);
  }

  get isClosed(): boolean {
    return this.conn === null;
  }

  /**
   * The active side sends its ClientHello to `peer` through `socket`; the passive side only
   * learns where to answer. Called again (a new selected ICE pair) it just moves the peer.
   */
  start(socket: MediaSocket, peer: Endpoint): void {
    this.socket = socket;
    this.peer = peer;
    if (this.state !== 'new' || !this.conn) return;
    this.state = 'handshaking';
    this.armDeadline();
    if (this.active) this.conn.start();
    this.flushAndCheck();
  }

  /**
   * The packet path: a datagram whose first byte says DTLS (20..63). Malformed ones, and once
   * the association has a peer those from anywhere else, are refused (false: counted and
   * dropped there), so a stranger's records never reach OpenSSL; the peer's are taken.
   */
  dtls(packet: Buffer, from: Endpoint, via: MediaSocket): boolean {
    if (!isDtlsDatagram(packet)) return false;
    const peer = this.peer;
    if (peer && this.state !== 'new' && (peer.port !== from.port || peer.address !== from.address)) return false;
    const conn = this.conn;
    if (!conn) return true;
    this.socket = via;
    this.peer = from;
    if (this.state === 'new') {
      // the peer started (we are passive, or both started): the handshake runs from here
      this.state = 'handshaking';
      this.armDeadline();
    }
    conn.feed(packet);
    this.flushAndCheck();
    return true;
  }

  private armDeadline(): void {
    this.deadline = setTimeout(() => this.fail(`DTLS handshake did not finish within ${this.limitMs} ms`), this.limitMs);
  }

  private flushAndCheck(): void {
    const conn = this.conn;
    if (!conn) return;
    const out = conn.take();
    const socket = this.socket;
    const peer = this.peer;
    if (socket && peer) for (const d of out) socket.send(d, peer.port, peer.address);
    const st = conn.state();
    if (st === DTLS_FAILED) {
      this.fail(conn.error() || 'DTLS handshake failed');
      return;
    }
    if (st === DTLS_CONNECTED && this.state === 'handshaking') {
      this.established(conn);
      return;
    }
    if (st !== DTLS_HANDSHAKING && this.state === 'handshaking') {
      this.fail('DTLS connection closed by the peer during the handshake');
      return;
    }
    this.armTimer();
  }

  private armTimer(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const conn = this.conn;
    if (!conn || this.state !== 'handshaking') return;
    const ms = conn.timeoutMs();
    if (ms < 0) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      if (!this.conn) return;
      this.conn.handleTimeout();
      this.flushAndCheck();
    }, Math.max(MIN_TIMER_MS, Math.ceil(ms)));
  }

  private established(conn: NativeDtlsConnection): void {
    const expected = this.expected;
    if (!expected) {
      this.fail('the peer gave no a=fingerprint to verify its certificate against');
      return;
    }
    const got = conn.peerFingerprint(expected.hash);
    if (!got || got.length !== expected.value.length || !timingSafeEqual(got, expected.value)) {
      this.fail(`peer certificate fingerprint mismatch (${expected.hash} ${got ? formatFingerprint(got) : 'none'}, SDP says ${formatFingerprint(expected.value)})`);
      return;
    }
    const km = conn.keyingMaterial();
    const keys = km ? keysFromMaterial(km.profile, km.keyLength, km.saltLength, km.material, this.active) : null;
    if (!keys) {
      this.fail('no SRTP protection profile negotiated (use_srtp)');
      return;
    }
    this.state = 'connected';
    this.keys = keys;
    this.stopTimers();
    this.events.connected(keys);
  }

  private fail(reason: string): void {
    if (this.state === 'failed' || this.state === 'closed') return;
    this.state = 'failed';
    this.failure = reason;
    this.stopTimers();
    // the SSL object goes now: a failed association holds nothing until teardown
    this.conn?.close();
    this.conn = null;
    this.events.failed(reason);
  }

  private stopTimers(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.deadline) clearTimeout(this.deadline);
    this.timer = null;
    this.deadline = null;
  }

  close(): void {
    this.stopTimers();
    const conn = this.conn;
    if (conn) {
      conn.close();
      // a close_notify, if the association was up
      const out = conn.take();
      if (this.socket && this.peer) for (const d of out) this.socket.send(d, this.peer.port, this.peer.address);
    }
    this.conn = null;
    if (this.state !== 'failed') this.state = 'closed';
  }
}
