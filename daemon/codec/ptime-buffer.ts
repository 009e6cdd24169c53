/**
 * The ptime repacketiser: decoded audio goes in packet by packet, frames of exactly the
 * output packet time come out (20 ↔ 30 ↔ 50 ms, or any size), buffering across packets.
 *
 * Every frame carries its position: the index of its first sample in the output stream (per
 * channel, output clock). Callers turn positions into RTP timestamps, so timing never drifts
 * from the audio. Gaps stay gaps: a gap announced with `push(samples, gap)` ends the frame in
 * progress (it goes out short rather than being padded with invented audio) and moves the
 * position past the missing samples. The buffer is bounded: beyond `maxSamples` the oldest
 * audio is dropped and counted.
 */
export interface PtimeFrame {
  samples: Int16Array;
  /** Output-clock sample index of the first sample. */
  position: number;
}

export class PtimeBuffer {
  private buf: Int16Array;
  /** Samples (per channel) held in `buf`. */
  private held = 0;
  /** Output position of buf[0]. */
  private position = 0;
  private readonly ready: PtimeFrame[] = [];
  /** Samples per channel dropped because the buffer was full. */
  overflowDropped = 0;

  constructor(
    readonly channels: number,
    /** Samples per channel per output packet; 0 = no repacketising (each push is one frame). */
    readonly frameSamples: number,
    readonly maxSamples: number,
  ) {
    if (frameSamples > maxSamples) throw new RangeError('ptime buffer: frame larger than the buffer bound');
    this.buf = new Int16Array(Math.max(frameSamples, 1) * channels * 2);
  }

  /** Samples per channel waiting for a full frame. */
  get pending(): number {
    return this.held;
  }

  /** Appends interleaved samples; `gap` samples (per channel) are missing before them. */
  push(samples: Int16Array, gap = 0): void {
    const ch = this.channels;
    const n = Math.floor(samples.length / ch);
    if (gap > 0) {
      this.flushPartial();
      this.position += gap;
    }
    if (this.frameSamples === 0) {
      if (n > 0) this.ready.push({ samples: samples.slice(0, n * ch), position: this.position });
      this.position += n;
      this.trimReady();
      return;
    }
    this.ensure(n);
    this.buf.set(samples.subarray(0, n * ch), this.held * ch);
    this.held += n;
    while (this.held >= this.frameSamples) {
      const size = this.frameSamples * ch;
      this.ready.push({ samples: this.buf.slice(0, size), position: this.position });
      this.buf.copyWithin(0, size, this.held * ch);
      this.held -= this.frameSamples;
      this.position += this.frameSamples;
    }
    this.trimReady();
  }

  /** The next complete frame, or null. */
  pop(): PtimeFrame | null {
    return this.ready.shift() ?? null;
  }

  /** Drops everything held (teardown, codec change). */
  clear(): void {
    this.held = 0;
    this.ready.length = 0;
  }

  private flushPartial(): void {
    if (this.held === 0) return;
    this.ready.push({ samples: this.buf.slice(0, this.held * this.channels), position: this.position });
    this.position += this.held;
    this.held = 0;
  }

  /** Makes room for `incoming` more samples per channel. */
  private ensure(incoming: number): void {
    if (this.held + incoming > this.maxSamples) {
      // keep the newest audio: drop the oldest held samples
      const drop = Math.min(this.held, this.held + incoming - this.maxSamples);
      this.buf.copyWithin(0, drop * this.channels, this.held * this.channels);
      this.held -= drop;
      this.position += drop;
      this.overflowDropped += drop;
    }
    const need = (this.held + incoming) * this.channels;
    if (need > this.buf.length) {
      const grown = new Int16Array(Math.max(need, this.buf.length * 2));
      grown.set(this.buf.subarray(0, this.held * this.channels));
      this.buf = grown;
    }
  }

  /** Frames not collected by the caller are bounded too. */
  private trimReady(): void {
    let total = 0;
    for (const f of this.ready) total += f.samples.length / this.channels;
    while (total > this.maxSamples && this.ready.length > 0) {
      const f = this.ready.shift() as PtimeFrame;
      const n = f.samples.length / this.channels;
      total -= n;
      this.overflowDropped += n;
    }
  }
}
