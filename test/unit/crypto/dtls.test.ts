/**
 * DTLS-SRTP through the real addon (kernel/src/dtls.cc, Node's OpenSSL): two of our own
 * sessions handshake over real UDP sockets on loopback; keys come out as RFC 5764 says (the
 * client's send keys are the server's receive keys) and drive the real SRTP layer; a wrong
 * fingerprint, garbage and a peer that never answers fail cleanly with bounded timers; the
 * certificate options, fingerprints and renewal.
 */
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { DtlsCertificates, fingerprintHash, fingerprintLine } from '../../../daemon/crypto/dtls-cert.js';
import { nativeDtls, type NativeDtls } from '../../../daemon/crypto/dtls-native.js';
import { DtlsSession, formatFingerprint, isDtlsDatagram, keysFromMaterial, parseFingerprint, type DtlsKeys, type Fingerprint } from '../../../daemon/crypto/dtls-session.js';
import { findSuite } from '../../../daemon/crypto/suites.js';
import { newRtpSsrcState, SrtpContext } from '../../../daemon/crypto/srtp.js';
import type { Endpoint } from '../../../daemon/net/endpoint.js';
import type { MediaSocket } from '../../../daemon/net/media-socket.js';
import { rtpPacket } from '../../../support/rtp.js';
import { sleep } from '../../../support/sleep.js';

const loaded = nativeDtls();
const native = 'unavailable' in loaded ? null : loaded;
const d = describe.skipIf(!native);

interface Side {
  socket: dgram.Socket;
  port: number;
  media: MediaSocket;
}

const sockets: dgram.Socket[] = [];

async function side(): Promise<Side> {
  const socket = dgram.createSocket('udp4');
  sockets.push(socket);
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
  const media = {
    send: (data: Buffer, port: number, address: string) => {
      socket.send(data, port, address);
      return true;
    },
  } as unknown as MediaSocket;
  return { socket, port: socket.address().port, media };
}

afterEach(() => {
  for (const s of sockets.splice(0)) s.close();
});

function ep(port: number): Endpoint {
  return { address: '127.0.0.1', port, family: 4 };
}

function events() {
  const out: { keys: DtlsKeys | null; failed: string | null } = { keys: null, failed: null };
  return {
    out,
    ev: { connected: (k: DtlsKeys) => { out.keys = k; }, failed: (r: string) => { out.failed = r; } },
  };
}

function fp(n: NativeDtls, cert: ReturnType<NativeDtls['DtlsCert']['generate']>, hash = 'sha-256'): Fingerprint {
  return { hash, value: cert.fingerprint(hash) };
}

/** Wires a session to its socket: every datagram that arrives goes into its DTLS hook. */
function wire(s: Side, session: DtlsSession): void {
  s.socket.on('message', (msg, rinfo) => session.dtls(msg, ep(rinfo.port), s.media));
}

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond() && Date.now() < deadline) await sleep(10);
}

d('DTLS-SRTP sessions (addon)', () => {
  const n = native!;

  it('handshake, fingerprints checked both ways, RFC 5764 keys that drive SRTP', async () => {
    const certA = n.DtlsCert.generate('ec', 0, 'sha256', 30);
    const certB = n.DtlsCert.generate('rsa', 2048, 'sha256', 30);
    const a = await side();
    const b = await side();
    const ea = events();
    const eb = events();
    const client = new DtlsSession(n, certA, true, fp(n, certB, 'sha-1'), ea.ev);
    const server = new DtlsSession(n, certB, false, fp(n, certA, 'sha-512'), eb.ev);
    wire(a, client);
    wire(b, server);
    client.start(a.media, ep(b.port));
    await until(() => ea.out.keys !== null && eb.out.keys !== null);
    expect(ea.out.failed).toBeNull();
    expect(eb.out.failed).toBeNull();
    const ka = ea.out.keys!;
    const kb = eb.out.keys!;
    expect(ka.profile).toBe(kb.profile);
    expect(ka.send.masterKey.equals(kb.recv.masterKey)).toBe(true);
    expect(ka.recv.masterSalt.equals(kb.send.masterSalt)).toBe(true);
    expect(ka.send.masterKey.equals(ka.recv.masterKey)).toBe(false);
    // what the client protects, the server's receive keys open
    const suite = findSuite(ka.send.suite)!;
    const enc = new SrtpContext({ suite, masterKey: ka.send.masterKey, masterSalt: ka.send.masterSalt, mki: null, unencryptedSrtp: false, unencryptedSrtcp: false, unauthenticatedSrtp: false });
    const dec = new SrtpContext({ suite, masterKey: kb.recv.masterKey, masterSalt: kb.recv.masterSalt, mki: null, unencryptedSrtp: false, unencryptedSrtcp: false, unauthenticatedSrtp: false });
    const pkt = rtpPacket(7);
    const out = dec.unprotectRtp(enc.protectRtp(pkt, newRtpSsrcState())!, newRtpSsrcState());
    expect(Buffer.isBuffer(out) && out.equals(pkt)).toBe(true);
    client.close();
    server.close();
    expect(n.DtlsConnection.live()).toBe(0);
  });

  it('a fingerprint that does not match fails the handshake, and frees the SSL object', async () => {
    const certA = n.DtlsCert.generate('ec', 0, 'sha256', 30);
    const certB = n.DtlsCert.generate('ec', 0, 'sha256', 30);
    const other = n.DtlsCert.generate('ec', 0, 'sha256', 30);
    const a = await side();
    const b = await side();
    const ea = events();
    const eb = events();
    const client = new DtlsSession(n, certA, true, fp(n, other), ea.ev);
    const server = new DtlsSession(n, certB, false, fp(n, certA), eb.ev);
    wire(a, client);
    wire(b, server);
    client.start(a.media, ep(b.port));
    await until(() => ea.out.failed !== null);
    expect(ea.out.failed).toMatch(/fingerprint mismatch/);
    expect(ea.out.keys).toBeNull();
    expect(client.state).toBe('failed');
    client.close();
    server.close();
    expect(n.DtlsConnection.live()).toBe(0);
  });

  it('garbage is refused before OpenSSL; a peer that never answers fails within the limit, timers bounded', async () => {
    const cert = n.DtlsCert.generate('ec', 0, 'sha256', 30);
    const a = await side();
    const silent = await side();
    let hellos = 0;
    silent.socket.on('message', () => hellos++);
    const ea = events();
    const client = new DtlsSession(n, cert, true, fp(n, cert), ea.ev, 1200, 1500);
    client.start(a.media, ep(silent.port));
    expect(client.dtls(Buffer.from([22, 0xfe, 0xfd, 1, 2, 3]), ep(silent.port), a.media)).toBe(false);
    expect(client.dtls(Buffer.concat([Buffer.from([22, 0xfe, 0xfd]), Buffer.alloc(8), Buffer.from([0, 200])]), ep(silent.port), a.media)).toBe(false);
    // well-formed records from anywhere but the peer never reach OpenSSL
    const junk = Buffer.concat([Buffer.from([22, 0xfe, 0xfd]), Buffer.alloc(8), Buffer.from([0, 4]), Buffer.from([1, 2, 3, 4])]);
    expect(client.dtls(junk, ep(silent.port + 1), a.media)).toBe(false);
    await until(() => ea.out.failed !== null, 3000);
    expect(ea.out.failed).toMatch(/did not finish within 1500 ms/);
    // the ClientHello and a retransmission (OpenSSL's first timer is 1 s), then nothing more
    expect(hellos).toBeGreaterThanOrEqual(2);
    const seen = hellos;
    await sleep(1200);
    expect(hellos).toBe(seen);
    client.close();
    expect(n.DtlsConnection.live()).toBe(0);
  });
});

describe('DTLS helpers', () => {
  it('parses and formats a=fingerprint values', () => {
    const f = parseFingerprint('sha-256 ' + Array.from({ length: 32 }, (_, i) => i.toString(16).padStart(2, '0').toUpperCase()).join(':'))!;
    expect(f.hash).toBe('sha-256');
    expect(f.value.length).toBe(32);
    expect(formatFingerprint(f.value)).toMatch(/^00:01:02:.*:1F$/);
    expect(parseFingerprint('SHA-1 00:11')).toBeNull(); // wrong length for sha-1
    expect(parseFingerprint('md5 00:11:22')).toBeNull();
    expect(parseFingerprint('garbage')).toBeNull();
    expect(fingerprintHash('SHA256')).toBe('sha-256');
    expect(fingerprintHash('sha-384')).toBe('sha-384');
    expect(fingerprintHash('md5')).toBeNull();
  });

  it('splits keying material: client key, server key, client salt, server salt', () => {
    const m = Buffer.from(Array.from({ length: 60 }, (_, i) => i));
    const c = keysFromMaterial('SRTP_AES128_CM_SHA1_80', 16, 14, m, true)!;
    expect(c.send.suite).toBe('AES_CM_128_HMAC_SHA1_80');
    expect([...c.send.masterKey]).toEqual(Array.from({ length: 16 }, (_, i) => i));
    expect([...c.recv.masterKey]).toEqual(Array.from({ length: 16 }, (_, i) => 16 + i));
    expect([...c.send.masterSalt]).toEqual(Array.from({ length: 14 }, (_, i) => 32 + i));
    expect([...c.recv.masterSalt]).toEqual(Array.from({ length: 14 }, (_, i) => 46 + i));
    const s = keysFromMaterial('SRTP_AES128_CM_SHA1_80', 16, 14, m, false)!;
    expect(s.send.masterKey.equals(c.recv.masterKey)).toBe(true);
    expect(keysFromMaterial('SRTP_NULL_SHA1_80', 16, 14, m, true)).toBeNull();
    expect(keysFromMaterial('SRTP_AES128_CM_SHA1_80', 16, 14, m.subarray(1), true)).toBeNull();
  });

  it('tells DTLS datagrams from garbage', () => {
    const rec = (type: number, len: number) => Buffer.concat([Buffer.from([type, 0xfe, 0xfd]), Buffer.alloc(8), Buffer.from([len >> 8, len & 0xff]), Buffer.alloc(len)]);
    expect(isDtlsDatagram(rec(22, 10))).toBe(true);
    expect(isDtlsDatagram(Buffer.concat([rec(22, 10), rec(20, 1), rec(23, 30)]))).toBe(true);
    expect(isDtlsDatagram(rec(26, 10))).toBe(false);
    expect(isDtlsDatagram(rec(22, 10).subarray(0, 20))).toBe(false);
    expect(isDtlsDatagram(Buffer.concat([rec(22, 10), Buffer.from([1])]))).toBe(false);
  });
});

d('DTLS certificate', () => {
  it('prime256v1 and RSA keys, SHA-256 or SHA-1 signatures, every fingerprint hash; renewal makes a new one', () => {
    const ec = DtlsCertificates.create({ cipher: 'prime256v1', rsaKeySize: 2048, signature: 'sha-256', lifetimeDays: 30 });
    if ('unavailable' in ec) throw new Error(ec.unavailable);
    const lens: Record<string, number> = { 'sha-1': 20, 'sha-224': 28, 'sha-256': 32, 'sha-384': 48, 'sha-512': 64 };
    for (const [hash, len] of Object.entries(lens)) {
      const line = fingerprintLine(ec.current(), hash as 'sha-256');
      expect(line.startsWith(`${hash} `)).toBe(true);
      expect(line.split(' ')[1]!.split(':').length).toBe(len);
    }
    const notAfter = ec.current().notAfter();
    expect(notAfter * 1000).toBeGreaterThan(Date.now() + 29 * 86_400_000);
    const before = fingerprintLine(ec.current(), 'sha-256');
    ec.renew();
    expect(ec.generation).toBe(2);
    expect(fingerprintLine(ec.current(), 'sha-256')).not.toBe(before);
    const rsa = DtlsCertificates.create({ cipher: 'rsa', rsaKeySize: 1024, signature: 'sha-1', lifetimeDays: 1 });
    if ('unavailable' in rsa) throw new Error(rsa.unavailable);
    expect(fingerprintLine(rsa.current(), 'sha-1')).toMatch(/^sha-1 ([0-9A-F]{2}:){19}[0-9A-F]{2}$/);
    expect(() => native!.DtlsCert.generate('rsa', 100, 'sha256', 30)).toThrow(/RSA key size/);
    expect(() => native!.DtlsCert.generate('dsa' as 'rsa', 2048, 'sha256', 30)).toThrow(/ec or rsa/);
  });

  it('the renewal timer renews', async () => {
    const c = DtlsCertificates.create({ cipher: 'prime256v1', rsaKeySize: 2048, signature: 'sha-256', lifetimeDays: 30, renewAfterMs: 50 });
    if ('unavailable' in c) throw new Error(c.unavailable);
    c.startRenewal();
    await until(() => c.generation >= 3, 2000);
    c.stop();
    expect(c.generation).toBeGreaterThanOrEqual(3);
  });
});
