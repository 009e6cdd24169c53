/**
 * `play media` (rtpengine's media_player): audio from a file or blob, already decoded and
 * converted to the receiver's clock rate (mono), packetised at the receiver's ptime, encoded
 * in its codec and sent from the relay's port toward that participant.
 *
 * What the receiver sees (as rtpengine's tests observe it): the player's own SSRC; the first
 * packet of each repetition has the marker bit; sequence numbers and timestamps continue from
 * one packet to the next, across repetitions and across a later `play media` on the same
 * player (the timestamp then also advances by the time that passed in between); the last
 * partial frame of the file is padded with silence.
 *
 * Owner and lifetime: one player per receiving media, created by the command under the call's
 * write lock and kept (with its SSRC and numbering) until the media or the call goes; audited
 * as a Timer and closed exactly once. Its timer checks `closed` first and never outlives it.
 */
import { randomInt } from 'node:crypto';

/** Decoded audio ready to packetise: mono 16-bit samples at the receiver's clock rate. */
export interface PlayableAudio {
  samples: Int16Array;
  /** The file's own sample rate: positions (`start-pos`, `last-frame-pos`) count in its samples. */
  fileRate: number;
  /** Samples of `samples` per file sample (receiver rate / file rate). */
  ratio: number;
}

export interface PlayOptions {
  /** Times to play the whole file (rtpengine's `repeat-times`, default 1). */
  repeatTimes: number;
  /** Keep repeating until this much has played, in ms (`repeat-duration`; null: off). */
  repeatDurationMs: number | null;
  /** Where to start, in file samples (`start-pos`). */
  startPos: number;
  /** Stop after this much, in ms, wherever the file is (`duration`; null: no limit). */
  maxDurationMs: number | null;
}

/** How the receiver gets the audio: its payload type, clock rate, ptime and encoder. */
export interface PlayEncoding {
  pt: number;
  clockRate: number;
  ptimeMs: number;
  encode(samples: Int16Array): Buffer;
}

/** Where generated packets go (the player's SinkHandler toward the receiver). */
export interface PlayTarget {
  sendGenerated(packet: Buffer): void;
}

/**
 * Reads a playback frame by frame: repetitions, start position and the limits. Pure (no
 * timers), so the sequencing is unit-testable.
 */
export class PlaybackCursor {
  private pos: number;
  private iteration = 1;
  private played = 0;
  private atIterationStart = true;
  private done = false;

  constructor(
    readonly audio: PlayableAudio,
    readonly opts: PlayOptions,
    readonly clockRate: number,
  ) {
    this.pos = Math.min(audio.samples.length, Math.round(opts.startPos * audio.ratio));
    if (this.pos >= audio.samples.length) this.pos = 0;
  }

  get finished(): boolean {
    return this.done;
  }

  /** Where playback is, in file samples (rtpengine's `last-frame-pos`). */
  get filePosition(): number {
    return Math.round(this.pos / this.audio.ratio);
  }

  /** The next frame of `n` samples (silence-padded at the end of the file), or null when finished. */
  next(n: number): { samples: Int16Array; marker: boolean } | null {
    if (this.done) return null;
    const src = this.audio.samples;
    const out = new Int16Array(n);
    const take = Math.min(n, src.length - this.pos);
    out.set(src.subarray(this.pos, this.pos + take));
    const marker = this.atIterationStart;
    this.atIterationStart = false;
    this.pos += take;
    this.played += n;
    const playedMs = (this.played * 1000) / this.clockRate;
    if (this.opts.maxDurationMs !== null && playedMs >= this.opts.maxDurationMs) this.done = true;
    else if (this.pos >= src.length) {
      const more = this.opts.repeatDurationMs !== null
        ? playedMs < this.opts.repeatDurationMs && (this.opts.repeatTimes <= 1 ? true : this.iteration < this.opts.repeatTimes)
        : this.iteration < this.opts.repeatTimes;
      if (more) {
        this.iteration++;
        this.pos = 0;
        this.atIterationStart = true;
      } else this.done = true;
    }
    return { samples: out, marker };
  }
}

/** Frames sent at most per timer tick when the event loop fell behind (bounded catch-up). */
const MAX_CATCH_UP = 5;

export class MediaPlayer {
  readonly kind = 'media-player';
  readonly stateless = false;
  readonly ssrc = randomInt(1, 0xffffffff);
  private seq = randomInt(0, 0x10000);
  /** Timestamp of the next packet. */
  private ts = randomInt(0, 0xffffffff);
  private cursor: PlaybackCursor | null = null;
  private encoding: PlayEncoding | null = null;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  /** Wall clock (ms) of the playback start and frames sent since: what is due follows from them. */
  private startedAt = 0;
  private framesSent = 0;
  /** When the last packet left, and its timestamp (a restart continues from there). */
  private lastSentAt = 0;
  private lastTs: number | null = null;
  /** Packets sent over the player's life (query, tests). */
  packets = 0;
  /** Called once when a playback ends (finished, stopped, replaced or closed). */
  onEnd: (() => void) | null = null;

  constructor(private readonly target: PlayTarget) {}

  get playing(): boolean {
    return this.cursor !== null && !this.cursor.finished;
  }

  /** Starts (or restarts, replacing what plays) a playback. */
  play(cursor: PlaybackCursor, encoding: PlayEncoding): void {
    if (this.closed) return;
    this.stopTimer();
    this.ended();
    const step = (encoding.clockRate * encoding.ptimeMs) / 1000;
    if (this.lastTs !== null) {
      // continue the stream: one frame on, plus the time nothing was sent
      const idleMs = Math.max(0, Date.now() - this.lastSentAt - encoding.ptimeMs);
      this.ts = (this.lastTs + step + Math.round((idleMs * encoding.clockRate) / 1000)) >>> 0;
    }
    this.cursor = cursor;
    this.encoding = encoding;
    this.startedAt = Date.now();
    this.framesSent = 0;
    this.timer = setInterval(() => this.tick(), encoding.ptimeMs);
    this.timer.unref();
    this.tick();
  }

  /** Stops playback; returns where it was (file samples). The player keeps its numbering. */
  stop(): number {
    const pos = this.cursor?.filePosition ?? 0;
    this.stopTimer();
    this.cursor = null;
    this.ended();
    return pos;
  }

  close(): void {
    this.closed = true;
    this.stop();
  }

  private ended(): void {
    const cb = this.onEnd;
    this.onEnd = null;
    cb?.();
  }

  private stopTimer(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  private tick(): void {
    if (this.closed || this.cursor === null || this.encoding === null) return;
    const enc = this.encoding;
    const due = Math.floor((Date.now() - this.startedAt) / enc.ptimeMs) + 1;
    let budget = MAX_CATCH_UP;
    while (this.framesSent < due && budget-- > 0) {
      const frame = this.cursor.next((enc.clockRate * enc.ptimeMs) / 1000);
      if (frame === null) break;
      this.send(enc.encode(frame.samples), frame.marker, enc);
      this.framesSent++;
    }
    // far behind (a stalled loop): skip rather than burst
    if (this.framesSent < due - MAX_CATCH_UP) this.framesSent = due;
    if (this.cursor.finished) {
      this.stopTimer();
      this.ended();
    }
  }

  private send(payload: Buffer, marker: boolean, enc: PlayEncoding): void {
    const p = Buffer.allocUnsafe(12 + payload.length);
    p[0] = 0x80;
    p[1] = (marker ? 0x80 : 0) | (enc.pt & 0x7f);
    p.writeUInt16BE(this.seq, 2);
    p.writeUInt32BE(this.ts >>> 0, 4);
    p.writeUInt32BE(this.ssrc >>> 0, 8);
    payload.copy(p, 12);
    this.seq = (this.seq + 1) & 0xffff;
    this.lastTs = this.ts;
    // the next packet's timestamp: one frame on (ts is the next packet's, lastTs the sent one's)
    this.ts = (this.ts + (enc.clockRate * enc.ptimeMs) / 1000) >>> 0;
    this.lastSentAt = Date.now();
    this.packets++;
    this.target.sendGenerated(p);
  }
}
