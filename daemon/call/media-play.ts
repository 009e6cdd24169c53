/**
 * `play media` / `stop media` (rtpengine's call_play_media_ng / call_stop_media_ng): the
 * selected participant hears a media file or blob, encoded in the first codec of its own list
 * that we can encode (G.711 µ/A-law, L16), at its ptime, from the relay's port toward it.
 *
 * The source is read and decoded before the call's lock is taken (file I/O never holds a call);
 * everything that touches the call runs under its write lock. A file that is missing,
 * unreadable, too large or not audio we can decode is an error reply naming the problem.
 */
import { readFile, stat } from 'node:fs/promises';
import { createTranscoder, isSupplemental } from '../codec/codec-lib.js';
import { convertChannels } from '../codec/l16.js';
import { Resampler } from '../codec/resample.js';
import { MediaFileError, parseWav, type PcmAudio } from '../codec/wav.js';
import { NgCommandError } from '../errors.js';
import { PlaybackCursor, type MediaPlayer, type PlayableAudio, type PlayEncoding } from '../media/media-player.js';
import type { AudioPlayer } from '../media/audio-player.js';
import { STATIC_PAYLOAD_TYPES, type SdpCodec } from '../sdp/sdp-model.js';
import type { CallMedia } from './call-media.js';
import type { Call } from './call.js';
import type { NgFlags } from './flags.js';
import { ptimeOf } from './handler-chain.js';
import type { Monologue } from './monologue.js';

/** A media file larger than this is refused (it is held decoded in memory while it plays). */
export const MAX_MEDIA_BYTES = 64 * 1024 * 1024;
const DEFAULT_PTIME = 20;

export interface LoadedMedia {
  audio: PcmAudio;
  /** For logs and errors: `file '/x.wav'`, `blob`. */
  origin: string;
  durationMs: number;
}

function playbackError(what: 'file' | 'blob', detail: string): NgCommandError {
  return new NgCommandError(what === 'file' ? 'PLAYBACK_FILE' : 'PLAYBACK_BLOB', detail);
}

/** Reads and decodes the source a `play media` names (outside any call lock). */
export async function loadMedia(flags: NgFlags): Promise<LoadedMedia> {
  const p = flags.play;
  let data: Buffer;
  let kind: 'file' | 'blob';
  let origin: string;
  if (p.file !== undefined) {
    kind = 'file';
    origin = `file '${p.file}'`;
    if (p.file === '') throw playbackError(kind, 'empty file name');
    try {
      const st = await stat(p.file);
      if (!st.isFile()) throw playbackError(kind, `'${p.file}' is not a regular file`);
      if (st.size > MAX_MEDIA_BYTES) throw playbackError(kind, `'${p.file}' is larger than ${MAX_MEDIA_BYTES} bytes`);
      data = await readFile(p.file);
    } catch (err) {
      if (err instanceof NgCommandError) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
      throw playbackError(kind, `cannot read '${p.file}': ${why}`);
    }
  } else if (p.blob !== undefined || p.blob64 !== undefined) {
    kind = 'blob';
    origin = 'blob';
    if (p.blob !== undefined) data = p.blob;
    else {
      const text = (p.blob64 as string).replace(/\s+/g, '');
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 === 1) throw playbackError(kind, 'blob64 is not valid base64');
      data = Buffer.from(text, 'base64');
    }
    if (data.length === 0) throw playbackError(kind, 'empty blob');
    if (data.length > MAX_MEDIA_BYTES) throw playbackError(kind, `blob larger than ${MAX_MEDIA_BYTES} bytes`);
  } else if (p.dbId !== undefined) {
    throw new NgCommandError('NOT_IMPLEMENTED', '`db-id` media needs a MySQL media database, which this daemon does not have');
  } else {
    throw new NgCommandError('NO_MEDIA_SOURCE');
  }
  let audio: PcmAudio;
  try {
    audio = parseWav(data);
  } catch (err) {
    if (err instanceof MediaFileError) throw playbackError(kind, kind === 'file' ? `'${p.file}': ${err.message}` : err.message);
    throw err;
  }
  const frames = audio.samples.length / audio.channels;
  return { audio, origin, durationMs: Math.round((frames * 1000) / audio.sampleRate) };
}

function codecName(c: SdpCodec): string {
  return c.encoding || STATIC_PAYLOAD_TYPES[c.payloadType]?.encoding || '';
}

function clockRateOf(c: SdpCodec): number {
  return c.clockRate || STATIC_PAYLOAD_TYPES[c.payloadType]?.clockRate || 8000;
}

/**
 * The receiver's codec for generated audio: the first codec of its own list (its preference)
 * that we can encode, mono. Null if it has none.
 */
export function encodingFor(media: CallMedia): PlayEncoding | null {
  for (const c of media.codecs) {
    const name = codecName(c);
    if (isSupplemental(name) || (c.channels ?? 1) !== 1) continue;
    const clockRate = clockRateOf(c);
    const t = createTranscoder({ name, clockRate, channels: 1 });
    if (t) return { pt: c.payloadType, clockRate, ptimeMs: ptimeOf(media.sdp) ?? DEFAULT_PTIME, encode: (s) => t.encode(s) };
  }
  return null;
}

/** The file's audio as mono samples at `rate`. */
export function toPlayable(audio: PcmAudio, rate: number): PlayableAudio {
  let mono = convertChannels(audio.samples, audio.channels, 1);
  if (audio.sampleRate !== rate) mono = new Resampler(audio.sampleRate, rate, 1).process(mono);
  return { samples: mono, fileRate: audio.sampleRate, ratio: rate / audio.sampleRate };
}

/**
 * The participants a play/stop media command selects (rtpengine's play_media_select_party):
 * `label`, else `from-tag` (no `directional` needed here), else every one with `all`.
 */
export function selectParties(call: Call, flags: NgFlags): Monologue[] {
  if (flags.label !== undefined) {
    const m = call.monologues.find((x) => x.label === flags.label && !x.deleted);
    if (!m) throw new NgCommandError('TAG_NOT_FOUND');
    return [m];
  }
  if (flags.fromTag !== undefined) {
    const m = call.monologueByTag(flags.fromTag);
    if (!m) throw new NgCommandError('TAG_NOT_FOUND');
    return [m];
  }
  if (flags.flags.has('all')) return call.monologues.filter((m) => !m.deleted);
  throw new NgCommandError('NO_PARTY');
}

/** The media a party hears played media on: its first audio media with ports. */
function playMediaOf(ml: Monologue): CallMedia | undefined {
  return ml.medias.find((m) => m.type === 'audio' && !m.rejected && m.ports !== null);
}

/** play media: starts (or restarts) playback toward every selected party; returns the reply. */
export function playMedia(call: Call, flags: NgFlags, media: LoadedMedia): { duration: number } {
  const parties = selectParties(call, flags);
  // every party is checked before anything plays; with `all`, parties that cannot be played
  // to (no audio media yet, no codec we encode) are left out, and only none at all is an error
  const plans: Array<{ ml: Monologue; m: CallMedia; enc: PlayEncoding }> = [];
  let refusal: NgCommandError | null = null;
  for (const ml of parties) {
    const m = playMediaOf(ml);
    const enc = m ? encodingFor(m) : null;
    if (m && enc) {
      plans.push({ ml, m, enc });
      continue;
    }
    refusal = m
      ? new NgCommandError('PLAYBACK', `participant '${ml.tag}' has no codec we can encode (PCMU, PCMA, L16); it has ${m.codecs.map(codecName).join(', ') || 'none'}`)
      : new NgCommandError('PLAYBACK', `participant '${ml.tag}' has no audio media to play into`);
    if (parties.length === 1 || !flags.flags.has('all')) throw refusal;
    call.log(ml.tag).info({ reason: refusal.reason }, 'play media: participant left out');
  }
  if (plans.length === 0) throw refusal ?? new NgCommandError('NO_PARTY');
  const repeatTimes = Math.max(1, flags.play.repeatTimes ?? 1);
  const repeatDurationMs = flags.play.repeatDuration !== undefined && flags.play.repeatDuration > 0 ? flags.play.repeatDuration : null;
  // `duration` (shared with play DTMF's key): the longest this playback may last
  const maxDurationMs = flags.dtmf.duration !== undefined && flags.dtmf.duration > 0 ? flags.dtmf.duration : null;
  const startPos = Math.max(0, flags.play.startPos ?? 0);
  const byRate = new Map<number, PlayableAudio>();
  for (const plan of plans) {
    const { ml, m } = plan;
    // a receiver with the audio player hears the playback mixed into its one stream
    let mix = call.players.audio.get(m)?.player ?? null;
    if (!mix && call.audioPlayerMode === 'default' && call.ctx.config.audioPlayer === 'play-media') mix = mixWhilePlaying(call, m);
    const enc = mix ? mix.encoding : plan.enc;
    let audio = byRate.get(enc.clockRate);
    if (!audio) {
      audio = toPlayable(media.audio, enc.clockRate);
      byRate.set(enc.clockRate, audio);
    }
    const cursor = new PlaybackCursor(audio, { repeatTimes, repeatDurationMs, startPos, maxDurationMs }, enc.clockRate);
    if (mix) {
      mix.play(cursor);
      if (call.players.playMixing.has(m)) switchBackWhenDone(call, m, mix);
      call.players.existingMediaPlayer(m)?.stop();
    } else {
      const player = call.players.mediaPlayer(m);
      player.play(cursor, enc);
      if (flags.flags.has('block-egress') && player.playing) blockEgress(call, m, player);
    }
    call.log(ml.tag).info({ source: media.origin, format: media.audio.format, rate: media.audio.sampleRate, pt: enc.pt, repeatTimes, startPos },
      'play media');
  }
  return { duration: media.durationMs };
}

/** Streams that send to `media`: the fast path must re-decide them when egress blocking changes. */
function rekernelizeToward(call: Call, media: CallMedia): void {
  const k = call.ctx.kernel;
  if (!k || call.destroyed) return;
  for (const s of call.streams) if (s.rtpSinks.some((x) => x.dst === media.rtp)) k.update(s);
}

/**
 * `block-egress`: while this playback runs, what the participant would be forwarded is dropped
 * (it hears the playback only); when the playback ends, in whatever way, forwarding resumes.
 */
function blockEgress(call: Call, media: CallMedia, player: MediaPlayer): void {
  media.rtp.blockEgress = true;
  rekernelizeToward(call, media);
  player.onEnd = () => {
    media.rtp.blockEgress = false;
    rekernelizeToward(call, media);
  };
}

/**
 * `--audio-player=play-media`: the receiver gets the audio player for as long as the playback
 * runs (what it is forwarded is mixed with it); when the playback ends, a sink rebuild under the
 * call's lock gives it plain forwarding back. Null when no player could be made (nothing is
 * sent toward it yet): the playback is then a stream of its own.
 */
function mixWhilePlaying(call: Call, media: CallMedia): AudioPlayer | null {
  call.players.startPlayMixing(media);
  call.rebuildSinks();
  const mix = call.players.audio.get(media)?.player ?? null;
  if (!mix) {
    call.players.stopPlayMixing(media);
    return null;
  }
  return mix;
}

/** When a playback that switched the player on ends: plain forwarding again (unless another one plays by then). */
function switchBackWhenDone(call: Call, media: CallMedia, mix: AudioPlayer): void {
  mix.onPlaybackEnd = () => {
    call.write(() => {
      if (call.destroyed || mix.playing || !call.players.playMixing.has(media)) return;
      call.players.stopPlayMixing(media);
      call.rebuildSinks();
    }).catch((err: unknown) => call.log(media.monologue.tag).warn({ err: String(err) }, 'audio player: switching back after play media failed'));
  };
}

/** stop media: stops every selected party's playback; replies where the (last) one was. */
export function stopMedia(call: Call, flags: NgFlags): { 'last-frame-pos': number } {
  const parties = selectParties(call, flags);
  let last = 0;
  for (const ml of parties) {
    const m = playMediaOf(ml);
    const mix = m ? call.players.audio.get(m)?.player ?? null : null;
    const player = m ? call.players.existingMediaPlayer(m) : null;
    if (mix?.hadPlayback) last = mix.stopPlayback();
    else if (player) last = player.stop();
    else throw new NgCommandError('NOT_PLAYING');
    call.log(ml.tag).info({ lastFramePos: last }, 'stop media');
  }
  return { 'last-frame-pos': last };
}
