/**
 * The SRTP crypto suites rtpengine negotiates with SDES (RFC 4568, RFC 6188, RFC 7714), in
 * rtpengine's order of preference: the order in which it appends its own suites to an offer.
 */
export type CipherKind = 'aes-cm' | 'aes-f8' | 'aes-gcm' | 'null';

export interface CryptoSuite {
  name: string;
  cipher: CipherKind;
  /** Master key and salt lengths in bytes: the `inline:` key is key || salt. */
  masterKeyLen: number;
  masterSaltLen: number;
  /** Session encryption key length (the AES variant: 16, 24 or 32). */
  sessionKeyLen: number;
  /** Session salt length: 14 (RFC 3711) or 12 (RFC 7714). */
  sessionSaltLen: number;
  /** HMAC-SHA1 tag lengths; 0 for AEAD, whose 16-byte tag is part of the cipher output. */
  srtpTagLen: number;
  srtcpTagLen: number;
  /** HMAC-SHA1 session authentication key length. */
  authKeyLen: number;
  /** AEAD tag length (GCM). */
  aeadTagLen: number;
}

function cm(name: string, keyLen: number, tag: number, cipher: CipherKind = 'aes-cm'): CryptoSuite {
  return {
    name, cipher, masterKeyLen: keyLen, masterSaltLen: 14, sessionKeyLen: keyLen, sessionSaltLen: 14,
    // RFC 4568: the _32 suites still protect SRTCP with an 80-bit tag
    srtpTagLen: tag, srtcpTagLen: 10, authKeyLen: 20, aeadTagLen: 0,
  };
}

function gcm(name: string, keyLen: number): CryptoSuite {
  return {
    name, cipher: 'aes-gcm', masterKeyLen: keyLen, masterSaltLen: 12, sessionKeyLen: keyLen, sessionSaltLen: 12,
    srtpTagLen: 0, srtcpTagLen: 0, authKeyLen: 0, aeadTagLen: 16,
  };
}

/** rtpengine's order (crypto.c): the order of generated a=crypto lines in an offer. */
export const CRYPTO_SUITES: readonly CryptoSuite[] = [
  gcm('AEAD_AES_256_GCM', 32),
  gcm('AEAD_AES_128_GCM', 16),
  cm('AES_256_CM_HMAC_SHA1_80', 32, 10),
  cm('AES_256_CM_HMAC_SHA1_32', 32, 4),
  cm('AES_192_CM_HMAC_SHA1_80', 24, 10),
  cm('AES_192_CM_HMAC_SHA1_32', 24, 4),
  cm('AES_CM_128_HMAC_SHA1_80', 16, 10),
  cm('AES_CM_128_HMAC_SHA1_32', 16, 4),
  cm('F8_128_HMAC_SHA1_80', 16, 10, 'aes-f8'),
  cm('F8_128_HMAC_SHA1_32', 16, 4, 'aes-f8'),
  // NULL cipher: a 128-bit master key still feeds the authentication key derivation
  cm('NULL_HMAC_SHA1_80', 16, 10, 'null'),
  cm('NULL_HMAC_SHA1_32', 16, 4, 'null'),
];

const BY_NAME = new Map(CRYPTO_SUITES.map((s) => [s.name.toUpperCase(), s]));

export function findSuite(name: string): CryptoSuite | undefined {
  return BY_NAME.get(name.trim().toUpperCase());
}

/** Position in rtpengine's preference order. */
export function suiteRank(suite: CryptoSuite): number {
  return CRYPTO_SUITES.indexOf(suite);
}
