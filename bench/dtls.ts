/**
 * bench/dtls: N WebRTC-style ↔ plain RTP calls set up at once (default 200). Each DTLS side is a
 * UDP socket with its own DTLS-SRTP endpoint (the addon's, on the peer side too: one process
 * cannot run 200 werift peers fairly; werift interop is what test/daemon/dtls-webrtc.test.ts
 * proves). All offers and answers go out together; the relay is the active end toward every
 * DTLS side, so it starts 200 handshakes at once. Measured:
 *   - time from the first offer until every call carries media (the plain side received its
 *     first decrypted RTP packet), median and maximum, and the relay's CPU seconds meanwhile;
 *   - then steady state: every call sends 50 pps each way (SRTP in → RTP out and back) for a
 *     few seconds; relay CPU µs per relayed packet.
 * Only 127.0.0.1. Bounded: setup waits at most 60 s, steady state runs a fixed time.
 *
 * Usage: node dist/bench/dtls.js [--calls=200] [--seconds=5]
 */
import dgram from 'node:dgram';
import { nativeDtls, type NativeDtlsConnection } from '../daemon/crypto/dtls-native.js';
import { keysFromMaterial } from '../daemon/crypto/dtls-session.js';
import { newRtpSsrcState, SrtpContext, type RtpSsrcState } from '../daemon/crypto/srtp.js';
import { findSuite } from '../daemon/crypto/suites.js';
import type { CryptoParams } from '../daemon/crypto/transport-handler.js';
import { rtpPacket } from '../support/rtp.js';
import { startDaemon } from './lib/daemon.js';
import { cpuSecondsPrecise, sleep } from './lib/proc.js';
import { argValue, fmt } from './lib/stats.js';

const CALLS = Math.min(500, Math.max(1, Number(argValue('calls') ?? 200)));
const SECONDS = Math.min(30, Math.max(1, Number(argValue('seconds') ?? 5)));

const loaded = nativeDtls();
if ('unavailable' in loaded) {
  console.error(`bench/dtls needs the addon's DTLS: ${loaded.unavailable}`);
  process.exit(1);
}
const native = loaded;
const cert = native.DtlsCert.generate('ec', 0, 'sha256', 1);
const fingerprint = [...cert.fingerprint('sha-256')].map((b) => b.toString(16).padStart(2, '0').toUpperCase()).join(':');

function srtp(p: CryptoParams): SrtpContext {
  return new SrtpContext({ suite: findSuite(p.suite)!, masterKey: p.masterKey, masterSalt: p.masterSalt, mki: null, unencryptedSrtp: false, unencryptedSrtcp: false, unauthenticatedSrtp: false });
}

async function bind(): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  return s;
}

interface Call {
  id: string;
  web: dgram.Socket;
  plain: dgram.Socket;
  conn: NativeDtlsConnection;
  relayToWeb: number;
  relayToPlain: number;
  send: SrtpContext | null;
  recv: SrtpContext | null;
  sendState: RtpSsrcState;
  recvState: RtpSsrcState;
  mediaAt: number;
  plainGot: number;
  webGot: number;
}

function sdpFor(port: number, dtls: boolean): string {
  return ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=bench', 't=0 0', `m=audio ${port} ${dtls ? 'RTP/SAVPF' : 'RTP/AVP'} 0`, 'c=IN IP4 127.0.0.1',
    ...(dtls ? ['a=setup:actpass', `a=fingerprint:sha-256 ${fingerprint}`, 'a=rtcp-mux'] : []), 'a=sendrecv', ''].join('\r\n');
}

async function main(): Promise<void> {
  const d = await startDaemon({ portRange: [10000, 19999] });
  const calls: Call[] = [];
  try {
    for (let i = 0; i < CALLS; i++) {
      const web = await bind();
      const plain = await bind();
      const c: Call = {
        id: `dtls-bench-${i}`, web, plain, conn: new native.DtlsConnection(cert, false, 1200),
        relayToWeb: 0, relayToPlain: 0, send: null, recv: null, sendState: newRtpSsrcState(), recvState: newRtpSsrcState(),
        mediaAt: 0, plainGot: 0, webGot: 0,
      };
      web.on('message', (msg, rinfo) => {
        if (msg[0]! >= 20 && msg[0]! <= 63) {
          c.conn.feed(msg);
          for (const out of c.conn.take()) web.send(out, rinfo.port, rinfo.address);
          if (!c.send && c.conn.state() === 1) {
            const km = c.conn.keyingMaterial()!;
            const keys = keysFromMaterial(km.profile, km.keyLength, km.saltLength, km.material, false)!;
            c.send = srtp(keys.send);
            c.recv = srtp(keys.recv);
          }
        } else if (msg[0]! >= 128 && c.recv) {
          if (Buffer.isBuffer(c.recv.unprotectRtp(msg, c.recvState))) c.webGot++;
        }
      });
      plain.on('message', () => {
        c.plainGot++;
        if (!c.mediaAt) c.mediaAt = performance.now();
      });
      calls.push(c);
    }
    const cpu0 = cpuSecondsPrecise(d.pid) ?? 0;
    const t0 = performance.now();
    await Promise.all(calls.map(async (c) => {
      const offer = await d.ng.request({ command: 'offer', 'call-id': c.id, 'from-tag': 'web', sdp: sdpFor(c.web.address().port, true), 'transport-protocol': 'RTP/AVP', ICE: 'remove' });
      c.relayToPlain = Number(/m=audio (\d+)/.exec(String(offer.sdp))![1]);
      const answer = await d.ng.request({ command: 'answer', 'call-id': c.id, 'from-tag': 'web', 'to-tag': 'plain', sdp: sdpFor(c.plain.address().port, false) });
      c.relayToWeb = Number(/m=audio (\d+)/.exec(String(answer.sdp))![1]);
    }));
    const signalled = performance.now();
    // every DTLS side sends SRTP every 20 ms once it has keys, until its plain side hears it
    let seq = 0;
    const deadline = t0 + 60_000;
    while (calls.some((c) => !c.mediaAt) && performance.now() < deadline) {
      seq++;
      for (const c of calls) {
        if (c.send && !c.mediaAt) c.web.send(c.send.protectRtp(rtpPacket(seq, { ssrc: 0x1000 }), c.sendState)!, c.relayToWeb, '127.0.0.1');
      }
      await sleep(20);
    }
    const cpuSetup = (cpuSecondsPrecise(d.pid) ?? 0) - cpu0;
    const times = calls.filter((c) => c.mediaAt).map((c) => c.mediaAt - t0).sort((a, b) => a - b);
    const done = times.length;
    console.log(`bench/dtls: ${CALLS} WebRTC-style (DTLS-SRTP) <-> RTP calls set up at once`);
    console.log(`  signalling done after      ${fmt(signalled - t0)} ms`);
    console.log(`  calls carrying media       ${done} of ${CALLS}`);
    if (done) console.log(`  time until media flows     median ${fmt(times[Math.floor(done / 2)]!)} ms, max ${fmt(times[done - 1]!)} ms`);
    console.log(`  relay CPU during set-up    ${fmt(cpuSetup, 2)} s`);

    // steady state: 50 pps each way per call
    for (const c of calls) {
      c.plainGot = 0;
      c.webGot = 0;
    }
    const cpu1 = cpuSecondsPrecise(d.pid) ?? 0;
    const end = performance.now() + SECONDS * 1000;
    let sent = 0;
    while (performance.now() < end) {
      seq++;
      for (const c of calls) {
        if (!c.send) continue;
        c.web.send(c.send.protectRtp(rtpPacket(seq, { ssrc: 0x1000 }), c.sendState)!, c.relayToWeb, '127.0.0.1');
        c.plain.send(rtpPacket(seq, { ssrc: 0x2000 }), c.relayToPlain, '127.0.0.1');
        sent += 2;
      }
      await sleep(20);
    }
    await sleep(200);
    const cpuSteady = (cpuSecondsPrecise(d.pid) ?? 0) - cpu1;
    const relayed = calls.reduce((n, c) => n + c.plainGot + c.webGot, 0);
    console.log(`  steady state (${SECONDS} s)       ${sent} sent, ${relayed} relayed (${fmt((relayed / sent) * 100, 1)} %)`);
    console.log(`  relay CPU per packet       ${fmt((cpuSteady / Math.max(1, relayed)) * 1e6, 1)} µs (SRTP→RTP and RTP→SRTP together)`);
  } finally {
    for (const c of calls) {
      c.conn.close();
      c.web.close();
      c.plain.close();
    }
    await Promise.all(calls.map((c) => d.ng.request({ command: 'delete', 'call-id': c.id, 'delete-delay': 0 })));
    await d.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
