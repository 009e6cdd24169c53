/**
 * Which receivers get the audio player (rtpengine's `audio-player` option family), decided on
 * every sink rebuild under the call's write lock: the ng key `audio-player` (`default`,
 * `transcoding`, `always`, `off`; the call keeps the last one given) over the daemon's
 * `--audio-player` (`on-demand`, `play-media`, `transcoding`, `always`). A receiving audio media
 * with the player gets every sink toward it rewired to decode-and-mix (media/audio-player.ts)
 * and one stream of the relay's own; everything else is forwarded as before.
 */
import { createTranscoder, isSupplemental } from '../codec/codec-lib.js';
import { CodecHandlerSet } from '../codec/chain.js';
import { MixInputHandler, type AudioPlayer } from '../media/audio-player.js';
import type { PlayEncoding } from '../media/media-player.js';
import type { SinkHandler } from '../media/packet-stream.js';
import { STATIC_PAYLOAD_TYPES } from '../sdp/sdp-model.js';
import type { CallMedia } from './call-media.js';
import type { Call } from './call.js';
import { encodingFor } from './media-play.js';

/** A sink is transcoding when any of its handlers changes more than the payload type number. */
function transcodes(sink: SinkHandler): boolean {
  return sink.codec?.handlers.some((h) => h.kind !== 'passthrough' && h.kind !== 'renumber') ?? false;
}

/** Does this receiver get the player, given the sinks toward it? */
export function wantsAudioPlayer(call: Call, dst: CallMedia, sinks: readonly SinkHandler[]): boolean {
  const mode = call.audioPlayerMode;
  if (mode === 'off') return false;
  if (mode === 'always') return true;
  if (mode === 'transcoding') return sinks.some(transcodes);
  switch (call.ctx.config.audioPlayer) {
    case 'always': return true;
    case 'transcoding': return sinks.some(transcodes);
    // `play-media`: only while play media plays to it (media-play.ts switches it on and off)
    case 'play-media': return call.players.playMixing.has(dst);
    default: return false;
  }
}

/** The sinks toward `dst` and the media each one comes from. */
function sinksToward(call: Call, dst: CallMedia): Array<{ sink: SinkHandler; source: CallMedia }> {
  const out: Array<{ sink: SinkHandler; source: CallMedia }> = [];
  for (const source of call.medias) {
    if (source === dst) continue;
    for (const sink of source.rtp.rtpSinks) if (sink.dst === dst.rtp) out.push({ sink, source });
  }
  return out;
}

/** The codec handlers that mix `source`'s audio into `player`: one per payload type it sends. */
export function mixHandlers(player: AudioPlayer, source: CallMedia): CodecHandlerSet {
  const key = `${source.monologue.tag}/${source.index}`;
  const set = new CodecHandlerSet(new MixInputHandler(player, key, null));
  for (const c of source.codecs) {
    const name = c.encoding || STATIC_PAYLOAD_TYPES[c.payloadType]?.encoding || '';
    const clockRate = c.clockRate || STATIC_PAYLOAD_TYPES[c.payloadType]?.clockRate || 8000;
    const t = isSupplemental(name) ? null : createTranscoder({ name, clockRate, channels: c.channels ?? 1 });
    set.set(c.payloadType, new MixInputHandler(player, key, t));
  }
  return set;
}

/**
 * Creates, keeps or closes each receiver's player and rewires the sinks toward receivers that
 * have one. Before an answer (or `early-media`) nothing plays: the relay does not start a
 * stream toward a party that has not agreed to the session.
 */
export function applyAudioPlayers(call: Call): void {
  // the common case (no player asked for, none running) costs one check per sink rebuild
  const mode = call.audioPlayerMode;
  const cfg = call.ctx.config.audioPlayer;
  if (call.players.audio.size === 0 && (mode === 'off' || (mode === 'default' && (cfg === 'on-demand'
    || (cfg === 'play-media' && call.players.playMixing.size === 0))))) return;
  const wanted = new Map<CallMedia, { enc: PlayEncoding; sinks: Array<{ sink: SinkHandler; source: CallMedia }> }>();
  if (call.answered || call.earlyMedia) {
    for (const dst of call.medias) {
      if (dst.type !== 'audio' || dst.rejected || !dst.ports || dst.monologue.deleted) continue;
      const sinks = sinksToward(call, dst);
      if (sinks.length === 0 || !wantsAudioPlayer(call, dst, sinks.map((s) => s.sink))) continue;
      const enc = encodingFor(dst);
      if (!enc) {
        call.log(dst.monologue.tag).warn({ media: dst.index }, 'audio player: no codec we can encode toward this participant; its media is forwarded');
        continue;
      }
      wanted.set(dst, { enc, sinks });
    }
  }
  for (const [media, slot] of [...call.players.audio]) {
    const w = wanted.get(media);
    if (!w || !slot.player.sameEncoding(w.enc)) call.players.releaseAudioPlayer(media);
  }
  for (const [dst, { enc, sinks }] of wanted) {
    const player = call.players.audioPlayer(dst, enc);
    for (const { sink, source } of sinks) call.replaceSinkCodec(sink, mixHandlers(player, source));
  }
}
