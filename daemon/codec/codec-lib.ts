/**
 * The codec library (rtpengine's codeclib): what we know about each codec by name, and the
 * decoders/encoders of those we can transcode. A codec is transcodable when we can both
 * decode and encode it (G.711 µ/A-law, L16 at any rate and channel count). Other codecs are
 * known for negotiation only (their default clock rate/channels for SDP); asking for their
 * transcoder yields null, and the negotiation treats them as rtpengine treats a codec it has
 * no codec library support for.
 */
import { decodeAlaw, decodeUlaw, encodeAlaw, encodeUlaw } from './g711.js';
import { decodeL16, encodeL16 } from './l16.js';

export interface CodecFormat {
  /** Encoding name as rtpengine spells it (`PCMU`, `opus`, `telephone-event`). */
  name: string;
  clockRate: number;
  channels: number;
}

export interface Transcoder {
  readonly format: CodecFormat;
  /** Payload → interleaved samples; null if the payload cannot be audio of this codec. */
  decode(payload: Uint8Array): Int16Array | null;
  encode(samples: Int16Array): Buffer;
}

interface KnownCodec {
  name: string;
  clockRate: number;
  channels: number;
  /** Supplemental: DTMF events and comfort noise travel beside the audio codec. */
  supplemental?: boolean;
  transcode?: (format: CodecFormat) => Transcoder;
}

const g711 = (decode: (p: Uint8Array) => Int16Array, encode: (s: Int16Array) => Buffer) => (format: CodecFormat): Transcoder => ({
  format,
  decode: (p) => (format.channels === 1 ? decode(p) : p.length % format.channels === 0 ? decode(p) : null),
  encode: (s) => encode(s),
});

const KNOWN: readonly KnownCodec[] = [
  { name: 'PCMU', clockRate: 8000, channels: 1, transcode: g711(decodeUlaw, (s) => encodeUlaw(s)) },
  { name: 'PCMA', clockRate: 8000, channels: 1, transcode: g711(decodeAlaw, (s) => encodeAlaw(s)) },
  {
    name: 'L16', clockRate: 8000, channels: 1,
    transcode: (format) => ({
      format,
      decode: (p) => (p.length % (2 * format.channels) === 0 ? decodeL16(p) : null),
      encode: (s) => encodeL16(s),
    }),
  },
  { name: 'G722', clockRate: 8000, channels: 1 },
  { name: 'G729', clockRate: 8000, channels: 1 },
  { name: 'G723', clockRate: 8000, channels: 1 },
  { name: 'GSM', clockRate: 8000, channels: 1 },
  { name: 'iLBC', clockRate: 8000, channels: 1 },
  { name: 'speex', clockRate: 16000, channels: 1 },
  { name: 'opus', clockRate: 48000, channels: 2 },
  { name: 'AMR', clockRate: 8000, channels: 1 },
  { name: 'AMR-WB', clockRate: 16000, channels: 1 },
  { name: 'EVS', clockRate: 16000, channels: 1 },
  { name: 'telephone-event', clockRate: 8000, channels: 1, supplemental: true },
  { name: 'CN', clockRate: 8000, channels: 1, supplemental: true },
];

function known(name: string): KnownCodec | undefined {
  const lower = name.toLowerCase();
  return KNOWN.find((k) => k.name.toLowerCase() === lower);
}

/** rtpengine's canonical spelling of a codec name (`pcma` → `PCMA`); unknown names unchanged. */
export function canonicalName(name: string): string {
  return known(name)?.name ?? name;
}

/** Default clock rate and channel count of a codec spec that left them out. */
export function codecDefaults(name: string): { clockRate: number; channels: number } | null {
  const k = known(name);
  return k ? { clockRate: k.clockRate, channels: k.channels } : null;
}

export function isSupplemental(name: string): boolean {
  return known(name)?.supplemental === true;
}

/** Can we decode and encode this format? */
export function canTranscode(format: CodecFormat): boolean {
  return known(format.name)?.transcode !== undefined;
}

export function createTranscoder(format: CodecFormat): Transcoder | null {
  const k = known(format.name);
  return k?.transcode ? k.transcode(format) : null;
}

/** Bytes of payload per sample frame (all channels) for constant-rate codecs we transcode. */
export function bytesPerFrame(format: CodecFormat): number | null {
  switch (format.name.toUpperCase()) {
    case 'PCMU': case 'PCMA': return format.channels;
    case 'L16': return 2 * format.channels;
    default: return null;
  }
}
