/**
 * Sample-rate conversion between clock rates (8k ↔ 16k ↔ 48k, 44.1k, any integer rates):
 * a polyphase windowed-sinc (Kaiser) resampler with state carried across packets.
 *
 * rtpengine resamples with libswresample; its filter and delay are not reproduced bit for bit
 * here (the output is the same signal, not the same bytes). Design points:
 * - causal: output sample n is computed from input up to position n·in/out, so each packet's
 *   output is available at once; the price is a fixed delay of half the filter length;
 * - exact sample counts: over a stream, `out = ceil(totalIn · outRate / inRate)`, so 160
 *   samples at 8 kHz always give 320 at 16 kHz and 960 at 48 kHz;
 * - bounded memory: a history of one filter length per channel.
 */

const ZERO_CROSSINGS = 8; // per side, at the lower of the two rates

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  for (let k = 1; k < 30; k++) {
    term *= (x / (2 * k)) ** 2;
    sum += term;
  }
  return sum;
}

export class Resampler {
  /** Interpolation factor (output rate / g) and decimation factor (input rate / g). */
  private readonly up: number;
  private readonly down: number;
  private readonly taps: number;
  /** taps coefficients per phase; phase p holds the weights of input samples i, i-1, … */
  private readonly coeffs: Float64Array;
  /** Last `taps` input samples per channel (planar), newest at the end. */
  private readonly history: Float64Array[];
  /** Output samples produced and input samples consumed so far (per channel). */
  private produced = 0;
  private consumed = 0;

  constructor(
    readonly inRate: number,
    readonly outRate: number,
    readonly channels: number,
  ) {
    if (!(inRate > 0 && outRate > 0 && channels > 0)) throw new RangeError('resampler: rates and channels must be positive');
    const g = gcd(inRate, outRate);
    this.up = outRate / g;
    this.down = inRate / g;
    // cutoff relative to the input rate: below the lower Nyquist frequency, a little margin
    const cutoff = Math.min(1, outRate / inRate) * 0.95;
    this.taps = Math.ceil((2 * ZERO_CROSSINGS) / cutoff);
    const half = this.taps / 2;
    const beta = 8;
    const i0b = besselI0(beta);
    this.coeffs = new Float64Array(this.up * this.taps);
    for (let p = 0; p < this.up; p++) {
      let sum = 0;
      for (let m = 0; m < this.taps; m++) {
        // distance from the (delayed) output position to input sample i - m
        const t = p / this.up + m - half;
        const x = cutoff * t;
        const sinc = x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
        const w = Math.abs(t) >= half ? 0 : besselI0(beta * Math.sqrt(1 - (t / half) ** 2)) / i0b;
        const c = cutoff * sinc * w;
        this.coeffs[p * this.taps + m] = c;
        sum += c;
      }
      // unity gain at DC for every phase
      for (let m = 0; m < this.taps; m++) this.coeffs[p * this.taps + m] = (this.coeffs[p * this.taps + m] as number) / sum;
    }
    this.history = Array.from({ length: channels }, () => new Float64Array(this.taps));
  }

  /** Resamples interleaved input; returns interleaved output (may be empty). */
  process(input: Int16Array): Int16Array {
    const ch = this.channels;
    const frames = Math.floor(input.length / ch);
    if (this.up === this.down) return input.slice(0, frames * ch);
    const totalIn = this.consumed + frames;
    // output n uses input up to index floor(n·down/up), which must be < totalIn
    const totalOut = Math.floor((totalIn * this.up + this.down - 1) / this.down);
    const count = Math.max(0, totalOut - this.produced);
    const out = new Int16Array(count * ch);
    const taps = this.taps;
    // a window of the previous history followed by this packet's samples, per channel
    const window = new Float64Array(taps + frames);
    for (let c = 0; c < ch; c++) {
      const hist = this.history[c] as Float64Array;
      window.set(hist, 0);
      for (let f = 0; f < frames; f++) window[taps + f] = input[f * ch + c] as number;
      for (let k = 0; k < count; k++) {
        const n = this.produced + k;
        const pos = n * this.down;
        const i = Math.floor(pos / this.up); // newest input sample used, absolute index
        const phase = pos - i * this.up;
        const base = phase * taps;
        const w = i - this.consumed + taps; // its index in `window`
        let acc = 0;
        for (let m = 0; m < taps; m++) acc += (window[w - m] as number) * (this.coeffs[base + m] as number);
        const v = Math.round(acc);
        out[k * ch + c] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
      }
      hist.set(window.subarray(frames, frames + taps));
    }
    this.produced += count;
    this.consumed = totalIn;
    return out;
  }
}
