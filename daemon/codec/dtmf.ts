/**
 * DTMF in both of its forms (rtpengine's dtmf.c, RFC 4733): telephone-event payloads (event,
 * end bit, volume, duration) and in-band dual tones (ITU-T Q.23 frequency pairs). Pure
 * functions: parsing and building event payloads, the digit ↔ event mapping rtpengine's
 * `play DTMF` accepts, tone synthesis, and a Goertzel detector for in-band digits.
 */

/** Event codes 0–15 as characters: 0–9, `*`, `#`, A–D (RFC 4733 §3.2). */
const DIGITS = '0123456789*#ABCD';

/** Q.23 low / high group frequencies of events 0–15. */
const LOW = [941, 697, 697, 697, 770, 770, 770, 852, 852, 852, 941, 941, 697, 770, 852, 941];
const HIGH = [1336, 1209, 1336, 1477, 1209, 1336, 1477, 1209, 1336, 1477, 1209, 1477, 1633, 1633, 1633, 1633];

export function eventChar(event: number): string {
  return DIGITS[event] ?? '?';
}

/**
 * The event code of `code` as `play DTMF` takes it: an integer 0–15 or one of `0-9*#A-D`
 * (lower-case letters too); null when it is neither.
 */
export function parseDtmfCode(code: string): number | null {
  const s = code.trim();
  if (/^\d+$/.test(s) && s.length <= 2) {
    const n = Number(s);
    return n <= 15 ? n : null;
  }
  if (s.length !== 1) return null;
  const i = DIGITS.indexOf(s.toUpperCase());
  return i >= 0 ? i : null;
}

export interface DtmfEvent {
  event: number;
  end: boolean;
  /** Attenuation in dBm0 (0–63): what the payload says, 0 = loudest. */
  volume: number;
  /** In timestamp units since the event's start. */
  duration: number;
}

/**
 * Parses a telephone-event payload. RFC 4733 payloads are 4 bytes (several events may be
 * stacked in redundant forms, each 4 bytes): anything shorter or not a multiple of 4 is
 * malformed; so is a zero duration on an end packet.
 */
export function parseDtmfPayload(payload: Buffer): DtmfEvent | null {
  if (payload.length < 4 || payload.length % 4 !== 0) return null;
  const event = payload[0] as number;
  const b1 = payload[1] as number;
  const duration = payload.readUInt16BE(2);
  const end = (b1 & 0x80) !== 0;
  if (end && duration === 0) return null;
  return { event, end, volume: b1 & 0x3f, duration };
}

export function buildDtmfPayload(e: DtmfEvent): Buffer {
  const b = Buffer.alloc(4);
  b[0] = e.event & 0xff;
  b[1] = (e.end ? 0x80 : 0) | (e.volume & 0x3f);
  b.writeUInt16BE(Math.min(0xffff, e.duration), 2);
  return b;
}

/**
 * `n` samples of the dual tone of `event` at `clockRate`, starting `offset` samples into the
 * tone; `volume` in dBm0 attenuation (0 = the loudest a 16-bit sample allows for two tones).
 */
export function toneSamples(event: number, clockRate: number, offset: number, n: number, volume: number): Int16Array {
  const out = new Int16Array(n);
  const lo = LOW[event];
  const hi = HIGH[event];
  if (lo === undefined || hi === undefined) return out; // not a digit: silence
  // each tone at half the full scale, scaled down by the attenuation
  const amp = 16383 * 10 ** (-Math.abs(volume) / 20);
  const wl = (2 * Math.PI * lo) / clockRate;
  const wh = (2 * Math.PI * hi) / clockRate;
  for (let i = 0; i < n; i++) {
    const t = offset + i;
    out[i] = Math.round(amp * (Math.sin(wl * t) + Math.sin(wh * t)));
  }
  return out;
}

/** Goertzel power of one frequency in a block of samples. */
function goertzel(samples: Int16Array, freq: number, clockRate: number): number {
  const coeff = 2 * Math.cos((2 * Math.PI * freq) / clockRate);
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < samples.length; i++) {
    const s = (samples[i] as number) + coeff * s1 - s2;
    s2 = s1;
    s1 = s;
  }
  return s1 * s1 + s2 * s2 - coeff * s1 * s2;
}

const LOW_SET = [697, 770, 852, 941];
const HIGH_SET = [1209, 1336, 1477, 1633];

/**
 * The digit whose tone pair dominates a block of at least ~10 ms of audio, or null. A digit
 * is taken only when one low and one high frequency each stand well above the others of their
 * group and together carry most of the block's energy (rtpengine's in-band detection is of
 * the same Goertzel kind; thresholds here are our own).
 */
export function detectTone(samples: Int16Array, clockRate: number): number | null {
  if (samples.length < clockRate / 100) return null;
  let energy = 0;
  for (let i = 0; i < samples.length; i++) energy += (samples[i] as number) ** 2;
  if (energy / samples.length < 1e5) return null; // too quiet to be a digit
  const pick = (set: number[]): [number, number, number] => {
    const p = set.map((f) => goertzel(samples, f, clockRate));
    let best = 0;
    for (let i = 1; i < p.length; i++) if ((p[i] as number) > (p[best] as number)) best = i;
    const second = Math.max(...p.filter((_, i) => i !== best));
    return [set[best] as number, p[best] as number, second];
  };
  const [lf, lp, l2] = pick(LOW_SET);
  const [hf, hp, h2] = pick(HIGH_SET);
  if (lp < 8 * l2 || hp < 8 * h2) return null;
  // a pure pair puts ~N²/4 · A² into each bin; the pair must explain most of the energy
  if ((lp + hp) * 2 / samples.length < 0.5 * energy) return null;
  for (let e = 0; e < 16; e++) if (LOW[e] === lf && HIGH[e] === hf) return e;
  return null;
}
