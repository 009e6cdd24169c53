/** The one table of rtpengine flags not implemented yet, its lookup, and README's "not yet" table. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { UNSUPPORTED_FLAGS, normalizeFlagName, unsupportedEntry } from '../../../daemon/call/unsupported-flags.js';

describe('unsupported flags table', () => {
  it('names are unique after rtpengine\'s normalisation', () => {
    const names = UNSUPPORTED_FLAGS.map((e) => normalizeFlagName(e.name));
    expect(new Set(names).size).toBe(names.length);
  });

  it('looks names up in every spelling rtpengine accepts', () => {
    expect(unsupportedEntry('record call')?.name).toBe('record-call');
    expect(unsupportedEntry('Record_Call')?.name).toBe('record-call');
    expect(unsupportedEntry('block_short')?.name).toBe('block-short');
  });

  it('implemented flags are not in it', () => {
    for (const name of ['trust-address', 'symmetric', 'asymmetric', 'loop-protect', 'TOS', 'to-label', 'ICE=remove', 'codec-strip', 'strict-source', 'SIP-source-address',
      // transcoding landed: its flags left the table
      'single-codec', 'always-transcode', 'codec-transcode', 'codec-accept', 'codec-consume', 'codec-set', 'ptime',
      // SRTP (SDES) landed
      'transport-protocol', 'SDES', 'OSRTP', 'pad-crypto',
      // ICE landed (force-relay not yet)
      'ICE=force', 'ICE=default', 'ICE=optional', 'ICE=reject', 'ICE-lite',
      // BUNDLE, WebRTC, force-relay and trickle ICE landed
      'ICE=force-relay', 'WebRTC', 'trickle-ICE', 'strip-extmap', 'bundle', 'generate-mid',
      // DTLS-SRTP landed
      'DTLS', 'DTLS-reverse', 'DTLS-fingerprint', 'DTLS fingerprint', 'no-tls-id']) {
      expect(unsupportedEntry(name), name).toBeUndefined();
    }
  });

  it('README lists every entry', () => {
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('### Flags not implemented yet'));
    for (const { name } of UNSUPPORTED_FLAGS) expect(section, name).toContain(`\`${name}\``);
  });
});
