/**
 * Comfort noise (RFC 3389) where one side has CN and the other does not, as rtpengine does when
 * it transcodes:
 *
 * - consumed: a CN packet toward a receiver without CN becomes comfort noise audio in the
 *   receiver's codec (CnNoiseHandler): one frame (20 ms) of noise at the packet's level
 *   (−dBov, the first payload byte) with the CN packet's sequence number and timestamp. The
 *   spectral coefficients that may follow are read past, not modelled: the noise is white.
 * - generated: with --silence-detect=PERCENT, a transcoded frame toward a receiver that
 *   offered CN whose every sample is within PERCENT of full scale leaves as a CN packet with
 *   the --cn-payload bytes (default one byte, 32 = −32 dBov) instead (TranscodeHandler asks
 *   `isSilent`).
 *
 * A CN packet with an empty payload or a level above 127 is counted and dropped.
 */
import type { CodecHandler, CodecOutput } from './codec-handler.js';
import type { Transcoder } from './codec-lib.js';
import { payloadLength, payloadOffset } from './rtp-header.js';
import type { SsrcContext } from './ssrc.js';
import type { CodecRoute } from './transcode.js';

/** --silence-detect and --cn-payload. */
export interface ComfortNoiseConfig {
  /** Percent of full scale at or below which a frame is silence (0: detection off). */
  silenceDetect: number;
  /** CN payload the relay sends: noise level (−dBov) and optional reflection coefficients. */
  cnPayload: readonly number[];
}

export const NO_COMFORT_NOISE: ComfortNoiseConfig = { silenceDetect: 0, cnPayload: [32] };

/** The noise level (−dBov) of a CN payload, or null when it is not one. */
export function cnLevel(payload: Buffer): number | null {
  if (payload.length < 1) return null;
  const level = payload[0] as number;
  return level <= 127 ? level : null;
}

/** Every sample within `percent` % of full scale. */
export function isSilent(samples: Int16Array, percent: number): boolean {
  if (percent <= 0) return false;
  const limit = (32768 * percent) / 100;
  for (let i = 0; i < samples.length; i++) if (Math.abs(samples[i] as number) > limit) return false;
  return true;
}

/** White noise whose RMS is `level` dB below a full-scale sine (0 dBov). */
export class NoiseSource {
  private state: number;

  constructor(seed = 0x2545f491) {
    this.state = seed >>> 0 || 1;
  }

  frame(level: number, n: number): Int16Array {
    const rms = (32767 / Math.SQRT2) * 10 ** (-level / 20);
    const amp = Math.min(32767, rms * Math.sqrt(3)); // uniform noise: RMS = amplitude / √3
    const out = new Int16Array(n);
    for (let i = 0; i < n; i++) {
      // xorshift32: cheap, and no need for anything stronger in audio noise
      let x = this.state;
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      this.state = x >>> 0;
      out[i] = Math.round(((this.state / 0xffffffff) * 2 - 1) * amp);
    }
    return out;
  }
}

const FRAME_MS = 20;

/** CN toward a receiver without CN: comfort noise in the receiver's codec. */
export class CnNoiseHandler implements CodecHandler {
  readonly kind = 'cn-noise';
  readonly stateless = false;
  readonly native = null;
  readonly stats = { packetsIn: 0, packetsOut: 0, dropped: 0 };
  private readonly noise = new NoiseSource();
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
    const level = cnLevel(packet.subarray(off, off + Math.max(0, payloadLength(packet))));
    if (level === null) {
      this.stats.dropped++;
      return;
    }
    const n = (this.route.outFormat.clockRate * FRAME_MS) / 1000;
    const payload = this.encoder.encode(this.noise.frame(level, n));
    const out = Buffer.allocUnsafe(12 + payload.length);
    packet.copy(out, 0, 0, 12);
    out[0] = (packet[0] as number) & 0xc0;
    out[1] = this.route.outPt & 0x7f;
    payload.copy(out, 12);
    this.stats.packetsOut++;
    this.output.sendRtp(out);
  }

  close(): void {
    this.closed = true;
  }
}
