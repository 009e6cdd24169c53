/**
 * The `SDES` and `OSRTP` flag families and the legacy transport-protocol flags, parsed into
 * the call's flag model as rtpengine's call_flags.c reads them. Unknown values are logged and
 * ignored, like every unknown flag.
 */
import { log } from '../log/logger.js';
import { findSuite } from '../crypto/suites.js';
import type { SdesFlags } from '../crypto/sdes-negotiate.js';
import type { OsrtpOption } from '../call/flags.js';

const PROTOCOLS = ['RTP/AVP', 'RTP/AVPF', 'RTP/SAVP', 'RTP/SAVPF', 'UDP/TLS/RTP/SAVP', 'UDP/TLS/RTP/SAVPF'];

export function legacyTransportProtocol(word: string): string | undefined {
  const u = word.trim().toUpperCase();
  return PROTOCOLS.includes(u) ? u : undefined;
}

function suiteList(text: string, what: string): string[] {
  const out: string[] = [];
  for (const name of text.split(/[;,]/).map((s) => s.trim()).filter((s) => s)) {
    const suite = findSuite(name);
    if (suite) out.push(suite.name);
    else log().debug({ suite: name, what }, 'unknown crypto suite in SDES flag ignored');
  }
  return out;
}

/** One SDES value: `off`, `no-SUITE`, `only-SUITE`, `order:A;B`, `offerer_pref:A;B`, `pad`, … */
export function applySdes(f: SdesFlags, raw: string): void {
  const v = raw.trim();
  const lower = v.toLowerCase().replace(/_/g, '-');
  const colon = v.indexOf(':');
  if (colon > 0) {
    const key = lower.slice(0, colon);
    const rest = v.slice(colon + 1);
    if (key === 'order') f.order = suiteList(rest, 'order');
    else if (key === 'offerer-pref') f.offererPref = suiteList(rest, 'offerer_pref');
    else log().debug({ value: v }, 'unknown SDES flag ignored');
    return;
  }
  for (const [prefix, set] of [['no-', f.no], ['only-', f.only]] as const) {
    if (lower.startsWith(prefix)) {
      const suite = findSuite(v.slice(prefix.length));
      if (suite) set.add(suite.name);
      else log().debug({ value: v }, 'unknown crypto suite in SDES flag ignored');
      return;
    }
  }
  switch (lower) {
    case 'off': case 'no': case 'disable': f.off = true; return;
    case 'on': case 'yes': case 'enable': f.off = false; return;
    case 'pad': f.pad = true; return;
    case 'lifetime': f.lifetime = true; return;
    case 'static': f.static = true; return;
    case 'nonew': case 'no-new': f.nonew = true; return;
    case 'prefer': f.prefer = true; return;
    case 'unencrypted-srtp': f.unencryptedSrtp = true; return;
    case 'unencrypted-srtcp': f.unencryptedSrtcp = true; return;
    case 'unauthenticated-srtp': f.unauthenticatedSrtp = true; return;
    case 'encrypted-srtp': f.unencryptedSrtp = false; return;
    case 'encrypted-srtcp': f.unencryptedSrtcp = false; return;
    case 'authenticated-srtp': f.unauthenticatedSrtp = false; return;
    default: log().debug({ value: v }, 'unknown SDES flag ignored');
  }
}

/** One OSRTP value: `offer` (= `offer-RFC`), `offer-legacy`, `accept` (= `accept-RFC`), `accept-legacy`. */
export function applyOsrtp(set: Set<OsrtpOption>, raw: string): void {
  const v = raw.trim().toLowerCase().replace(/_/g, '-');
  if (v === 'offer' || v === 'offer-rfc') set.add('offer');
  else if (v === 'offer-legacy') set.add('offer-legacy');
  else if (v === 'accept' || v === 'accept-rfc') set.add('accept');
  else if (v === 'accept-legacy') set.add('accept-legacy');
  else log().debug({ value: raw }, 'unknown OSRTP flag ignored');
}
