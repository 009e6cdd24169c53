/**
 * L16 (RFC 3551 §4.5.11): signed 16-bit big-endian samples, channels interleaved, any clock rate.
 * Also the channel-count conversion between interleaved PCM layouts.
 */

export function decodeL16(payload: Uint8Array): Int16Array {
  const n = payload.length >> 1; // an odd trailing byte is not a sample
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) {
    const v = ((payload[2 * i] as number) << 8) | (payload[2 * i + 1] as number);
    out[i] = v > 32767 ? v - 65536 : v;
  }
  return out;
}

export function encodeL16(samples: Int16Array): Buffer {
  const out = Buffer.allocUnsafe(samples.length * 2);
  for (let i = 0; i < samples.length; i++) {
    const v = samples[i] as number;
    out[2 * i] = (v >> 8) & 0xff;
    out[2 * i + 1] = v & 0xff;
  }
  return out;
}

/**
 * Interleaved `from` channels → `to` channels: down-mix averages, up-mix repeats the
 * available channels in turn.
 */
export function convertChannels(samples: Int16Array, from: number, to: number): Int16Array {
  if (from === to) return samples;
  const frames = Math.floor(samples.length / from);
  const out = new Int16Array(frames * to);
  for (let f = 0; f < frames; f++) {
    if (to < from) {
      for (let c = 0; c < to; c++) {
        let sum = 0;
        let count = 0;
        for (let k = c; k < from; k += to) {
          sum += samples[f * from + k] as number;
          count++;
        }
        out[f * to + c] = Math.round(sum / count);
      }
    } else {
      for (let c = 0; c < to; c++) out[f * to + c] = samples[f * from + (c % from)] as number;
    }
  }
  return out;
}
