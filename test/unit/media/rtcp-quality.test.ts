/** RTCP report parsing: validation of compound packets, per-SSRC quality, RTT from LSR/DLSR, MOS. */
import { describe, expect, it } from 'vitest';
import { mosFrom, RtcpQuality, SrTimes } from '../../../daemon/media/rtcp.js';

function rr(blocks: number, rc = blocks): Buffer {
  const b = Buffer.alloc(8 + blocks * 24);
  b[0] = 0x80 | rc;
  b[1] = 201;
  b.writeUInt16BE(b.length / 4 - 1, 2);
  b.writeUInt32BE(0xb1, 4);
  for (let i = 0; i < blocks; i++) {
    const at = 8 + i * 24;
    b.writeUInt32BE(0xa0 + i, at);
    b[at + 4] = 26; // ≈ 10 %
    b.writeUInt32BE(80, at + 12); // 10 ms at 8 kHz
  }
  return b;
}

describe('RtcpQuality', () => {
  it('reads report blocks of RR and SR, and RTT from a sender report it saw', () => {
    const times = new SrTimes();
    const q = new RtcpQuality(times, 8000);
    const sr = Buffer.alloc(28);
    sr[0] = 0x80;
    sr[1] = 200;
    sr.writeUInt16BE(6, 2);
    sr.writeUInt32BE(0xa0, 4);
    sr.writeUInt32BE(0x0000abcd, 8);
    sr.writeUInt32BE(0x12340000, 12);
    expect(new RtcpQuality(times, 8000).receive(sr, 1000)).toBe(true);
    const block = rr(1);
    block.writeUInt32BE(0xabcd1234, 24); // LSR
    block.writeUInt32BE(655, 28); // DLSR ≈ 10 ms
    expect(q.receive(Buffer.concat([block, rr(2)]), 1050)).toBe(true);
    const a0 = q.bySsrc.get(0xa0)!;
    expect(a0.samples).toBe(2);
    expect(a0.lowest!.jitterMs).toBe(10);
    expect(a0.lowest!.lossPercent).toBe(10);
    // seen at 1000 ms, answered at 1050 ms, held 655/65536 s by the receiver
    expect(Math.max(a0.highest!.rttUs, a0.lowest!.rttUs)).toBe(Math.round(50_000 - (655 * 1_000_000) / 65536));
    expect(q.bySsrc.get(0xa1)!.samples).toBe(1);
  });

  it('refuses report counts and lengths that overrun the packet, and other versions', () => {
    const q = new RtcpQuality(new SrTimes(), 8000);
    expect(q.receive(rr(1, 2), 0)).toBe(false);
    const long = rr(1);
    long.writeUInt16BE(100, 2);
    expect(q.receive(long, 0)).toBe(false);
    expect(q.receive(Buffer.concat([rr(1), Buffer.from([0x40, 202, 0, 0])]), 0)).toBe(false);
    expect(q.receive(Buffer.concat([rr(1), Buffer.from([0x80, 202])]), 0)).toBe(false);
    expect(q.malformed).toBe(4);
    expect(q.bySsrc.size).toBe(0);
  });

  it('keeps at most 16 reported SSRCs', () => {
    const q = new RtcpQuality(new SrTimes(), 8000);
    for (let i = 0; i < 40; i++) {
      const b = rr(1);
      b.writeUInt32BE(1000 + i, 8);
      q.receive(b, i);
    }
    expect(q.bySsrc.size).toBe(16);
  });
});

describe('mosFrom', () => {
  it('is 4.4-ish for a clean line and falls with loss, jitter and delay', () => {
    expect(mosFrom(0, 0, 0)).toBe(44);
    expect(mosFrom(5, 0, 0)).toBeLessThan(mosFrom(0, 0, 0));
    expect(mosFrom(0, 50, 0)).toBeLessThan(mosFrom(0, 0, 0));
    expect(mosFrom(0, 0, 600)).toBeLessThan(mosFrom(0, 0, 100));
    expect(mosFrom(100, 500, 5000)).toBe(10);
  });
});
