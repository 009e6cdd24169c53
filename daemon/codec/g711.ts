/**
 * G.711 µ-law (PCMU) and A-law (PCMA), ITU-T G.711.
 *
 * Decoding uses the standard reconstruction levels. Encoding quantises a 16-bit sample in the
 * 14-bit domain (sample >> 2, as libavcodec's pcm_mulaw/pcm_alaw do, which rtpengine uses) to
 * the code whose reconstruction level is nearest, with the decision thresholds halfway between
 * adjacent levels. That reproduces rtpengine's bytes (e.g. PCMU 0x00 → PCMA 0x2a, PCMA 0x00 →
 * PCMU 0x29, as its tests show). Everything is table driven: one lookup per sample.
 */

/** Reconstruction level of a µ-law code (16-bit linear). */
function ulawLevel(code: number): number {
  const u = ~code & 0xff;
  const exponent = (u >> 4) & 7;
  const magnitude = ((((u & 0x0f) << 3) + 0x84) << exponent) - 0x84;
  return u & 0x80 ? -magnitude : magnitude;
}

/** Reconstruction level of an A-law code (16-bit linear). */
function alawLevel(code: number): number {
  const a = code ^ 0x55;
  const segment = (a >> 4) & 7;
  let magnitude = (a & 0x0f) << 4;
  if (segment === 0) magnitude += 8;
  else magnitude = (magnitude + 0x108) << (segment - 1);
  return a & 0x80 ? magnitude : -magnitude;
}

export const ULAW_DECODE: Int16Array = Int16Array.from({ length: 256 }, (_, i) => ulawLevel(i));
export const ALAW_DECODE: Int16Array = Int16Array.from({ length: 256 }, (_, i) => alawLevel(i));

/**
 * Builds the 14-bit-indexed encoder table. `positive(i)` is the code of the i-th positive level
 * (i = 0 the smallest); the negative code of the same magnitude differs in the sign bit.
 * Index 8192 + n holds the code for a 14-bit value n (−8192 … 8191).
 */
function buildEncoder(decode: Int16Array, positive: (i: number) => number): Uint8Array {
  const table = new Uint8Array(16384);
  const level = (i: number) => decode[positive(i)] as number;
  let n = 1;
  table[8192] = positive(0);
  for (let i = 0; i < 127; i++) {
    // midpoint of two adjacent 16-bit levels, expressed in the 14-bit domain, rounded
    const threshold = (level(i) + level(i + 1) + 4) >> 3;
    for (; n < threshold && n < 8192; n++) {
      table[8192 + n] = positive(i);
      table[8192 - n] = positive(i) ^ 0x80;
    }
  }
  for (; n < 8192; n++) {
    table[8192 + n] = positive(127);
    table[8192 - n] = positive(127) ^ 0x80;
  }
  table[0] = table[1] as number; // −8192 saturates like −8191
  return table;
}

const ULAW_ENCODE = buildEncoder(ULAW_DECODE, (i) => i ^ 0xff);
const ALAW_ENCODE = buildEncoder(ALAW_DECODE, (i) => i ^ 0xd5);

export function ulawEncodeSample(s: number): number {
  return ULAW_ENCODE[(s + 32768) >> 2] as number;
}

export function alawEncodeSample(s: number): number {
  return ALAW_ENCODE[(s + 32768) >> 2] as number;
}

export function decodeUlaw(payload: Uint8Array, out: Int16Array = new Int16Array(payload.length)): Int16Array {
  for (let i = 0; i < payload.length; i++) out[i] = ULAW_DECODE[payload[i] as number] as number;
  return out;
}

export function decodeAlaw(payload: Uint8Array, out: Int16Array = new Int16Array(payload.length)): Int16Array {
  for (let i = 0; i < payload.length; i++) out[i] = ALAW_DECODE[payload[i] as number] as number;
  return out;
}

export function encodeUlaw(samples: Int16Array, out: Buffer = Buffer.allocUnsafe(samples.length)): Buffer {
  for (let i = 0; i < samples.length; i++) out[i] = ULAW_ENCODE[((samples[i] as number) + 32768) >> 2] as number;
  return out;
}

export function encodeAlaw(samples: Int16Array, out: Buffer = Buffer.allocUnsafe(samples.length)): Buffer {
  for (let i = 0; i < samples.length; i++) out[i] = ALAW_ENCODE[((samples[i] as number) + 32768) >> 2] as number;
  return out;
}

/**
 * Direct code-to-code tables (decode then encode, composed once): PCMU↔PCMA at equal ptime is
 * one lookup per byte, the same bytes as the two-step path.
 */
export const ULAW_TO_ALAW: Uint8Array = Uint8Array.from({ length: 256 }, (_, i) => alawEncodeSample(ULAW_DECODE[i] as number));
export const ALAW_TO_ULAW: Uint8Array = Uint8Array.from({ length: 256 }, (_, i) => ulawEncodeSample(ALAW_DECODE[i] as number));
