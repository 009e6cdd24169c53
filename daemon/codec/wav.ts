/**
 * WAV (RIFF/WAVE) reader for `play media`: PCM 8-bit (unsigned), 16/24/32-bit (signed,
 * little-endian), G.711 A-law and µ-law, plain or WAVE_FORMAT_EXTENSIBLE. Everything becomes
 * interleaved 16-bit samples; what the file says is checked against what it holds, and any
 * mismatch is a MediaFileError naming the problem (a bad file never reaches the packet path).
 */
import { decodeAlaw, decodeUlaw } from './g711.js';

export class MediaFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MediaFileError';
  }
}

export interface PcmAudio {
  sampleRate: number;
  channels: number;
  /** Interleaved 16-bit samples. */
  samples: Int16Array;
  /** What the file held, for logs (`PCM 16-bit`, `A-law` …). */
  format: string;
}

const FORMAT_PCM = 1;
const FORMAT_ALAW = 6;
const FORMAT_ULAW = 7;
const FORMAT_EXTENSIBLE = 0xfffe;
/** Bounds that keep a hostile header from asking for absurd work. */
const MAX_CHANNELS = 8;
const MAX_RATE = 192_000;

interface Fmt {
  format: number;
  channels: number;
  sampleRate: number;
  blockAlign: number;
  bits: number;
}

function readFmt(buf: Buffer, off: number, size: number): Fmt {
  if (size < 16) throw new MediaFileError(`'fmt ' chunk too short (${size} bytes)`);
  let format = buf.readUInt16LE(off);
  const channels = buf.readUInt16LE(off + 2);
  const sampleRate = buf.readUInt32LE(off + 4);
  const blockAlign = buf.readUInt16LE(off + 12);
  const bits = buf.readUInt16LE(off + 14);
  if (format === FORMAT_EXTENSIBLE) {
    // cbSize(2) validBits(2) channelMask(4) then the sub-format GUID, whose first two bytes are the format tag
    if (size < 40) throw new MediaFileError('WAVE_FORMAT_EXTENSIBLE without its sub-format');
    format = buf.readUInt16LE(off + 24);
  }
  return { format, channels, sampleRate, blockAlign, bits };
}

function decodeData(fmt: Fmt, data: Buffer): { samples: Int16Array; format: string } {
  const { format, bits } = fmt;
  if (format === FORMAT_ALAW || format === FORMAT_ULAW) {
    if (bits !== 8) throw new MediaFileError(`G.711 with ${bits} bits per sample`);
    return format === FORMAT_ALAW ? { samples: decodeAlaw(data), format: 'A-law' } : { samples: decodeUlaw(data), format: 'µ-law' };
  }
  if (format !== FORMAT_PCM) throw new MediaFileError(`unsupported WAV encoding (format tag ${format}); PCM, A-law and µ-law are supported`);
  const bytes = bits / 8;
  if (![1, 2, 3, 4].includes(bytes)) throw new MediaFileError(`unsupported PCM sample size (${bits} bits)`);
  const n = Math.floor(data.length / bytes);
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) {
    const o = i * bytes;
    switch (bytes) {
      case 1: out[i] = ((data[o] as number) - 128) << 8; break;
      case 2: out[i] = data.readInt16LE(o); break;
      case 3: out[i] = data.readIntLE(o, 3) >> 8; break;
      default: out[i] = data.readInt32LE(o) >> 16; break;
    }
  }
  return { samples: out, format: `PCM ${bits}-bit` };
}

/** Parses a whole WAV file held in memory. */
export function parseWav(buf: Buffer): PcmAudio {
  if (buf.length < 12 || buf.toString('latin1', 0, 4) !== 'RIFF' || buf.toString('latin1', 8, 12) !== 'WAVE') {
    throw new MediaFileError('not a WAV file (no RIFF/WAVE header)');
  }
  let fmt: Fmt | null = null;
  let data: Buffer | null = null;
  let off = 12;
  while (off + 8 <= buf.length) {
    const id = buf.toString('latin1', off, off + 4);
    const size = buf.readUInt32LE(off + 4);
    const body = off + 8;
    // a data chunk longer than the file (streamed WAVs say 0xffffffff) holds what is there
    const avail = Math.min(size, buf.length - body);
    if (id === 'fmt ') {
      if (avail < size) throw new MediaFileError("truncated 'fmt ' chunk");
      fmt = readFmt(buf, body, size);
    } else if (id === 'data') {
      data = buf.subarray(body, body + avail);
      if (fmt) break;
    }
    off = body + size + (size & 1);
  }
  if (!fmt) throw new MediaFileError("WAV file without a 'fmt ' chunk");
  if (!data) throw new MediaFileError("WAV file without a 'data' chunk");
  if (fmt.channels < 1 || fmt.channels > MAX_CHANNELS) throw new MediaFileError(`unsupported channel count ${fmt.channels}`);
  if (fmt.sampleRate < 1000 || fmt.sampleRate > MAX_RATE) throw new MediaFileError(`unsupported sample rate ${fmt.sampleRate}`);
  const { samples, format } = decodeData(fmt, data);
  const whole = samples.length - (samples.length % fmt.channels);
  if (whole === 0) throw new MediaFileError('WAV file holds no audio samples');
  return { sampleRate: fmt.sampleRate, channels: fmt.channels, samples: samples.subarray(0, whole), format };
}

/** Writes a 16-bit PCM WAV (tests, and the documented example files). */
export function buildWav(samples: Int16Array, sampleRate: number, channels = 1): Buffer {
  const data = Buffer.alloc(samples.length * 2);
  for (let i = 0; i < samples.length; i++) data.writeInt16LE(samples[i] as number, i * 2);
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'latin1');
  h.writeUInt32LE(36 + data.length, 4);
  h.write('WAVE', 8, 'latin1');
  h.write('fmt ', 12, 'latin1');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(FORMAT_PCM, 20);
  h.writeUInt16LE(channels, 22);
  h.writeUInt32LE(sampleRate, 24);
  h.writeUInt32LE(sampleRate * channels * 2, 28);
  h.writeUInt16LE(channels * 2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'latin1');
  h.writeUInt32LE(data.length, 40);
  return Buffer.concat([h, data]);
}
