/**
 * SDES negotiation rules (rtpengine's sdes/crypto handling in call.c): which `a=crypto` lines
 * an offer carries toward the recipient, which line answers the offerer, and so which keys
 * each participant sends with (rx) and receives with (tx).
 *
 * Offer: the offerer's own lines pass through (filtered by `no-`/`only-`, sorted by `order:`),
 * then rtpengine's suites the offerer did not offer, each with a key of ours, numbered after
 * the highest tag kept (`nonew` adds none). Answer: if the recipient took one of the offerer's
 * own lines, its line goes back unchanged (SRTP pass-through: both ends keep their keys);
 * otherwise the offerer gets the first of its own lines (or the first `offerer_pref:` suite it
 * offered) with a key of ours, and the relay re-keys between the two.
 *
 * Keys we generate for a participant are kept per suite, so re-INVITEs repeat them.
 */
import { randomBytes } from 'node:crypto';
import { CRYPTO_SUITES, findSuite, type CryptoSuite } from './suites.js';
import type { SdesCrypto, SdesSessionParams } from './sdes.js';

export interface SdesFlags {
  off: boolean;
  no: Set<string>;
  only: Set<string>;
  order: string[];
  offererPref: string[];
  pad: boolean;
  lifetime: boolean;
  static: boolean;
  nonew: boolean;
  prefer: boolean;
  /** Tri-state overrides of the session parameters of lines we generate. */
  unencryptedSrtp?: boolean;
  unencryptedSrtcp?: boolean;
  unauthenticatedSrtp?: boolean;
}

export function emptySdesFlags(): SdesFlags {
  return { off: false, no: new Set(), only: new Set(), order: [], offererPref: [], pad: false, lifetime: false, static: false, nonew: false, prefer: false };
}

/** Per participant and m= line: what it said, what we told it, the keys in use. */
export class SdesState {
  /** The participant's usable a=crypto lines from its last SDP. */
  remote: SdesCrypto[] = [];
  /** The lines we put in the last SDP we sent it. */
  sent: SdesCrypto[] = [];
  /** Keys we made for this participant, by suite name (stable across re-INVITEs); made on first use. */
  private generated: Map<string, Buffer> | null = null;
  /** What the participant encrypts with (we decrypt its packets with this). */
  rx: SdesCrypto | null = null;
  /** What we encrypt with toward the participant. */
  tx: SdesCrypto | null = null;

  keyFor(suite: CryptoSuite): Buffer {
    const generated = (this.generated ??= new Map());
    let key = generated.get(suite.name);
    if (!key) {
      key = randomBytes(suite.masterKeyLen + suite.masterSaltLen);
      generated.set(suite.name, key);
    }
    return key;
  }

  clear(): void {
    this.remote = [];
    this.sent = [];
    this.rx = null;
    this.tx = null;
  }
}

function upper(names: Iterable<string>): Set<string> {
  return new Set([...names].map((n) => n.toUpperCase()));
}

export function suiteAllowed(flags: SdesFlags, suite: CryptoSuite): boolean {
  const only = upper(flags.only);
  // `only-` wins over `no-` (rtpengine keeps an only-listed suite even if also excluded)
  if (only.size > 0) return only.has(suite.name);
  return !upper(flags.no).has(suite.name);
}

function sessionParams(flags: SdesFlags, base: SdesSessionParams | undefined): SdesSessionParams {
  return {
    unencryptedSrtp: flags.unencryptedSrtp ?? base?.unencryptedSrtp ?? false,
    unencryptedSrtcp: flags.unencryptedSrtcp ?? base?.unencryptedSrtcp ?? false,
    unauthenticatedSrtp: flags.unauthenticatedSrtp ?? base?.unauthenticatedSrtp ?? false,
  };
}

/** Stable sort by position in the `order:` list; unlisted lines keep their order, after. */
function applyOrder(lines: SdesCrypto[], order: string[]): SdesCrypto[] {
  if (order.length === 0) return lines;
  const pos = new Map(order.map((n, i) => [n.toUpperCase(), i] as [string, number]));
  return lines
    .map((l, i) => ({ l, i, p: pos.get(l.suite.name) ?? Infinity }))
    .sort((a, b) => a.p - b.p || a.i - b.i)
    .map((x) => x.l);
}

/**
 * The a=crypto lines of an offer toward `recipient`, from the offerer's lines (`offered`,
 * empty when the offerer is plain RTP). Records them as `recipient.sent`.
 */
export function offerCryptos(offered: SdesCrypto[], recipient: SdesState, flags: SdesFlags): SdesCrypto[] {
  if (flags.off) {
    recipient.sent = [];
    return [];
  }
  if (flags.static && recipient.tx) {
    // SDES-static: a re-INVITE keeps the suite and key negotiated before
    recipient.sent = [recipient.tx];
    return recipient.sent;
  }
  const kept = offered.filter((c) => suiteAllowed(flags, c.suite));
  const lines = [...kept];
  if (!flags.nonew) {
    let tag = kept.reduce((m, c) => Math.max(m, c.tag), 0);
    const present = new Set(offered.map((c) => c.suite.name));
    const base = offered[0];
    for (const suite of CRYPTO_SUITES) {
      if (present.has(suite.name) || !suiteAllowed(flags, suite)) continue;
      lines.push({ tag: ++tag, suite, keySalt: recipient.keyFor(suite), mki: null, ...sessionParams(flags, base) });
    }
  }
  recipient.sent = applyOrder(lines, flags.order);
  return recipient.sent;
}

export interface AnswerResult {
  /** The line for the answer to the offerer (null: no SRTP toward the offerer). */
  toOfferer: SdesCrypto | null;
}

/**
 * Answer processing. `answerer` answered with `answered` (its usable lines, normally one) to
 * what we offered it (`answerer.sent`); `offerer` offered `offerer.remote`. Sets rx/tx of both.
 */
export function answerCryptos(offerer: SdesState, answerer: SdesState, answered: SdesCrypto[], flags: SdesFlags,
  offererSrtp: boolean, answererSrtp: boolean): AnswerResult {
  // what the answerer took: the line with its tag among those we sent, same suite
  let chosen: SdesCrypto | null = null;
  let ours: SdesCrypto | null = null;
  if (answererSrtp) {
    for (const a of answered) {
      const sent = answerer.sent.find((s) => s.tag === a.tag && s.suite === a.suite)
        ?? answerer.sent.find((s) => s.suite === a.suite);
      if (sent) {
        chosen = a;
        ours = { ...sent, ...sessionParamsOf(a) };
        break;
      }
    }
  }
  answerer.rx = chosen;
  answerer.tx = chosen ? ours : null;

  if (!offererSrtp) {
    offerer.rx = null;
    offerer.tx = null;
    offerer.sent = [];
    return { toOfferer: null };
  }
  const candidates = offerer.remote.filter((c) => suiteAllowed(flags, c.suite));
  const pool = candidates.length > 0 ? candidates : offerer.remote;
  let pick: SdesCrypto | undefined;
  for (const name of flags.offererPref) {
    const suite = findSuite(name);
    pick = suite && pool.find((c) => c.suite === suite);
    if (pick) break;
  }
  let toOfferer: SdesCrypto | null = null;
  if (!pick && chosen && ours) {
    // pass-through: the answerer took the offerer's own line (same tag, suite and key)
    const own = offerer.remote.find((c) => c.tag === ours!.tag && c.suite === ours!.suite && c.keySalt.equals(ours!.keySalt));
    if (own) {
      pick = own;
      toOfferer = { ...chosen, tag: own.tag };
    }
  }
  if (!pick && flags.static && offerer.tx && offerer.rx) {
    pick = offerer.remote.find((c) => c.tag === offerer.rx!.tag && c.suite === offerer.rx!.suite);
    if (pick) toOfferer = offerer.tx;
  }
  pick ??= pool[0];
  if (!pick) {
    offerer.rx = null;
    offerer.tx = null;
    offerer.sent = [];
    return { toOfferer: null };
  }
  toOfferer ??= { tag: pick.tag, suite: pick.suite, keySalt: offerer.keyFor(pick.suite), mki: null, ...sessionParamsOf(pick) };
  offerer.rx = pick;
  offerer.tx = toOfferer;
  offerer.sent = [toOfferer];
  return { toOfferer };
}

function sessionParamsOf(c: SdesSessionParams): SdesSessionParams {
  return { unencryptedSrtp: c.unencryptedSrtp, unencryptedSrtcp: c.unencryptedSrtcp, unauthenticatedSrtp: c.unauthenticatedSrtp };
}
