/**
 * The DTLS demux hook: RFC 7983 first bytes 20..63 on a media port are DTLS records. A stream
 * with a DTLS-SRTP session gets a hook; without one, DTLS packets are counted and dropped.
 * Called on the packet path, synchronously; replies go out through `via` (the stream's socket).
 */
import type { Endpoint } from '../net/endpoint.js';
import type { MediaSocket } from '../net/media-socket.js';

export interface DtlsHook {
  /** Returns true if the record was taken (counted as handled, never relayed). */
  dtls(packet: Buffer, from: Endpoint, via: MediaSocket): boolean;
  close(): void;
}
