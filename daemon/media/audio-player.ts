/**
 * The audio player (rtpengine's audio_player + mix buffer): instead of forwarding each stream
 * a participant receives, the relay decodes them, sums them into one circular buffer at the
 * receiver's clock rate and sends one stream of its own, frame by frame at the receiver's
 * ptime, encoded in the receiver's codec.
 *
 * What the receiver sees (as rtpengine's tests observe it): one SSRC of the relay's, marker on
 * the very first packet, sequence numbers and timestamps advancing one frame per packet,
 * silence when no source has audio for that frame. A new source is placed `--audio-buffer-delay`
 * ms after the next frame to be sent (absorbing jitter); its later packets land where their RTP
 * timestamps say (a lost packet leaves silence, not a shift). Mixing sums 16-bit samples with
 * clipping. A source whose packet arrives after its place was sent, or whose timestamp jumps
 * beyond `--audio-buffer-length`, is placed anew (counted as late in the first case).
 *
 * Owner and lifetime: one player per receiving media, created and closed by the call under its
 * write lock (audited as a Timer). Sources are keyed by strings (tag/media/SSRC), never by call
 * objects, so the player holds nothing of a participant that left; idle sources are pruned.
 */
import { randomInt } from 'node:crypto';
import type { CodecHandler, NativeCodecAction } from '../codec/codec-handler.js';
import type { Transcoder } from '../codec/codec-lib.js';
import { convertChannels } from '../codec/l16.js';
import { Resampler } from '../codec/resample.js';
import { payloadLength, payloadOffset, ssrc, timestamp } from '../codec/rtp-header.js';
import type { SsrcContext } from '../codec/ssrc.js';
import type { PlaybackCursor, PlayEncoding, PlayTarget } from './media-player.js';

interface MixSource {
  /** Buffer position (absolute sample index) of the timestamp `ts0`. */
  anchor: number;
  ts0: number;
  srcRate: number;
  resampler: Resampler | null;
  lastSeenMs: number;
}

/** Frames sent at most per tick when the event loop fell behind. */
const MAX_CATCH_UP = 5;
/** A source silent this long is forgotten (its next packet is placed anew). */
const SOURCE_IDLE_MS = 2000;
const MAX_SOURCES = 64;

export interface AudioPlayerCounters {
  /** Packets mixed in, and dropped (late, too far ahead, undecodable). */
  mixed: number;
  late: number;
  undecodable: number;
  /** Packets the player sent. */
  sent: number;
}

export class AudioPlayer {
  readonly kind = 'audio-player';
  readonly stateless = false;
  readonly ssrc = randomInt(1, 0xffffffff);
  private seq = randomInt(0, 0x10000);
  private ts = randomInt(0, 0xffffffff);
  private readonly buf: Int32Array;
  /** Absolute sample index of the next frame to send. */
  private readPos = 0;
  private readonly frame: number;
  private readonly delay: number;
  private readonly sources = new Map<string, MixSource>();
  /** `play media` through the player: a cursor read frame by frame and summed in. */
  private playback: PlaybackCursor | null = null;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private first = true;
  private startedAt = 0;
  private framesSent = 0;
  readonly counters: AudioPlayerCounters = { mixed: 0, late: 0, undecodable: 0, sent: 0 };

  constructor(
    private readonly target: PlayTarget,
    readonly encoding: PlayEncoding,
    bufferMs: number,
    delayMs: number,
  ) {
    this.frame = Math.max(1, Math.round((encoding.clockRate * encoding.ptimeMs) / 1000));
    // at least two frames plus the delay, as rtpengine requires of --audio-buffer-length
    const len = Math.max(Math.round((encoding.clockRate * bufferMs) / 1000), 2 * this.frame + Math.round((encoding.clockRate * delayMs) / 1000));
    this.buf = new Int32Array(len);
    this.delay = Math.min(Math.round((encoding.clockRate * delayMs) / 1000), len - this.frame);
  }

  /** Same output format: a rebuilt sink chain may keep this player (and its numbering). */
  sameEncoding(e: PlayEncoding): boolean {
    return e.pt === this.encoding.pt && e.clockRate === this.encoding.clockRate && e.ptimeMs === this.encoding.ptimeMs;
  }

  start(): void {
    if (this.closed || this.timer !== null) return;
    this.startedAt = Date.now();
    this.framesSent = 0;
    this.timer = setInterval(() => this.tick(), this.encoding.ptimeMs);
    this.timer.unref();
    this.tick();
  }

  /** A `play media` was mixed in at some point (`stop media` then answers, as rtpengine's player). */
  hadPlayback = false;

  /** Called once when the playback mixed in ends (finished, stopped or replaced); not on close. */
  onPlaybackEnd: (() => void) | null = null;

  private playbackEnded(): void {
    const cb = this.onPlaybackEnd;
    this.onPlaybackEnd = null;
    cb?.();
  }

  /** `play media` into the mix (replacing a playback in progress). */
  play(cursor: PlaybackCursor): void {
    this.playbackEnded();
    this.playback = cursor;
    this.lastPos = cursor.filePosition;
    this.hadPlayback = true;
  }

  private lastPos = 0;

  get playing(): boolean {
    return this.playback !== null && !this.playback.finished;
  }

  stopPlayback(): number {
    const pos = this.playback?.filePosition ?? this.lastPos;
    this.playback = null;
    this.playbackEnded();
    return pos;
  }

  /**
   * Mixes one packet's decoded audio (mono, `srcRate`) in at the place its timestamp says.
   * `key` names the source stream and SSRC.
   */
  write(key: string, rtpTs: number, srcRate: number, samples: Int16Array): void {
    if (this.closed) return;
    const now = Date.now();
    let src = this.sources.get(key);
    const rate = this.encoding.clockRate;
    const place = (s: MixSource) => s.anchor + Math.round((((rtpTs - s.ts0) | 0) * rate) / s.srcRate);
    if (src && src.srcRate === srcRate) {
      const pos = place(src);
      // a timestamp jump (new talk spurt far off, or backwards): the source is placed anew
      if (pos >= this.readPos + this.buf.length || pos + this.buf.length < this.readPos) src = undefined;
    } else src = undefined;
    if (!src) {
      if (this.sources.size >= MAX_SOURCES) this.prune(now, true);
      src = { anchor: this.readPos + this.delay, ts0: rtpTs, srcRate, resampler: srcRate === rate ? null : new Resampler(srcRate, rate, 1), lastSeenMs: now };
      this.sources.set(key, src);
    }
    src.lastSeenMs = now;
    const pcm = src.resampler ? src.resampler.process(samples) : samples;
    let pos = place(src);
    if (pos + pcm.length <= this.readPos) {
      // its place already left: the source runs late (its clock drifts, or a burst of
      // jitter). It is placed anew after the next frame, as a new source would be, so one
      // late packet costs a glitch rather than every packet after it.
      this.counters.late++;
      src.anchor = this.readPos + this.delay;
      src.ts0 = rtpTs;
      pos = src.anchor;
    }
    const end = pos + pcm.length;
    const from = Math.max(pos, this.readPos);
    const to = Math.min(end, this.readPos + this.buf.length);
    const len = this.buf.length;
    for (let p = from; p < to; p++) {
      const i = p % len;
      this.buf[i] = (this.buf[i] as number) + (pcm[p - pos] as number);
    }
    this.counters.mixed++;
  }

  close(): void {
    this.closed = true;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.sources.clear();
    this.playback = null;
    this.onPlaybackEnd = null;
  }

  private prune(now: number, oldest = false): void {
    let victim: string | null = null;
    let when = Infinity;
    for (const [k, s] of this.sources) {
      if (now - s.lastSeenMs > SOURCE_IDLE_MS) this.sources.delete(k);
      else if (s.lastSeenMs < when) {
        when = s.lastSeenMs;
        victim = k;
      }
    }
    if (oldest && this.sources.size >= MAX_SOURCES && victim !== null) this.sources.delete(victim);
  }

  private tick(): void {
    if (this.closed) return;
    const due = Math.floor((Date.now() - this.startedAt) / this.encoding.ptimeMs) + 1;
    let budget = MAX_CATCH_UP;
    while (this.framesSent < due && budget-- > 0) {
      this.sendFrame();
      this.framesSent++;
    }
    if (this.framesSent < due - MAX_CATCH_UP) {
      // far behind: skip the frames (and what was mixed for them) rather than burst
      const skip = due - this.framesSent;
      for (let k = 0; k < skip * this.frame; k++) this.buf[(this.readPos + k) % this.buf.length] = 0;
      this.readPos += skip * this.frame;
      this.ts = (this.ts + skip * this.frame) >>> 0;
      this.framesSent = due;
    }
    if (this.framesSent % 100 === 0) this.prune(Date.now());
  }

  private sendFrame(): void {
    const n = this.frame;
    const len = this.buf.length;
    const out = new Int16Array(n);
    const extra = this.playback?.next(n) ?? null;
    if (this.playback) this.lastPos = this.playback.filePosition;
    if (this.playback?.finished) {
      this.playback = null;
      this.playbackEnded();
    }
    for (let k = 0; k < n; k++) {
      const i = (this.readPos + k) % len;
      let v = this.buf[i] as number;
      if (extra) v += extra.samples[k] as number;
      this.buf[i] = 0;
      out[k] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
    }
    this.readPos += n;
    const payload = this.encoding.encode(out);
    const p = Buffer.allocUnsafe(12 + payload.length);
    p[0] = 0x80;
    p[1] = (this.first ? 0x80 : 0) | (this.encoding.pt & 0x7f);
    p.writeUInt16BE(this.seq, 2);
    p.writeUInt32BE(this.ts >>> 0, 4);
    p.writeUInt32BE(this.ssrc >>> 0, 8);
    payload.copy(p, 12);
    this.first = false;
    this.seq = (this.seq + 1) & 0xffff;
    this.ts = (this.ts + n) >>> 0;
    this.counters.sent++;
    this.target.sendGenerated(p);
  }
}

/**
 * A sink's codec handler toward a receiver with an audio player: the packet is decoded (its
 * sender's codec, by payload type) and mixed in; nothing is forwarded. Holds only references.
 */
export class MixInputHandler implements CodecHandler {
  readonly kind = 'audio-player';
  readonly stateless = true;
  readonly native: NativeCodecAction | null = null;

  constructor(
    private readonly player: AudioPlayer,
    /** Names the sender (tag and media) in the player's source keys. */
    private readonly source: string,
    private readonly codec: Transcoder | null,
  ) {}

  process(packet: Buffer, _input: SsrcContext): void {
    const t = this.codec;
    if (t === null) {
      // telephone-event, CN or a codec we cannot decode: nothing to mix
      this.player.counters.undecodable++;
      return;
    }
    const off = payloadOffset(packet);
    const len = payloadLength(packet);
    if (len <= 0 || off + len > packet.length) return;
    const decoded = t.decode(packet.subarray(off, off + len));
    if (decoded === null) {
      this.player.counters.undecodable++;
      return;
    }
    const mono = convertChannels(decoded, t.format.channels, 1);
    this.player.write(`${this.source}/${ssrc(packet)}`, timestamp(packet), t.format.clockRate, mono);
  }

  close(): void {}
}
