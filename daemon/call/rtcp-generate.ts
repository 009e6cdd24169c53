/**
 * `generate RTCP` (rtpengine's flag): the relay consumes the RTCP its participants send (still
 * reading it for the quality statistics) and sends each participant its own reports every
 * `--rtcp-interval` ms, built from its per-SSRC counters: a sender report about what it sent
 * that participant (SSRC, packet and octet counts, last RTP timestamp, NTP now) or, before
 * anything was sent, a receiver report; report blocks about each SSRC the participant sends
 * (RFC 3550 A.1/A.3 loss: fraction since the last report, cumulative, extended highest
 * sequence number; interarrival jitter (RFC 3550 A.8, from arrival times on the JS path, in the
 * participant's timestamp units); LSR/DLSR from its last sender report).
 *
 * Owner and lifetime: one generator per call, started by the first offer/answer with the
 * flag, registered with the leak audit (Timer) and closed exactly once at teardown. Each tick
 * checks `closed` and skips a round while a command holds the call's write lock.
 */
import { randomInt } from 'node:crypto';
import type { SsrcContext } from '../codec/ssrc.js';
import type { SinkHandler } from '../media/packet-stream.js';
import type { CallMedia } from './call-media.js';
import type { Call } from './call.js';

/** Seconds from 1900 (NTP) to 1970 (Unix). */
const NTP_OFFSET = 2_208_988_800;
const MAX_BLOCKS = 31;

export function ntpTime(ms: number): { msw: number; lsw: number } {
  const secs = Math.floor(ms / 1000);
  return { msw: (secs + NTP_OFFSET) >>> 0, lsw: Math.floor(((ms % 1000) / 1000) * 0x100000000) >>> 0 };
}

interface Prior {
  expected: number;
  received: number;
}

export class RtcpGenerator {
  readonly kind = 'rtcp-generator';
  readonly stateless = false;
  private readonly timer: NodeJS.Timeout;
  private closed = false;
  /** Counts at the last report, per SSRC context (fraction lost is per interval). */
  private readonly prior = new WeakMap<SsrcContext, Prior>();
  /** Our SSRC toward a participant we have not sent anything yet. */
  private readonly ownSsrc = randomInt(1, 0xffffffff);
  reportsSent = 0;

  constructor(
    private readonly call: Call,
    intervalMs: number,
  ) {
    this.timer = setInterval(() => this.tick(), intervalMs);
    this.timer.unref();
  }

  close(): void {
    this.closed = true;
    clearInterval(this.timer);
  }

  private tick(): void {
    const call = this.call;
    if (this.closed || call.destroyed || call.writeLocked) return;
    for (const media of call.medias) {
      if (media.rejected || media.monologue.deleted) continue;
      const pkt = this.report(media, Date.now());
      if (!pkt) continue;
      const sink = this.sinkTo(media);
      if (!sink) continue;
      sink.sendRtcp(pkt);
      this.reportsSent++;
    }
  }

  /** A sink that sends RTCP to this participant (a peer stream's RTCP sink). */
  private sinkTo(media: CallMedia): SinkHandler | null {
    const target = media.rtcpTarget();
    for (const s of this.call.streams) {
      for (const k of s.rtcpSinks) if (k.dst === target) return k;
    }
    return null;
  }

  /** The report for one participant, or null when nothing flowed either way yet. */
  report(media: CallMedia, now: number): Buffer | null {
    const sent = [...media.rtp.ssrcOut.contexts()].find((c) => c.packets > 0) ?? null;
    const received = [...media.rtp.ssrcIn.contexts()].filter((c) => c.packets > 0).slice(0, MAX_BLOCKS);
    if (!sent && received.length === 0) return null;
    const isSr = sent !== null;
    const head = isSr ? 28 : 8;
    const b = Buffer.alloc(head + received.length * 24);
    b[0] = 0x80 | received.length;
    b[1] = isSr ? 200 : 201;
    b.writeUInt16BE(b.length / 4 - 1, 2);
    b.writeUInt32BE(sent ? sent.ssrc : this.ownSsrc, 4);
    if (sent) {
      const ntp = ntpTime(now);
      b.writeUInt32BE(ntp.msw, 8);
      b.writeUInt32BE(ntp.lsw, 12);
      b.writeUInt32BE(sent.lastTs >>> 0, 16);
      b.writeUInt32BE(sent.packets >>> 0, 20);
      b.writeUInt32BE(Math.max(0, sent.bytes - 12 * sent.packets) >>> 0, 24);
    }
    const srs = media.rtp.rtcpQuality?.lastSr;
    received.forEach((c, i) => {
      const at = head + i * 24;
      const expected = c.expected;
      const lost = Math.max(0, expected - c.packets);
      const prior = this.prior.get(c) ?? { expected: 0, received: 0 };
      const expInt = expected - prior.expected;
      const lostInt = expInt - (c.packets - prior.received);
      this.prior.set(c, { expected, received: c.packets });
      b.writeUInt32BE(c.ssrc >>> 0, at);
      b[at + 4] = expInt > 0 && lostInt > 0 ? Math.min(255, Math.floor((lostInt * 256) / expInt)) : 0;
      b.writeUIntBE(Math.min(lost, 0x7fffff), at + 5, 3);
      b.writeUInt32BE(c.extendedMax >>> 0, at + 8);
      b.writeUInt32BE(Math.min(0xffffffff, Math.round(c.jitter)) >>> 0, at + 12);
      const sr = srs?.get(c.ssrc);
      if (sr) {
        b.writeUInt32BE(sr.middle >>> 0, at + 16);
        b.writeUInt32BE(Math.round(((now - sr.at) * 65536) / 1000) >>> 0, at + 20);
      }
    });
    return b;
  }
}
