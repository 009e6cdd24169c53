/**
 * telephone-event → in-band tone (rtpengine's DTMF-to-audio when it transcodes): RFC 4733
 * events from a sender toward a receiver that did not negotiate telephone-event leave as the
 * event's dual tone, encoded in the receiver's audio codec at the same clock rate.
 *
 * Each event packet says how long the event has lasted so far; the handler emits the audio
 * for the part not yet sent, starting at event timestamp + samples already sent, with the
 * event packet's own sequence number. The sender's events take the place of its audio, so
 * the receiver sees one gap-free sequence beside the transcoded audio (which keeps the input
 * sequence numbers and timestamps when not repacketising, the only case this route exists).
 * Repeated end packets add nothing and are dropped; malformed payloads are counted and dropped;
 * an absurd duration jump is capped at MAX_STEP_MS of tone per packet.
 */
import type { CodecHandler, CodecOutput } from './codec-handler.js';
import type { Transcoder } from './codec-lib.js';
import { parseDtmfPayload, toneSamples } from './dtmf.js';
import { payloadLength, payloadOffset, ssrc as rtpSsrc, timestamp } from './rtp-header.js';
import { MAX_SSRCS, type SsrcContext } from './ssrc.js';
import type { CodecRoute } from './transcode.js';

const MAX_STEP_MS = 100;

interface EventState {
  ts: number;
  sent: number;
}

export class DtmfToneHandler implements CodecHandler {
  readonly kind = 'dtmf-tone';
  readonly stateless = false;
  readonly native = null;
  readonly stats = { packetsIn: 0, packetsOut: 0, dropped: 0 };
  private readonly events = new Map<number, EventState>();
  private closed = false;

  constructor(
    private readonly output: CodecOutput,
    readonly route: CodecRoute,
    private readonly encoder: Transcoder,
  ) {}

  process(packet: Buffer, _input: SsrcContext): void {
    if (this.closed) return;
    this.stats.packetsIn++;
    const off = payloadOffset(packet);
    const ev = parseDtmfPayload(packet.subarray(off, off + payloadLength(packet)));
    if (ev === null || ev.event > 15) {
      this.stats.dropped++;
      return;
    }
    const id = rtpSsrc(packet);
    const ts = timestamp(packet);
    let st = this.events.get(id);
    if (!st || st.ts !== ts) {
      if (!st && this.events.size >= MAX_SSRCS) this.events.delete(this.events.keys().next().value as number);
      st = { ts, sent: 0 };
      this.events.set(id, st);
    }
    const rate = this.route.outFormat.clockRate;
    const n = Math.min(ev.duration - st.sent, (rate * MAX_STEP_MS) / 1000);
    if (n <= 0) {
      this.stats.dropped++; // a repeated end packet: nothing new
      return;
    }
    const first = st.sent === 0;
    const payload = this.encoder.encode(toneSamples(ev.event, rate, st.sent, n, ev.volume));
    const out = Buffer.allocUnsafe(12 + payload.length);
    packet.copy(out, 0, 0, 12);
    out[0] = (packet[0] as number) & 0xc0; // no padding, CSRCs or extension carried over
    out[1] = (first ? 0x80 : 0) | (this.route.outPt & 0x7f);
    out.writeUInt32BE((ts + st.sent) >>> 0, 4);
    payload.copy(out, 12);
    st.sent = ev.end ? ev.duration : st.sent + n;
    this.stats.packetsOut++;
    this.output.sendRtp(out);
  }

  close(): void {
    this.closed = true;
    this.events.clear();
  }
}
