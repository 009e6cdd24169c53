/**
 * The one list of rtpengine-documented ng flags, keys and values that this daemon parses but
 * does not implement yet. Nothing that appears here is silently dropped: the parser records
 * each use in `NgFlags.unsupported`, and `warnUnsupported()` logs one warning per call and name
 * and counts it in `statistics` (`unsupportedFlags`: calls per name). The README's "not yet" table lists the same.
 *
 * When a feature lands, its entries are deleted here (and from the README table) — nothing else.
 * Flags rtpengine itself does not know are not in this list: they stay debug-level, as in
 * rtpengine.
 */
import type { NgFlags } from './flags.js';
import type { Call } from './call.js';
import type { Counters } from '../stats/counters.js';

export interface UnsupportedEntry {
  /** As written in rtpengine's docs; `key=value` for one value of a key, `codec-VERB` for codec lists. */
  readonly name: string;
  /** Which later layer brings it. */
  readonly waitsFor: 'transcoding' | 'srtp' | 'ice' | 'recording' | 'media-player' | 'dtmf' | 't38' | 'other';
}

const e = (name: string, waitsFor: UnsupportedEntry['waitsFor']): UnsupportedEntry => ({ name, waitsFor });

export const UNSUPPORTED_FLAGS: readonly UnsupportedEntry[] = [
  // `flags` list words (or boolean keys)
  e('reset', 'ice'),
  e('record-call', 'recording'),
  e('discard-recording', 'recording'),
  e('exclude-recording', 'recording'),
  e('pierce-NAT', 'other'),
  e('NAT-wait', 'other'),
  e('debug', 'other'),
  e('allow-no-codec-media', 'transcoding'),
  e('block-short', 'other'),
  e('skip-recording-db', 'recording'),
  e('RTCP-mirror', 'other'),
  // keys
  e('delay-buffer', 'transcoding'),
  e('T.38', 't38'),
  e('metadata', 'recording'),
  e('output-destination', 'recording'),
  e('sdp-attr', 'other'),
  e('sdp-media-remove', 'other'),
  e('drop-traffic', 'other'),
  e('media-echo', 'other'),
  e('template', 'other'),
  e('xmlrpc-callback', 'other'),
  // codec lists (`codec: { VERB: [...] }` or `codec-VERB-NAME` flags) would be `codec-VERB`
];

/** rtpengine matches names case-insensitively with space, dash and underscore alike. */
export function normalizeFlagName(name: string): string {
  return name.trim().toLowerCase().replace(/[\s_]+/g, '-');
}

const BY_NORMALIZED = new Map(UNSUPPORTED_FLAGS.map((entry) => [normalizeFlagName(entry.name), entry]));

/** The table entry for a flag word, key, `key=value` or `codec-VERB`, if it is one not implemented yet. */
export function unsupportedEntry(name: string): UnsupportedEntry | undefined {
  return BY_NORMALIZED.get(normalizeFlagName(name));
}

/**
 * Logs each not-yet-implemented flag of this message once per call (under the call's write
 * lock) and counts it; later uses in the same call are debug-level.
 */
export function warnUnsupported(call: Call, flags: NgFlags, counters: Counters): void {
  for (const name of flags.unsupported ?? []) {
    if (call.warnedFlags?.has(name)) {
      call.log(flags.fromTag).debug({ flag: name, command: flags.command }, `'${name}' is not implemented yet (ignored)`);
      continue;
    }
    (call.warnedFlags ??= new Set()).add(name);
    counters.addUnsupported(name);
    call.log(flags.fromTag).warn({ flag: name, command: flags.command }, `'${name}' is not implemented by this daemon yet and was ignored`);
  }
}
