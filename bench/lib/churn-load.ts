/**
 * The churn load shared by bench/churn and bench/churn-repeat: against a running daemon, N
 * cycles of offer / answer / a few RTP packets each way (two local UDP peers per slot, checked
 * on arrival) / delete with delete-delay 0, at most `window` calls in flight, as fast as the
 * daemon answers, bounded in time.
 */
import dgram from 'node:dgram';
import type { BenchDaemon } from './daemon.js';
import { rtpPacket } from '../../support/rtp.js';
import { relayPortsOf, sdpFor } from '../../support/sdp.js';
import { fmt } from './stats.js';

export interface ChurnOptions {
  cycles: number;
  window: number;
  packets: number;
  maxSeconds: number;
  /** Called after every completed cycle with the count so far (RSS samplers follow it). */
  onCycle?: (done: number) => void;
  /** Called about every 10 s with the calls done so far. */
  progress?: (done: number, failed: number, elapsedSec: number) => void;
}

export interface ChurnResult {
  done: number;
  failed: number;
  rtpMissing: number;
  elapsedSec: number;
  firstError: string;
  stopReason: string;
}

const RTP_WAIT_MS = 2000;

interface Peer {
  sock: dgram.Socket;
  port: number;
  /** cycle whose packets are expected now, and how many of them arrived */
  cycle: number;
  got: number;
  waiter: (() => void) | null;
}

async function openPeer(packets: number): Promise<Peer> {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(0, '127.0.0.1', () => resolve());
  });
  const peer: Peer = { sock, port: sock.address().port, cycle: -1, got: 0, waiter: null };
  sock.on('message', (msg) => {
    if (msg.length >= 16 && msg.readUInt32BE(12) === peer.cycle) {
      peer.got++;
      if (peer.got >= packets && peer.waiter) {
        const w = peer.waiter;
        peer.waiter = null;
        w();
      }
    }
  });
  sock.on('error', () => undefined);
  return peer;
}

function rtp(cycle: number, seq: number, ssrc: number): Buffer {
  const payload = Buffer.alloc(160);
  payload.writeUInt32BE(cycle >>> 0, 0);
  return rtpPacket(seq, { ssrc, payload });
}

function waitPackets(p: Peer, packets: number, timeoutMs: number): Promise<void> {
  if (p.got >= packets) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      p.waiter = null;
      resolve();
    }, timeoutMs);
    p.waiter = () => {
      clearTimeout(t);
      resolve();
    };
  });
}

export async function runChurn(d: BenchDaemon, opts: ChurnOptions): Promise<ChurnResult> {
  const { cycles, packets, maxSeconds } = opts;
  const t0 = Date.now();
  let done = 0;
  let failed = 0;
  let rtpMissing = 0;
  let lastReport = Date.now();
  const tag = `${process.pid}-${Date.now().toString(36)}`;
  let next = 0;
  let firstError = '';
  let stopReason = '';

  const slot = async (): Promise<void> => {
    const a = await openPeer(packets);
    const b = await openPeer(packets);
    try {
      while (next < cycles) {
        if (Date.now() - t0 > maxSeconds * 1000) {
          stopReason = `time bound of ${maxSeconds} s reached`;
          return;
        }
        if (d.exited()) {
          stopReason = 'daemon exited';
          return;
        }
        const i = next++;
        const callId = `churn-${tag}-${i}`;
        try {
          a.cycle = i; a.got = 0;
          b.cycle = i; b.got = 0;
          const offer = await d.ng.ok({ command: 'offer', 'call-id': callId, 'from-tag': `a${i}`, sdp: sdpFor({ address: '127.0.0.1', port: a.port }) });
          const answer = await d.ng.ok({
            command: 'answer', 'call-id': callId, 'from-tag': `a${i}`, 'to-tag': `b${i}`, sdp: sdpFor({ address: '127.0.0.1', port: b.port }),
          });
          const toB = relayPortsOf(offer.sdp as string).rtp;
          const toA = relayPortsOf(answer.sdp as string).rtp;
          for (let k = 0; k < packets; k++) {
            a.sock.send(rtp(i, k, 0x1000 + i), toA, '127.0.0.1');
            b.sock.send(rtp(i, k, 0x2000 + i), toB, '127.0.0.1');
          }
          await Promise.all([waitPackets(a, packets, RTP_WAIT_MS), waitPackets(b, packets, RTP_WAIT_MS)]);
          rtpMissing += Math.max(0, packets - a.got) + Math.max(0, packets - b.got);
          await d.ng.ok({ command: 'delete', 'call-id': callId, 'from-tag': `a${i}`, 'delete-delay': 0 });
          done++;
          opts.onCycle?.(done);
        } catch (err) {
          failed++;
          if (!firstError) firstError = (err as Error).message;
          // best effort: don't leave the call behind
          await d.ng.request({ command: 'delete', 'call-id': callId, 'delete-delay': 0 }, { timeoutMs: 2000, retries: 0 }).catch(() => undefined);
        }
        if (opts.progress && Date.now() - lastReport >= 10_000) {
          lastReport = Date.now();
          opts.progress(done, failed, (Date.now() - t0) / 1000);
        }
      }
    } finally {
      a.sock.close();
      b.sock.close();
    }
  };
  await Promise.all(Array.from({ length: opts.window }, slot));
  return { done, failed, rtpMissing, elapsedSec: (Date.now() - t0) / 1000, firstError, stopReason };
}

export type LeakCounts = { live?: Record<string, number>; leaked?: number; doubleRelease?: number; reachableAfterRelease?: number; transientReachable?: number };

/** One line for logs: "2,000 calls in 5 s (400 calls/s)". */
export function rateText(done: number, elapsedSec: number): string {
  return `${fmt(done)} calls in ${elapsedSec.toFixed(0)} s (${fmt(done / elapsedSec)} calls/s)`;
}
