/**
 * RTCP translation for media the relay changes on the way (rtpengine's rtcp.c translation for
 * transcoded streams): when what one side receives is not packet for packet what the other
 * side sent (transcoded, repacketised, resampled, or with `play DTMF` packets injected), its
 * sender reports and report blocks are rewritten before they are relayed so they describe the
 * stream the receiver of the report actually gets:
 *
 * - sender info of an SR (the reporter's own SSRC): packet and octet counts become what the
 *   relay sent to the other side for that SSRC; the RTP timestamp is moved onto the output
 *   timeline (last output timestamp + the SR's distance from the last input timestamp,
 *   scaled by the clock-rate ratio), so NTP ↔ RTP still line up for lip sync;
 * - report blocks (about what the reporter receives, i.e. the other side's SSRCs): the
 *   extended highest sequence number becomes the highest the relay received from that SSRC
 *   (the other side's own numbering), jitter is rescaled into the other side's clock. Loss
 *   figures are kept: they are the loss of the reporter's leg.
 *
 * SSRCs stay: the relay keeps the sender's SSRC on transcoded and injected packets, so the
 * other side receives the same SSRCs it is told about. A compound packet is walked with the
 * same bounds as the validator; anything not understood is copied as it is. No state of its
 * own: it reads the streams' per-SSRC tables (owned by the call).
 */
import type { SsrcTable } from '../codec/ssrc.js';

export class RtcpTranslator {
  /** Packets rewritten (for `query`). */
  translated = 0;

  constructor(
    /** What the reporter sends us (input) and what we send on to the report's receiver (output). */
    private readonly senderIn: SsrcTable | null,
    private readonly senderOut: SsrcTable | null,
    /** Output clock rate / input clock rate of the reporter's media toward the receiver. */
    private readonly sendRatio: number,
    /** What the report's receiver sends us: the SSRCs the report blocks are about. */
    private readonly peerIn: SsrcTable | null,
    /** The receiver's clock rate / the reporter's (jitter units). */
    private readonly recvRatio: number,
  ) {}

  /** A rewritten copy of a (validated) compound RTCP packet. */
  translate(pkt: Buffer): Buffer {
    const out = Buffer.from(pkt);
    let off = 0;
    let changed = false;
    while (off + 4 <= out.length) {
      const b0 = out[off] as number;
      const pt = out[off + 1] as number;
      const len = (out.readUInt16BE(off + 2) + 1) * 4;
      if (b0 >> 6 !== 2 || off + len > out.length) break;
      if (pt === 200 || pt === 201) {
        const first = pt === 200 ? 28 : 8;
        const rc = b0 & 0x1f;
        if (len < first + rc * 24) break;
        if (pt === 200 && this.sender(out, off)) changed = true;
        for (let i = 0; i < rc; i++) if (this.block(out, off + first + i * 24)) changed = true;
      }
      off += len;
    }
    if (!changed) return pkt;
    this.translated++;
    return out;
  }

  private sender(b: Buffer, off: number): boolean {
    if (this.senderIn === null || this.senderOut === null) return false;
    const ssrc = b.readUInt32BE(off + 4);
    const cin = this.senderIn.peek(ssrc);
    const cout = this.senderOut.peek(ssrc);
    if (!cin || !cout || cout.packets === 0) return false;
    const rtpTs = b.readUInt32BE(off + 16);
    const since = (rtpTs - cin.lastTs) | 0; // signed: an SR may be a little behind the last packet
    b.writeUInt32BE((cout.lastTs + Math.round(since * this.sendRatio)) >>> 0, off + 16);
    b.writeUInt32BE(cout.packets >>> 0, off + 20);
    b.writeUInt32BE(Math.max(0, cout.bytes - 12 * cout.packets) >>> 0, off + 24);
    return true;
  }

  private block(b: Buffer, at: number): boolean {
    if (this.peerIn === null) return false;
    const ctx = this.peerIn.peek(b.readUInt32BE(at));
    if (!ctx || ctx.packets === 0) return false;
    b.writeUInt32BE(ctx.extendedMax >>> 0, at + 8);
    b.writeUInt32BE(Math.round(b.readUInt32BE(at + 12) * this.recvRatio) >>> 0, at + 12);
    return true;
  }
}
