/**
 * SRTP primitives against published test vectors: RFC 3711 appendix B (AES-f8, AES-CM
 * keystream, key derivation) and RFC 7714 section 16/17 (AES-GCM).
 */
import { describe, expect, it } from 'vitest';
import { createCipheriv } from 'node:crypto';
import {
  aesCmIv, aesCmXor, aesF8Keystream, deriveKey, gcmRtcpIv, gcmRtpIv, LABEL, xorInto,
} from '../../../daemon/crypto/srtp-primitives.js';
import { ReplayWindow } from '../../../daemon/crypto/replay.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('RFC 3711 B.3 key derivation', () => {
  const key = hex('E1F97A0D3E018BE0D64FA32C06DE4139');
  const salt = hex('0EC675AD498AFEEBB6960B3AABE6');
  it('derives the cipher key, salt and authentication key', () => {
    expect(deriveKey(key, salt, LABEL.rtpEncryption, 16).toString('hex')).toBe('c61e7a93744f39ee10734afe3ff7a087');
    expect(deriveKey(key, salt, LABEL.rtpSalt, 14).toString('hex')).toBe('30cbbc08863d8c85d49db34a9ae1');
    expect(deriveKey(key, salt, LABEL.rtpAuth, 20).toString('hex')).toBe('cebe321f6ff7716b6fd4ab49af256a156d38baa4');
  });
});

describe('RFC 3711 B.2 AES-CM keystream', () => {
  it('produces the listed keystream blocks', () => {
    const key = hex('2B7E151628AED2A6ABF7158809CF4F3C');
    const salt = hex('F0F1F2F3F4F5F6F7F8F9FAFBFCFD');
    const iv = aesCmIv(salt, 0, 0);
    expect(iv.toString('hex')).toBe('f0f1f2f3f4f5f6f7f8f9fafbfcfd0000');
    const ks = Buffer.alloc(0xff02 * 16);
    aesCmXor(key, iv, ks);
    const block = (n: number) => ks.subarray(n * 16, n * 16 + 16).toString('hex');
    expect(block(0)).toBe('e03ead0935c95e80e166b16dd92b4eb4');
    expect(block(1)).toBe('d23513162b02d0f72a43a2fe4a5f97ab');
    expect(block(2)).toBe('41e95b3bb0a2e8dd477901e4fca894c0');
    expect(block(0xfeff)).toBe('ec8cdf7398607cb0f2d21675ea9ea1e4');
    expect(block(0xff00)).toBe('362b7c3c6773516318a077d7fc5073ae');
    expect(block(0xff01)).toBe('6a2cc3787889374fbeb4c81b17ba6c44');
  });

  it('places SSRC and index in the IV as RFC 3711 4.1.1 says', () => {
    expect(aesCmIv(Buffer.alloc(14), 0x01020304, 0x556677889900).toString('hex')).toBe('00000000010203045566778899000000');
  });
});

describe('RFC 3711 B.1 AES-f8', () => {
  it('encrypts the test payload', () => {
    const payload = hex('70736575646f72616e646f6d6e65737320697320746865206e6578742062657374207468696e67');
    const ks = aesF8Keystream(hex('234829008467be186c3de14aae72d62c'), hex('32f2870d'), hex('006e5cba50681de55c621599d462564a'), payload.length);
    xorInto(payload, ks);
    expect(payload.toString('hex')).toBe('019ce7a26e7854014a6366aa95d4eefd1ad4172a14f9faf455b7f1d4b62bd08f562c0eef7c4802');
  });
});

describe('RFC 7714 AES-GCM', () => {
  const key = hex('000102030405060708090a0b0c0d0e0f');
  const salt = hex('517569642070726f2071756f');
  it('builds the SRTP and SRTCP IVs (sections 16.1, 17.1)', () => {
    expect(gcmRtpIv(salt, 0x5501a0b2, 0, 0xf17b).toString('hex')).toBe('51753c6580c2726f20718414');
    expect(gcmRtcpIv(salt, 0x4d617273, 0x5d4).toString('hex')).toBe('517524055203726f207170bb');
  });
  it('encrypts the section 16.1.1 RTP packet', () => {
    const pkt = hex('8040f17b8041f8d35501a0b2 47616c6c696120657374206f6d6e69732064697669736120696e207061727465732074726573');
    const c = createCipheriv('aes-128-gcm', key, gcmRtpIv(salt, 0x5501a0b2, 0, 0xf17b), { authTagLength: 16 });
    c.setAAD(pkt.subarray(0, 12));
    const out = Buffer.concat([pkt.subarray(0, 12), c.update(pkt.subarray(12)), c.final(), c.getAuthTag()]);
    expect(out.toString('hex')).toBe(
      '8040f17b8041f8d35501a0b2f24de3a3fb34de6cacba861c9d7e4bcabe633bd50d294e6f42a5f47a51c7d19b36de3adf8833899d7f27beb16a9152cf765ee4390cce');
  });
});

describe('replay window', () => {
  it('accepts new and in-window unseen indexes, refuses repeats and the too old', () => {
    const w = new ReplayWindow();
    expect(w.check(5)).toBe(true);
    w.accept(5);
    expect(w.check(5)).toBe(false);
    expect(w.check(3)).toBe(true);
    w.accept(300);
    expect(w.check(299)).toBe(true);
    expect(w.check(100)).toBe(false); // more than 128 behind
    expect(w.check(300)).toBe(false);
  });
});
