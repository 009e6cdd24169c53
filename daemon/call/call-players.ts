/**
 * The streams a call generates itself toward its participants (rtpengine's media_player and
 * audio_player hung off a call media): per receiving media at most one `play media` player and
 * one audio player (mix), each with a sink of its own through which it sends (the media's
 * output handler: plain or SRTP).
 *
 * Owner and lifetime: owned by the Call (`call.players`); created by commands and sink
 * rebuilds under the call's write lock, released when their media goes or the call is torn
 * down. Every player and sink is accounted through the call (Timer, SinkHandler,
 * TransportHandler) by the hooks the call hands in, so its audit sees them.
 */
import type { Closable } from './call.js';
import type { CallMedia } from './call-media.js';
import type { CallContext, HandlerFactories } from './context.js';
import { DEFAULT_FACTORIES, decideRtcpSink } from './handler-chain.js';
import type { TransportSpec } from '../crypto/transport-handler.js';
import { AudioPlayer } from '../media/audio-player.js';
import { MediaPlayer, type PlayEncoding } from '../media/media-player.js';
import type { SinkHandler } from '../media/packet-stream.js';

/** What the players need of their call: accounting and refusal after teardown. */
export interface PlayerHost {
  readonly ctx: CallContext;
  refuse(what: string): void;
  /** A sink toward `media`'s RTP stream, accounted as the call's. */
  newSink(media: CallMedia): SinkHandler;
  releaseSink(sink: SinkHandler): void;
  adopt(h: Closable, type: 'TransportHandler' | 'Timer'): void;
  drop(h: Closable): void;
}

interface MediaSlot {
  player: MediaPlayer;
  sink: SinkHandler;
  /** The transport its output handler was made for. */
  spec: TransportSpec;
}

const NO_SLOTS: ReadonlyMap<CallMedia, never> = new Map<CallMedia, never>();
const NO_MEDIAS: ReadonlySet<CallMedia> = new Set();

export class CallPlayers {
  // made on first use: most calls never play anything (an empty Map costs ~180 bytes)
  private mediaSlots: Map<CallMedia, MediaSlot> | null = null;
  private audioSlots: Map<CallMedia, { player: AudioPlayer; sink: SinkHandler }> | null = null;
  private mixing: Set<CallMedia> | null = null;

  constructor(private readonly host: PlayerHost) {}

  get media(): ReadonlyMap<CallMedia, MediaSlot> {
    return this.mediaSlots ?? NO_SLOTS;
  }

  get audio(): ReadonlyMap<CallMedia, { player: AudioPlayer; sink: SinkHandler }> {
    return this.audioSlots ?? NO_SLOTS;
  }

  /** `--audio-player=play-media`: receiving medias with a playback in progress (they get the audio player meanwhile). */
  get playMixing(): ReadonlySet<CallMedia> {
    return this.mixing ?? NO_MEDIAS;
  }

  startPlayMixing(media: CallMedia): void {
    (this.mixing ??= new Set()).add(media);
  }

  stopPlayMixing(media: CallMedia): void {
    this.mixing?.delete(media);
  }

  private factories(): HandlerFactories {
    return this.host.ctx.handlerFactories ?? DEFAULT_FACTORIES;
  }

  private sinkFor(media: CallMedia): SinkHandler {
    const sink = this.host.newSink(media);
    decideRtcpSink(sink, media, this.factories());
    this.host.adopt(sink.output, 'TransportHandler');
    return sink;
  }

  /** `play media`: the media's player, created on first use. */
  mediaPlayer(media: CallMedia): MediaPlayer {
    this.host.refuse('media player');
    const slot = this.media.get(media);
    if (slot) return slot.player;
    const sink = this.sinkFor(media);
    const player = new MediaPlayer(sink);
    this.host.adopt(player, 'Timer');
    (this.mediaSlots ??= new Map()).set(media, { player, sink, spec: { protocol: media.protocol, crypto: media.cryptoSend } });
    return player;
  }

  existingMediaPlayer(media: CallMedia): MediaPlayer | null {
    return this.media.get(media)?.player ?? null;
  }

  /** The audio player of `media`, created and started on first use. */
  audioPlayer(media: CallMedia, enc: PlayEncoding): AudioPlayer {
    this.host.refuse('audio player');
    const slot = this.audio.get(media);
    if (slot) return slot.player;
    const sink = this.sinkFor(media);
    const cfg = this.host.ctx.config;
    const player = new AudioPlayer(sink, enc, cfg.audioBufferLength, cfg.audioBufferDelay);
    this.host.adopt(player, 'Timer');
    (this.audioSlots ??= new Map()).set(media, { player, sink });
    player.start();
    return player;
  }

  releaseAudioPlayer(media: CallMedia): void {
    const slot = this.audioSlots?.get(media);
    if (!slot) return;
    this.audioSlots?.delete(media);
    this.host.drop(slot.player);
    this.host.releaseSink(slot.sink);
  }

  /** A media leaves the call: whatever played toward it goes too. */
  releaseMedia(media: CallMedia): void {
    this.mixing?.delete(media);
    this.releaseAudioPlayer(media);
    const slot = this.mediaSlots?.get(media);
    if (!slot) return;
    this.mediaSlots?.delete(media);
    this.host.drop(slot.player);
    this.host.releaseSink(slot.sink);
  }

  releaseAll(): void {
    for (const media of new Set([...this.media.keys(), ...this.audio.keys()])) this.releaseMedia(media);
    this.mixing = null;
  }

  /** A media's transport changed (re-INVITE, SDES): its `play media` player sends through the new output handler. */
  refreshOutputs(): void {
    if (this.mediaSlots === null) return;
    for (const [media, slot] of this.mediaSlots) {
      // unchanged transport: the output keeps its state (SRTP index of the player's SSRC)
      if (slot.spec.protocol === media.protocol && slot.spec.crypto === media.cryptoSend) continue;
      slot.spec = { protocol: media.protocol, crypto: media.cryptoSend };
      const old = slot.sink.output;
      decideRtcpSink(slot.sink, media, this.factories());
      if (slot.sink.output !== old) {
        this.host.drop(old);
        this.host.adopt(slot.sink.output, 'TransportHandler');
      }
    }
  }

  /** Calls merged: the other call's players are this call's now (their accounting moved with the call's). */
  absorb(other: CallPlayers): void {
    for (const [m, slot] of other.media) (this.mediaSlots ??= new Map()).set(m, slot);
    for (const [m, slot] of other.audio) (this.audioSlots ??= new Map()).set(m, slot);
    for (const m of other.playMixing) this.startPlayMixing(m);
    other.mediaSlots = null;
    other.audioSlots = null;
    other.mixing = null;
  }
}
