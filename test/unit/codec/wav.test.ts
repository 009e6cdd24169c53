import { describe, expect, it } from 'vitest';
import { encodeAlaw, encodeUlaw, decodeAlaw, decodeUlaw } from '../../../daemon/codec/g711.js';
import { buildWav, MediaFileError, parseWav } from '../../../daemon/codec/wav.js';

/** A WAV with an arbitrary format tag and sample size around `data`. */
function wav(format: number, bits: number, channels: number, rate: number, data: Buffer, extensible = false): Buffer {
  const fmtLen = extensible ? 40 : 16;
  const fmt = Buffer.alloc(fmtLen);
  fmt.writeUInt16LE(extensible ? 0xfffe : format, 0);
  fmt.writeUInt16LE(channels, 2);
  fmt.writeUInt32LE(rate, 4);
  fmt.writeUInt32LE((rate * channels * bits) / 8, 8);
  fmt.writeUInt16LE((channels * bits) / 8, 12);
  fmt.writeUInt16LE(bits, 14);
  if (extensible) {
    fmt.writeUInt16LE(22, 16);
    fmt.writeUInt16LE(bits, 18);
    fmt.writeUInt16LE(format, 24);
  }
  const chunk = (id: string, body: Buffer) => {
    const h = Buffer.alloc(8);
    h.write(id, 0, 'latin1');
    h.writeUInt32LE(body.length, 4);
    return Buffer.concat([h, body, body.length & 1 ? Buffer.alloc(1) : Buffer.alloc(0)]);
  };
  const list = chunk('LIST', Buffer.from('INFOxyz')); // an odd-sized chunk before the data
  const body = Buffer.concat([Buffer.from('WAVE', 'latin1'), chunk('fmt ', fmt), list, chunk('data', data)]);
  const h = Buffer.alloc(8);
  h.write('RIFF', 0, 'latin1');
  h.writeUInt32LE(body.length, 4);
  return Buffer.concat([h, body]);
}

describe('parseWav', () => {
  const samples = Int16Array.from([0, 1000, -1000, 32767, -32768, 12345]);

  it('reads 16-bit PCM as written by buildWav, mono and stereo', () => {
    const a = parseWav(buildWav(samples, 8000));
    expect(a).toMatchObject({ sampleRate: 8000, channels: 1, format: 'PCM 16-bit' });
    expect([...a.samples]).toEqual([...samples]);
    const s = parseWav(buildWav(samples, 16000, 2));
    expect(s.channels).toBe(2);
    expect(s.samples.length).toBe(6);
  });

  it('reads 8-bit unsigned, 24-bit and 32-bit PCM, skipping other chunks', () => {
    expect([...parseWav(wav(1, 8, 1, 8000, Buffer.from([128, 255, 0]))).samples]).toEqual([0, 127 << 8, -32768]);
    const b24 = Buffer.alloc(6);
    b24.writeIntLE(0x123456, 0, 3);
    b24.writeIntLE(-0x400000, 3, 3);
    expect([...parseWav(wav(1, 24, 1, 8000, b24)).samples]).toEqual([0x1234, -0x4000]);
    const b32 = Buffer.alloc(4);
    b32.writeInt32LE(0x7fff0000, 0);
    expect([...parseWav(wav(1, 32, 1, 8000, b32, true)).samples]).toEqual([0x7fff]);
  });

  it('reads A-law and µ-law (plain and extensible)', () => {
    const a = encodeAlaw(samples);
    const u = encodeUlaw(samples);
    const pa = parseWav(wav(6, 8, 1, 8000, a));
    expect(pa.format).toBe('A-law');
    expect([...pa.samples]).toEqual([...decodeAlaw(a)]);
    expect([...parseWav(wav(7, 8, 1, 8000, u, true)).samples]).toEqual([...decodeUlaw(u)]);
  });

  it('names what is wrong with a bad file', () => {
    const bad = (b: Buffer) => {
      try {
        parseWav(b);
      } catch (e) {
        expect(e).toBeInstanceOf(MediaFileError);
        return (e as Error).message;
      }
      throw new Error('parsed');
    };
    expect(bad(Buffer.from('hello world, not audio'))).toBe('not a WAV file (no RIFF/WAVE header)');
    expect(bad(Buffer.from('RIFF\0\0\0\0WAVE'))).toBe("WAV file without a 'fmt ' chunk");
    expect(bad(wav(85, 16, 1, 8000, Buffer.alloc(4)))).toMatch(/unsupported WAV encoding \(format tag 85\)/);
    expect(bad(wav(1, 12, 1, 8000, Buffer.alloc(4)))).toBe('unsupported PCM sample size (12 bits)');
    expect(bad(wav(1, 16, 0, 8000, Buffer.alloc(4)))).toBe('unsupported channel count 0');
    expect(bad(wav(1, 16, 1, 10, Buffer.alloc(4)))).toBe('unsupported sample rate 10');
    expect(bad(wav(1, 16, 1, 8000, Buffer.alloc(0)))).toBe('WAV file holds no audio samples');
    expect(bad(buildWav(samples, 8000).subarray(0, 40))).toBe("WAV file without a 'data' chunk");
    expect(bad(wav(6, 16, 1, 8000, Buffer.alloc(4)))).toBe('G.711 with 16 bits per sample');
  });

  it('takes what a data chunk holds when its size overstates it (streamed WAVs)', () => {
    const w = buildWav(samples, 8000);
    w.writeUInt32LE(0xffffffff, 40);
    expect(parseWav(w).samples.length).toBe(samples.length);
  });
});
