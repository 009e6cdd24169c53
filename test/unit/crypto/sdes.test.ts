/**
 * a=crypto parsing/formatting and the SDES negotiation rules as objects (no daemon).
 */
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { formatCrypto, parseCrypto, SdesParseError } from '../../../daemon/crypto/sdes.js';
import { answerCryptos, emptySdesFlags, offerCryptos, SdesState } from '../../../daemon/crypto/sdes-negotiate.js';
import { applyOsrtp, applySdes, legacyTransportProtocol } from '../../../daemon/control/crypto-flags.js';

const k30 = () => randomBytes(30).toString('base64');

describe('parseCrypto / formatCrypto', () => {
  it('reads tag, suite, key, lifetime, MKI and session parameters; writes rtpengine\'s shape', () => {
    const key = k30();
    const c = parseCrypto(`7 aes_cm_128_hmac_sha1_32 inline:${key}|2^20|258:2 UNENCRYPTED_SRTCP FEC_ORDER=FEC_SRTP`);
    expect(c.tag).toBe(7);
    expect(c.suite.name).toBe('AES_CM_128_HMAC_SHA1_32');
    expect(c.keySalt.toString('base64')).toBe(key);
    expect(c.mki).toEqual(Buffer.from([1, 2]));
    expect(c.unencryptedSrtcp).toBe(true);
    expect(formatCrypto(c, { pad: false, lifetime: false })).toBe(`7 AES_CM_128_HMAC_SHA1_32 inline:${key}|258:2 UNENCRYPTED_SRTCP`);
    expect(formatCrypto(c, { pad: false, lifetime: true })).toBe(`7 AES_CM_128_HMAC_SHA1_32 inline:${key}|2^31|258:2 UNENCRYPTED_SRTCP`);
  });

  it('strips base64 padding unless asked to keep it', () => {
    const key = randomBytes(46).toString('base64');
    expect(key.endsWith('==')).toBe(true);
    const c = parseCrypto(`1 AES_256_CM_HMAC_SHA1_80 inline:${key}`);
    expect(formatCrypto(c, { pad: false, lifetime: false })).toBe(`1 AES_256_CM_HMAC_SHA1_80 inline:${key.replace(/=+$/, '')}`);
    expect(formatCrypto(c, { pad: true, lifetime: false })).toBe(`1 AES_256_CM_HMAC_SHA1_80 inline:${key}`);
  });

  it.each([
    ['too few fields', '1 AES_CM_128_HMAC_SHA1_80'],
    ['bad tag', `x AES_CM_128_HMAC_SHA1_80 inline:${k30()}`],
    ['unknown suite', `1 AES_CM_999 inline:${k30()}`],
    ['not inline', `1 AES_CM_128_HMAC_SHA1_80 uri:http://x`],
    ['bad base64', '1 AES_CM_128_HMAC_SHA1_80 inline:!!!!'],
    ['wrong key length', `1 AES_256_CM_HMAC_SHA1_80 inline:${k30()}`],
    ['absurd lifetime', `1 AES_CM_128_HMAC_SHA1_80 inline:${k30()}|2^64`],
    ['zero lifetime', `1 AES_CM_128_HMAC_SHA1_80 inline:${k30()}|0`],
    ['absurd MKI length', `1 AES_CM_128_HMAC_SHA1_80 inline:${k30()}|1:200`],
    ['MKI value too big', `1 AES_CM_128_HMAC_SHA1_80 inline:${k30()}|65536:2`],
    ['two MKIs', `1 AES_CM_128_HMAC_SHA1_80 inline:${k30()}|1:1|2:1`],
    ['non-zero KDR', `1 AES_CM_128_HMAC_SHA1_80 inline:${k30()} KDR=3`],
  ])('refuses %s', (_what, line) => {
    expect(() => parseCrypto(line)).toThrow(SdesParseError);
  });
});

describe('SDES flags', () => {
  it('parses the SDES family and OSRTP', () => {
    const f = emptySdesFlags();
    for (const v of ['no-AES_CM_128_HMAC_SHA1_32', 'only-aead_aes_128_gcm', 'order:AES_256_CM_HMAC_SHA1_80;bogus', 'offerer_pref:NULL_HMAC_SHA1_80',
      'pad', 'lifetime', 'static', 'nonew', 'prefer', 'unencrypted_srtp', 'unauthenticated-srtp', 'encrypted_srtp', 'off']) applySdes(f, v);
    expect([...f.no]).toEqual(['AES_CM_128_HMAC_SHA1_32']);
    expect([...f.only]).toEqual(['AEAD_AES_128_GCM']);
    expect(f.order).toEqual(['AES_256_CM_HMAC_SHA1_80']);
    expect(f.offererPref).toEqual(['NULL_HMAC_SHA1_80']);
    expect(f).toMatchObject({ pad: true, lifetime: true, static: true, nonew: true, prefer: true, off: true, unencryptedSrtp: false, unauthenticatedSrtp: true });
    const o = new Set<'offer' | 'offer-legacy' | 'accept' | 'accept-legacy'>();
    for (const v of ['offer-RFC', 'accept', 'accept-legacy', 'nonsense']) applyOsrtp(o, v);
    expect([...o]).toEqual(['offer', 'accept', 'accept-legacy']);
    expect(legacyTransportProtocol('rtp/savpf')).toBe('RTP/SAVPF');
    expect(legacyTransportProtocol('trust-address')).toBeUndefined();
  });
});

describe('negotiation', () => {
  it('pass-through: both ends keep their keys, the relay decrypts and encrypts with them', () => {
    const offerer = new SdesState();
    const answerer = new SdesState();
    const flags = emptySdesFlags();
    offerer.remote = [parseCrypto(`1 AES_CM_128_HMAC_SHA1_80 inline:${k30()}`)];
    const sent = offerCryptos(offerer.remote, answerer, flags);
    expect(sent[0]).toBe(offerer.remote[0]);
    expect(sent.map((c) => c.tag)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    const theirs = parseCrypto(`1 AES_CM_128_HMAC_SHA1_80 inline:${k30()}`);
    const { toOfferer } = answerCryptos(offerer, answerer, [theirs], flags, true, true);
    expect(toOfferer?.keySalt).toEqual(theirs.keySalt);
    expect(offerer.rx?.keySalt).toEqual(offerer.remote[0]!.keySalt);
    expect(answerer.tx?.keySalt).toEqual(offerer.remote[0]!.keySalt);
    expect(answerer.rx).toBe(theirs);
  });

  it('re-key: the answerer picks one of ours; the offerer gets a key of ours, stable on the next round', () => {
    const offerer = new SdesState();
    const answerer = new SdesState();
    const flags = emptySdesFlags();
    offerer.remote = [parseCrypto(`3 AES_CM_128_HMAC_SHA1_80 inline:${k30()}`)];
    const sent = offerCryptos(offerer.remote, answerer, flags);
    const gcm = sent.find((c) => c.suite.name === 'AEAD_AES_128_GCM')!;
    expect(gcm.tag).toBe(5);
    const answer = parseCrypto(`5 AEAD_AES_128_GCM inline:${randomBytes(28).toString('base64')}`);
    const first = answerCryptos(offerer, answerer, [answer], flags, true, true).toOfferer!;
    expect(first.tag).toBe(3);
    expect(first.keySalt).not.toEqual(offerer.remote[0]!.keySalt);
    expect(answerer.tx?.keySalt).toEqual(gcm.keySalt);
    // a re-offer: our generated key for the answerer and our answer key stay
    expect(offerCryptos(offerer.remote, answerer, flags).find((c) => c.suite.name === 'AEAD_AES_128_GCM')!.keySalt).toEqual(gcm.keySalt);
    expect(answerCryptos(offerer, answerer, [answer], flags, true, true).toOfferer!.keySalt).toEqual(first.keySalt);
  });

  it('static keeps the negotiated line on a re-offer', () => {
    const offerer = new SdesState();
    const answerer = new SdesState();
    const flags = { ...emptySdesFlags(), static: true };
    offerCryptos([], answerer, flags);
    const pick = answerer.sent.find((c) => c.suite.name === 'AES_CM_128_HMAC_SHA1_32')!;
    answerCryptos(offerer, answerer, [{ ...pick, keySalt: randomBytes(30) }], flags, false, true);
    expect(offerCryptos([], answerer, flags)).toEqual([answerer.tx]);
  });
});
