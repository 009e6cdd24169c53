/**
 * The ICE/STUN demux hook (rtpengine's ice.c/stun.c entry): RFC 7983 first bytes 0..3 on a
 * media port are STUN. A stream with an ICE agent gets a hook; without one, STUN packets are
 * counted and dropped. Called on the packet path before endpoint learning, synchronously;
 * responses go out through `via` (the stream's socket).
 */
import type { Endpoint } from '../net/endpoint.js';
import type { MediaSocket } from '../net/media-socket.js';

export interface StunHook {
  /** Returns true if the message was taken (a check answered, a response matched). */
  stun(packet: Buffer, from: Endpoint, via: MediaSocket): boolean;
  close(): void;
}
