/**
 * BUNDLE demultiplexing (RFC 8843 section 9.2): several m= lines of one participant share one
 * local port, so a packet arriving there must be given to the packet stream of its m= line
 * before anything else happens to it (decryption, learning, sinks). Like rtpengine, the packet
 * tells us: an SSRC already known (declared by `a=ssrc`, or learned from an earlier packet),
 * the MID RTP header extension when the participant negotiated it, or a payload type only one
 * of the m= lines uses. What matches nothing is dropped and counted, never guessed.
 *
 * Owner: built and refreshed by signalling (call/bundle.ts) under the call's write lock, held by
 * the head stream (the one whose socket the group uses) and its members; read by the packet path.
 */
import { PacketKind } from './rtp.js';
import type { PacketStream } from './packet-stream.js';

export interface BundleMember {
  /** The RTP stream of the m= line (RTCP is muxed on it: BUNDLE requires rtcp-mux). */
  stream: PacketStream;
  mid: string | null;
  /** Payload types the participant listed on this m= line. */
  payloadTypes: ReadonlySet<number>;
  /** SSRCs the participant declared for this m= line (`a=ssrc`). */
  ssrcs: readonly number[];
}

/** How many learned SSRCs one group remembers (a hostile peer cannot grow it without bound). */
export const BUNDLE_SSRC_LIMIT = 256;

export class BundleDemux {
  private members: BundleMember[] = [];
  /** The extension id carrying the MID in packets from this participant (0: not negotiated). */
  private midExtId = 0;
  /** SSRC → stream: declared ones, then learned ones (the MID or a unique payload type said). */
  private readonly bySsrc = new Map<number, PacketStream>();
  private learned = 0;

  /** Signalling: the group's members as the latest SDP describes them. Learned SSRCs of members that stay are kept. */
  update(members: BundleMember[], midExtId: number): void {
    this.members = members;
    this.midExtId = midExtId;
    const streams = new Set(members.map((m) => m.stream));
    for (const [ssrc, stream] of this.bySsrc) if (!streams.has(stream)) this.bySsrc.delete(ssrc);
    this.learned = this.bySsrc.size;
    for (const m of members) for (const ssrc of m.ssrcs) this.bySsrc.set(ssrc, m.stream);
  }

  /** A member's m= line left the call: nothing routes to its stream any more. */
  remove(stream: PacketStream): void {
    this.members = this.members.filter((m) => m.stream !== stream);
    for (const [ssrc, s] of this.bySsrc) if (s === stream) this.bySsrc.delete(ssrc);
  }

  /** The member streams (for teardown and the leak audit's holder probe). */
  get streams(): PacketStream[] {
    return this.members.map((m) => m.stream);
  }

  /** The stream a packet belongs to, or null (dropped and counted by the caller). */
  route(data: Buffer, kind: PacketKind): PacketStream | null {
    if (kind === PacketKind.Rtcp) return this.routeRtcp(data);
    if (data.length < 12) return null;
    const ssrc = data.readUInt32BE(8);
    const known = this.bySsrc.get(ssrc);
    if (known !== undefined) return known;
    let found: PacketStream | null = null;
    if (this.midExtId !== 0) {
      const mid = readMid(data, this.midExtId);
      if (mid !== null) found = this.members.find((m) => m.mid === mid)?.stream ?? null;
    }
    if (found === null) {
      const pt = data[1]! & 0x7f;
      const with_ = this.members.filter((m) => m.payloadTypes.has(pt));
      if (with_.length === 1) found = with_[0]!.stream;
    }
    if (found !== null && this.learned < BUNDLE_SSRC_LIMIT) {
      this.bySsrc.set(ssrc, found);
      this.learned++;
    }
    return found;
  }

  /**
   * RTCP: the sender's SSRC when known (its RTP taught us), else the SSRC a report block is
   * about (one we send to a member), else the group's first member (the head).
   */
  private routeRtcp(data: Buffer): PacketStream | null {
    if (data.length < 8) return null;
    const sender = this.bySsrc.get(data.readUInt32BE(4));
    if (sender !== undefined) return sender;
    const count = data[0]! & 0x1f;
    const pt = data[1]!;
    if ((pt === 200 || pt === 201) && count > 0) {
      const at = pt === 200 ? 28 : 8;
      if (data.length >= at + 4) {
        const about = data.readUInt32BE(at);
        const m = this.members.find((x) => x.stream.ssrcOut.peek(about) !== undefined);
        if (m) return m.stream;
      }
    }
    return this.members[0]?.stream ?? null;
  }
}

/** The MID from an RTP header extension element `id` (RFC 8285 one- or two-byte form), or null. */
export function readMid(data: Buffer, id: number): string | null {
  const b0 = data[0]!;
  if ((b0 & 0x10) === 0) return null;
  let at = 12 + 4 * (b0 & 0x0f);
  if (data.length < at + 4) return null;
  const profile = data.readUInt16BE(at);
  const end = at + 4 + 4 * data.readUInt16BE(at + 2);
  if (end > data.length) return null;
  at += 4;
  if (profile === 0xbede) {
    while (at < end) {
      const h = data[at]!;
      if (h === 0) { at++; continue; }
      const eid = h >> 4;
      if (eid === 15) return null;
      const len = (h & 0x0f) + 1;
      if (at + 1 + len > end) return null;
      if (eid === id) return data.toString('latin1', at + 1, at + 1 + len);
      at += 1 + len;
    }
    return null;
  }
  if ((profile & 0xfff0) === 0x1000) {
    while (at < end) {
      const eid = data[at]!;
      if (eid === 0) { at++; continue; }
      if (at + 2 > end) return null;
      const len = data[at + 1]!;
      if (at + 2 + len > end) return null;
      if (eid === id) return data.toString('latin1', at + 2, at + 2 + len);
      at += 2 + len;
    }
  }
  return null;
}
