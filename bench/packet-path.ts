/**
 * bench/packet-path: CPU per packet of the JS packet path in-process, without a load generator
 * sharing the cores: a real Call with two participants on real dgram sockets (127.0.0.1),
 * endpoints confirmed, and `streamPacket()` called directly for N RTP packets (172 bytes), each
 * relayed to the other side (the datagrams are sent for real; nobody reads them). Reports
 * process CPU (user+sys) and wall time per packet, best of --rounds. Pass-through only (both
 * sides number alike) unless --renumber (telephone-event 101 vs 96; every packet renumbered).
 * --srtp=in: A sends SRTP (AES_CM_128_HMAC_SHA1_80), the relay authenticates and decrypts, B gets
 * plain RTP; --srtp=out: A sends plain, the relay encrypts toward B; --srtp=both: SRTP on both
 * sides, re-keyed. SRTP input packets are protected before each round's clock starts.
 *
 * Usage: node dist/bench/packet-path.js [--packets=200000] [--rounds=5] [--renumber] [--srtp=in|out|both]
 * Only 127.0.0.1 is used; ports from 47000–47099.
 */
import { Call } from '../daemon/call/call.js';
import { streamPacket } from '../daemon/media/media-socket.js';
import type { SdpCodec } from '../daemon/sdp/sdp-model.js';
import { inProcessCallContext } from '../support/call-context.js';
import { rtpPacket } from '../support/rtp.js';
import { argValue, hasFlag } from './lib/stats.js';
import { SrtpContext } from '../daemon/crypto/srtp.js';
import { findSuite } from '../daemon/crypto/suites.js';
import type { CryptoParams } from '../daemon/crypto/transport-handler.js';

const packets = Number(argValue('packets') ?? 200_000);
const rounds = Number(argValue('rounds') ?? 5);
const renumber = hasFlag('renumber');
const srtp = argValue('srtp') ?? null;
if (srtp !== null && srtp !== 'in' && srtp !== 'out' && srtp !== 'both') throw new Error('--srtp=in|out|both');
const SUITE = 'AES_CM_128_HMAC_SHA1_80';
const keys = (fill: number): CryptoParams => ({ suite: SUITE, masterKey: Buffer.alloc(16, fill), masterSalt: Buffer.alloc(14, fill + 1) });
const BATCH = 500;

const codec = (payloadType: number, encoding: string): SdpCodec =>
  ({ payloadType, encoding, clockRate: 8000, channels: null, rtpmap: null, fmtp: [], rtcpFb: [] });

async function main(): Promise<void> {
  const ctx = inProcessCallContext(['-i', '127.0.0.1', '-m', '47000', '-M', '47099', '--endpoint-learning=immediate']);
  const call = new Call('bench-packet-path', ctx);
  const local = ctx.interfaces.addresses[0]!;
  const ma = call.addMonologue('a', undefined);
  const mb = call.addMonologue('b', undefined);
  ma.subscribe(mb);
  mb.subscribe(ma);
  const a = call.addMedia(ma, 1, 'audio');
  const b = call.addMedia(mb, 1, 'audio');
  // codec lists exist on both versions of CallMedia; older builds ignore them
  (a as { codecs: SdpCodec[] }).codecs = [codec(0, 'PCMU'), codec(101, 'telephone-event')];
  (b as { codecs: SdpCodec[] }).codecs = [codec(0, 'PCMU'), codec(renumber ? 96 : 101, 'telephone-event')];
  await call.allocatePorts(a, local.name, local.family);
  await call.allocatePorts(b, local.name, local.family);
  const aKeys = keys(0x21);
  if (srtp === 'in' || srtp === 'both') a.cryptoRecv = aKeys;
  if (srtp === 'out' || srtp === 'both') b.cryptoSend = keys(0x42);
  // B's endpoint: a port nobody listens on at 127.0.0.1 (the datagrams are sent and dropped)
  a.rtp.setAdvertised({ address: '127.0.0.1', port: 9, family: 4 });
  b.rtp.setAdvertised({ address: '127.0.0.1', port: 9, family: 4 });
  call.rebuildSinks();
  const from = { address: '127.0.0.1', port: 9, family: 4 as const };
  const fd = a.rtp.selectedFd!;
  const pkt = rtpPacket(0x5555, { pt: renumber ? 101 : 0, ts: 0x55555555, ssrc: 0x1234, payload: Buffer.alloc(160, 0x55) });

  // A's SRTP stack: what A sends, protected ahead of each round
  const aTx = srtp === 'in' || srtp === 'both'
    ? new SrtpContext({ suite: findSuite(SUITE)!, masterKey: aKeys.masterKey, masterSalt: aKeys.masterSalt, mki: null, unencryptedSrtp: false, unencryptedSrtcp: false, unauthenticatedSrtp: false })
    : null;
  let seq = 0;
  const results: Array<{ cpuNs: number; wallNs: number }> = [];
  for (let r = 0; r < rounds + 1; r++) {
    const input: Buffer[] = [];
    if (aTx) {
      for (let i = 0; i < packets; i++) {
        pkt.writeUInt16BE((seq + i) & 0xffff, 2);
        input.push(aTx.protectRtp(pkt)!);
      }
    }
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < packets; i += BATCH) {
      for (let k = 0; k < BATCH; k++) {
        if (aTx) {
          streamPacket(fd, input[i + k]!, from, ctx.counters);
        } else {
          pkt.writeUInt16BE((seq + i + k) & 0xffff, 2);
          streamPacket(fd, pkt, from, ctx.counters);
        }
      }
      // let libuv complete the sends of this batch
      await new Promise((res) => setImmediate(res));
    }
    seq += packets;
    const wallNs = Number(process.hrtime.bigint() - t0);
    const c = process.cpuUsage(c0);
    if (r > 0) results.push({ cpuNs: ((c.user + c.system) * 1000) / packets, wallNs: wallNs / packets }); // round 0 warms up
  }
  const relayed = b.rtp.stats.packets + a.rtp.stats.packets;
  await call.write(() => call.destroy());
  const best = results.reduce((x, y) => (y.cpuNs < x.cpuNs ? y : x));
  const median = [...results].sort((x, y) => x.cpuNs - y.cpuNs)[Math.floor(results.length / 2)]!;
  const errors = a.rtp.stats.errors;
  if (errors > 0) console.log(`  WARNING: ${errors} packets refused by the relay`);
  console.log(`bench/packet-path: ${renumber ? 'renumber' : 'pass-through'}${srtp ? `, SRTP ${srtp}` : ''}, ${packets} packets x ${rounds} rounds (+1 warm-up), ${relayed} counted`);
  console.log(`  CPU per packet: best ${(best.cpuNs / 1000).toFixed(3)} us, median ${(median.cpuNs / 1000).toFixed(3)} us; wall per packet (best round) ${(best.wallNs / 1000).toFixed(3)} us`);
  console.log(`  rounds (CPU us/packet): ${results.map((x) => (x.cpuNs / 1000).toFixed(3)).join(' ')}`);
  console.log(`  leaks after teardown: ${JSON.stringify(Object.fromEntries(Object.entries(ctx.leaks.liveCountsByType()).filter(([, v]) => v !== 0)))}`);
}

await main();
