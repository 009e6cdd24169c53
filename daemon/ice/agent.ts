/**
 * The ICE agent of one media (rtpengine's ice.c, RFC 8445): local credentials, the peer's
 * credentials and candidates, connectivity checks answered and sent per component, role
 * conflicts resolved by tie-breaker, nomination (USE-CANDIDATE), and the selected pair per
 * component, which decides where media goes (told to signalling through `IceOwner.selected`).
 *
 * Every STUN message is authenticated before it changes anything: a request needs our
 * ufrag in USERNAME and MESSAGE-INTEGRITY keyed with our password, a response the peer's
 * password and a transaction we sent. Anything else is refused (the packet path counts and
 * drops it), so forged STUN never moves media.
 *
 * Checks run from one timer per agent, bounded: a pair is tried at most MAX_TRIES times; once
 * a component has a selected pair, consent (RFC 7675) is refreshed every CONSENT_MS.
 */
import { randomBytes, randomInt } from 'node:crypto';
import type { Endpoint } from '../net/endpoint.js';
import type { MediaSocket } from '../net/media-socket.js';
import type { StunHook } from './stun-hook.js';
import {
  Attr,
  METHOD_BINDING,
  StunClass,
  attribute,
  checkFingerprint,
  checkIntegrity,
  decodeStun,
  encodeStun,
  errorCodeValue,
  hasAttribute,
  newTransactionId,
  readErrorCode,
  u32,
  xorAddressValue,
  type StunMessage,
} from './stun.js';

export const CHECK_INTERVAL_MS = 50;
export const MAX_TRIES = 40;
export const CONSENT_MS = 5000;
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Random [0-9a-zA-Z] string from the CSPRNG (ufrag 8, pwd 26, foundation 16: rtpengine's lengths). */
export function iceString(length: number): string {
  let s = '';
  for (let i = 0; i < length; i++) s += ALNUM[randomInt(ALNUM.length)];
  return s;
}

export interface IceCandidate {
  foundation: string;
  component: number;
  transport: string;
  priority: number;
  address: string;
  port: number;
  type: string;
}

/** Parses an `a=candidate` value; null for one we cannot use (non-UDP, malformed). */
export function parseCandidate(value: string): IceCandidate | null {
  const p = value.trim().split(/\s+/);
  if (p.length < 8 || p[6] !== 'typ') return null;
  const component = Number(p[1]);
  const priority = Number(p[3]);
  const port = Number(p[5]);
  if (!Number.isInteger(component) || component < 1 || component > 2) return null;
  if (!Number.isInteger(priority) || priority < 0 || priority > 0xffffffff) return null;
  if (!Number.isInteger(port) || port < 1 || port > 65535) return null;
  if (p[2]!.toUpperCase() !== 'UDP') return null;
  return { foundation: p[0]!, component, transport: 'UDP', priority, address: p[4]!, port, type: p[7]! };
}

/** RFC 8445 §5.1.2.1 priority; rtpengine writes host candidates with local preference 65535 − interface index. */
export function candidatePriority(typePref: number, localPref: number, component: number): number {
  return ((typePref << 24) >>> 0) + (localPref << 8) + (256 - component);
}

export interface IceCredentials {
  ufrag: string;
  pwd: string;
}

/** What the agent needs from its media: sockets to send from, and where to report selections. */
export interface IceOwner {
  /** The local socket of a component (1 RTP, 2 RTCP); null once gone. */
  socket(component: number): MediaSocket | null;
  /** A component's pair was selected (nominated and valid): media for it goes to `remote`. */
  selected(component: number, remote: Endpoint): void;
}

export interface IceStats {
  requestsAnswered: number;
  checksSent: number;
  responsesAccepted: number;
  /** Malformed, unauthenticated or unexpected STUN, dropped. */
  refused: number;
  roleConflicts: number;
}

interface Pair {
  component: number;
  remote: Endpoint;
  priority: number;
  tries: number;
  succeeded: boolean;
  nominating: boolean;
  /** Checks in flight by transaction id (hex): whether it carried USE-CANDIDATE, and our role when sent. */
  inFlight: Map<string, { nominate: boolean; controlling: boolean }>;
}

export class IceAgent {
  local: IceCredentials;
  remote: IceCredentials | null = null;
  controlling: boolean;
  readonly lite: boolean;
  remoteLite = false;
  readonly tieBreaker = randomBytes(8);
  readonly stats: IceStats = { requestsAnswered: 0, checksSent: 0, responsesAccepted: 0, refused: 0, roleConflicts: 0 };
  /** The selected remote endpoint per component. */
  readonly selectedPairs = new Map<number, Endpoint>();
  private pairs: Pair[] = [];
  private timer: NodeJS.Timeout | null = null;
  private lastConsent = 0;
  private closed = false;
  /** The demux hooks of the two components. */
  readonly hooks: [StunHook, StunHook];

  constructor(
    private readonly owner: IceOwner,
    opts: { controlling: boolean; lite: boolean },
  ) {
    this.local = { ufrag: iceString(8), pwd: iceString(26) };
    this.controlling = opts.controlling && !opts.lite;
    this.lite = opts.lite;
    this.hooks = [1, 2].map((component) => ({
      stun: (pkt: Buffer, from: Endpoint, via: MediaSocket) => this.receive(component, pkt, from, via),
      close: () => {},
    })) as [StunHook, StunHook];
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * The peer's ufrag/pwd and candidates from its SDP. Changed credentials are an ICE restart:
   * pairs and selections start over, and with `newLocal` (the peer's offer restarted: our
   * answer must too, RFC 8445 §9) so do our credentials. Returns true if it was a restart.
   */
  setRemote(creds: IceCredentials, candidates: readonly IceCandidate[], remoteLite: boolean, newLocal = false): boolean {
    const restart = this.remote !== null && (this.remote.ufrag !== creds.ufrag || this.remote.pwd !== creds.pwd);
    this.remote = creds;
    this.remoteLite = remoteLite;
    // an ICE-lite peer never controls (RFC 8445 §6.1.1)
    if (remoteLite && !this.lite) this.controlling = true;
    if (restart) {
      if (newLocal) this.local = { ufrag: iceString(8), pwd: iceString(26) };
      this.pairs = [];
      this.selectedPairs.clear();
    }
    for (const c of candidates) this.addPair(c.component, { address: c.address, port: c.port, family: c.address.includes(':') ? 6 : 4 }, c.priority);
    this.schedule();
    return restart;
  }

  /** New local credentials; pairs and selections start over (media keeps its endpoint until a new selection). */
  restartLocal(): void {
    this.local = { ufrag: iceString(8), pwd: iceString(26) };
    this.pairs = [];
    this.selectedPairs.clear();
  }

  /** The peer's credentials as its last SDP gave them (null before any). */
  get remoteUfrag(): string | null {
    return this.remote?.ufrag ?? null;
  }

  /** A trickled candidate (RFC 8838). */
  addRemoteCandidate(c: IceCandidate): void {
    this.addPair(c.component, { address: c.address, port: c.port, family: c.address.includes(':') ? 6 : 4 }, c.priority);
    this.schedule();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.pairs = [];
  }

  private addPair(component: number, remote: Endpoint, priority: number): Pair {
    const found = this.pairs.find((p) => p.component === component && p.remote.address === remote.address && p.remote.port === remote.port);
    if (found) return found;
    const pair: Pair = { component, remote, priority, tries: 0, succeeded: false, nominating: false, inFlight: new Map() };
    this.pairs.push(pair);
    this.pairs.sort((a, b) => b.priority - a.priority);
    return pair;
  }

  /** Full agents send checks; a lite agent only answers. */
  private schedule(): void {
    if (this.closed || this.lite || this.remote === null || this.timer) return;
    this.timer = setInterval(() => this.tick(), CHECK_INTERVAL_MS);
    this.timer.unref();
  }

  private tick(now = Date.now()): void {
    if (this.closed) return;
    let pending = false;
    for (const pair of this.pairs) {
      if (this.selectedPairs.has(pair.component)) continue;
      if (pair.succeeded && !pair.nominating) continue;
      if (pair.tries >= MAX_TRIES) continue;
      pending = true;
      this.sendCheck(pair, pair.nominating);
      break; // one check per tick (pacing, RFC 8445 §14)
    }
    if (this.controlling) {
      // regular nomination: the best succeeded pair of a component without a selection
      for (const component of [1, 2]) {
        if (this.selectedPairs.has(component)) continue;
        const best = this.pairs.find((p) => p.component === component && p.succeeded);
        if (best && !best.nominating) {
          best.nominating = true;
          best.tries = 0;
          pending = true;
        }
      }
    }
    const allDone = this.pairs.length > 0 && [...new Set(this.pairs.map((p) => p.component))].every((c) => this.selectedPairs.has(c));
    if (allDone && now - this.lastConsent >= CONSENT_MS) {
      // consent freshness: one check per selected pair
      this.lastConsent = now;
      for (const [component, remote] of this.selectedPairs) {
        const pair = this.pairs.find((p) => p.component === component && p.remote.address === remote.address && p.remote.port === remote.port);
        if (pair) this.sendCheck(pair, false);
      }
      return;
    }
    if (!pending && !allDone && this.timer && this.pairs.every((p) => p.tries >= MAX_TRIES || p.succeeded)) {
      // nothing left to try: stop until new candidates or a triggered check arrive
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  private sendCheck(pair: Pair, useCandidate: boolean): void {
    const remote = this.remote;
    const sock = this.owner.socket(pair.component);
    if (!remote || !sock) return;
    pair.tries++;
    const tid = newTransactionId();
    const attrs: Array<{ type: number; value: Buffer }> = [
      { type: Attr.Username, value: Buffer.from(`${remote.ufrag}:${this.local.ufrag}`) },
      // the priority a peer-reflexive candidate of ours would get (RFC 8445 §7.1.1)
      { type: Attr.Priority, value: u32(candidatePriority(110, 65535, pair.component)) },
      { type: this.controlling ? Attr.IceControlling : Attr.IceControlled, value: this.tieBreaker },
    ];
    if (useCandidate && this.controlling) attrs.push({ type: Attr.UseCandidate, value: Buffer.alloc(0) });
    const msg = encodeStun(METHOD_BINDING, StunClass.Request, tid, attrs, { integrityKey: remote.pwd, fingerprint: true });
    if (pair.inFlight.size > 8) pair.inFlight.delete(pair.inFlight.keys().next().value as string);
    pair.inFlight.set(tid.toString('hex'), { nominate: useCandidate && this.controlling, controlling: this.controlling });
    this.stats.checksSent++;
    sock.send(msg, pair.remote.port, pair.remote.address);
  }

  /** The StunHook of a component: false = refused (the caller counts and drops it). */
  receive(component: number, pkt: Buffer, from: Endpoint, via: MediaSocket): boolean {
    if (this.closed) return false;
    const msg = decodeStun(pkt);
    if (!msg || msg.method !== METHOD_BINDING || (hasAttribute(msg, Attr.Fingerprint) && !checkFingerprint(msg))) {
      this.stats.refused++;
      return false;
    }
    if (msg.cls === StunClass.Request) return this.onRequest(component, msg, from, via);
    if (msg.cls === StunClass.Success || msg.cls === StunClass.Error) return this.onResponse(component, msg, from);
    if (msg.cls === StunClass.Indication) return true; // keepalive indication: taken, nothing to do
    this.stats.refused++;
    return false;
  }

  private onRequest(component: number, msg: StunMessage, from: Endpoint, via: MediaSocket): boolean {
    const username = attribute(msg, Attr.Username)?.toString('utf8') ?? '';
    if (!username.startsWith(`${this.local.ufrag}:`) || !checkIntegrity(msg, this.local.pwd)) {
      this.stats.refused++;
      return false;
    }
    const theirControlling = attribute(msg, Attr.IceControlling);
    const theirControlled = attribute(msg, Attr.IceControlled);
    // role conflict (RFC 8445 §7.3.1.1)
    if (this.controlling && theirControlling) {
      this.stats.roleConflicts++;
      if (Buffer.compare(this.tieBreaker, theirControlling) >= 0) {
        this.reply(msg, from, via, [{ type: Attr.ErrorCode, value: errorCodeValue(487, 'Role Conflict') }], StunClass.Error);
        return true;
      }
      this.controlling = false;
    } else if (!this.controlling && theirControlled) {
      this.stats.roleConflicts++;
      if (Buffer.compare(this.tieBreaker, theirControlled) >= 0) this.controlling = true;
      else {
        this.reply(msg, from, via, [{ type: Attr.ErrorCode, value: errorCodeValue(487, 'Role Conflict') }], StunClass.Error);
        return true;
      }
    }
    this.reply(msg, from, via, [{ type: Attr.XorMappedAddress, value: xorAddressValue(from, msg.transactionId) }], StunClass.Success);
    this.stats.requestsAnswered++;
    const prio = attribute(msg, Attr.Priority);
    const pair = this.addPair(component, from, prio && prio.length === 4 ? prio.readUInt32BE(0) : 0);
    if (!this.controlling && hasAttribute(msg, Attr.UseCandidate)) {
      // nominated by the controlling peer: a lite agent (or a pair already valid) is selected now;
      // otherwise the triggered check below makes it valid and selects it on success
      pair.nominating = true;
      if (this.lite || pair.succeeded || this.remote === null) this.select(pair);
    }
    // triggered check (RFC 8445 §7.3.1.4) toward where the request came from
    if (!this.lite && this.remote !== null && !pair.succeeded) {
      pair.tries = 0;
      this.sendCheck(pair, false);
      this.schedule();
    }
    return true;
  }

  private onResponse(component: number, msg: StunMessage, from: Endpoint): boolean {
    const key = msg.transactionId.toString('hex');
    const pair = this.pairs.find((p) => p.component === component && p.inFlight.has(key));
    if (!pair || !this.remote || !checkIntegrity(msg, this.remote.pwd)) {
      this.stats.refused++;
      return false;
    }
    // RFC 8445 §7.2.5.2.1: the response must come from where the check went
    if (pair.remote.address !== from.address || pair.remote.port !== from.port) {
      this.stats.refused++;
      return false;
    }
    const sent = pair.inFlight.get(key)!;
    const nominated = sent.nominate;
    pair.inFlight.delete(key);
    this.stats.responsesAccepted++;
    if (msg.cls === StunClass.Error) {
      const code = readErrorCode(attribute(msg, Attr.ErrorCode) ?? Buffer.alloc(0));
      if (code === 487) {
        // the role opposite to the one the check was sent with (RFC 8445 §7.2.5.1)
        this.controlling = !sent.controlling;
        pair.tries = 0;
        this.schedule();
      }
      return true;
    }
    pair.succeeded = true;
    if ((this.controlling && nominated) || (!this.controlling && pair.nominating)) this.select(pair);
    return true;
  }

  private select(pair: Pair): void {
    const current = this.selectedPairs.get(pair.component);
    if (current && current.address === pair.remote.address && current.port === pair.remote.port) return;
    this.selectedPairs.set(pair.component, pair.remote);
    this.owner.selected(pair.component, pair.remote);
  }

  private reply(req: StunMessage, to: Endpoint, via: MediaSocket, attrs: Array<{ type: number; value: Buffer }>, cls: StunClass): void {
    const out = encodeStun(METHOD_BINDING, cls, req.transactionId, attrs, { integrityKey: this.local.pwd, fingerprint: true });
    via.send(out, to.port, to.address);
  }
}
