/**
 * The fast path's contract: what `daemon/kernel/` hands to a forwarding engine when it
 * kernelizes a packet stream, mirroring what rtpengine's kernel_one() builds from a stream's
 * sink list. The native addon (`native-fast-path.ts`) implements it; when the addon is absent
 * or disabled (`-t -1`) no engine exists and every packet takes the JS path.
 */
import type { Endpoint } from '../net/endpoint.js';
import type { MediaSocket, MediaSocketFactory } from '../net/media-socket.js';
import type { NativeSrtpSpec, NativeSrtpState } from '../crypto/srtp-native.js';

export type { NativeSrtpSpec, NativeSrtpState };

export interface ForwardDestination {
  /** The relay socket to send from (an addon-owned socket of the same engine). */
  via: MediaSocket;
  address: string;
  port: number;
  /**
   * RTP only: payload types rewritten on the way to this destination, as [from, to] pairs (the
   * sink's renumbering codec handlers). Payload types not listed leave unchanged.
   */
  payloadTypeMap?: ReadonlyArray<readonly [number, number]>;
  /** SRTP/SRTCP protection toward this destination (its sink's output handler); absent: plain. */
  srtp?: NativeSrtpSpec;
}

/** The SRTP state of a replaced or removed entry: its input, and each destination in order. */
export interface EntrySrtpState {
  input: NativeSrtpState | null;
  rtp: Array<NativeSrtpState | null>;
  rtcp: Array<NativeSrtpState | null>;
}

/** One entry per receiving socket. Anything the entry cannot do is punted up to JS. */
export interface ForwardingEntry {
  /** Packets from any other source are punted to JS (which learns, drops or counts them). */
  source: Pick<Endpoint, 'address' | 'port'>;
  /** Destinations for RTP (and, with rtcpMux, the RTP half of demultiplexed traffic). */
  rtp: ForwardDestination[];
  /** Destinations for RTCP: packets with second byte 192..223 when rtcpMux, else everything on an RTCP socket. */
  rtcp: ForwardDestination[];
  /** This socket carries RTCP only (the odd port of a non-muxed pair). */
  isRtcpSocket: boolean;
  /** RTP and RTCP share this socket: demultiplex by payload type 192..223. */
  rtcpMux: boolean;
  /** If non-empty, RTP with a payload type outside this list is punted to JS. */
  payloadTypes: number[];
  /** SRTP/SRTCP authentication and decryption of what the source sends; absent: plain. */
  srtpIn?: NativeSrtpSpec;
}

export interface EntryStats {
  packets: number;
  bytes: number;
  errors: number;
  /** Unix time in ms of the last packet forwarded by the engine, 0 if none. */
  lastPacketMs: number;
}

export interface FastPathStatus {
  available: boolean;
  enabled: boolean;
  reason: string;
  threads: number;
  entries: number;
  sockets: number;
  packets: number;
  bytes: number;
}

export interface FastPathEngine {
  /** Sockets owned by the engine; their punted packets reach the PacketHandler given to open(). */
  readonly sockets: MediaSocketFactory;
  /**
   * Installs or replaces the entry for `socket` under the table's write lock. Synchronous.
   * Returns the replaced entry's SRTP counters (null if there was none).
   */
  setEntry(socket: MediaSocket, entry: ForwardingEntry): EntrySrtpState | null;
  /**
   * setEntry, refused (false, nothing changed) while packets the socket handed up to JS are not
   * handled there yet: installed meanwhile, the next packets, forwarded at once, would overtake them.
   */
  setEntryIfIdle(socket: MediaSocket, entry: ForwardingEntry): EntrySrtpState | null | false;
  /** Removes it; after return no thread forwards for this socket any more. Returns its SRTP counters. */
  removeEntry(socket: MediaSocket): EntrySrtpState | null;
  /** Live SRTP input failures of the socket's entry, or null (no entry, or plain input). */
  srtpFailures(socket: MediaSocket): { auth: number; replay: number; invalid: number } | null;
  /** Counters of the entry (cumulative for the socket's lifetime), read without a thread hop. */
  entryStats(socket: MediaSocket): EntryStats;
  status(): FastPathStatus;
  /** Live native objects (sockets, entries) as the addon counts them, for the leak audit. */
  nativeLive(): { sockets: number; entries: number; srtpContexts: number };
  /** Stops and joins the threads, closes every socket, frees everything. */
  close(): Promise<void>;
}
