import { describe, expect, it } from 'vitest';
import { applyCodecFlags, codecMatches } from '../../../daemon/call/codecs.js';
import type { CodecFlags } from '../../../daemon/control/call-flags.js';
import type { SdpCodec } from '../../../daemon/sdp/sdp-model.js';

function codec(payloadType: number, encoding = '', clockRate = 0, channels: number | null = null): SdpCodec {
  return {
    payloadType,
    encoding,
    clockRate,
    channels,
    rtpmap: encoding ? `${payloadType} ${encoding}/${clockRate}${channels ? `/${channels}` : ''}` : null,
    fmtp: [],
    rtcpFb: [],
  };
}

const PCMU = codec(0); // static, no rtpmap
const PCMA = codec(8, 'PCMA', 8000);
const G722 = codec(9);
const OPUS = codec(96, 'opus', 48000, 2);
const SPEEX16 = codec(97, 'speex', 16000);
const SPEEX8 = codec(98, 'speex', 8000);
const DTMF = codec(101, 'telephone-event', 8000);
const ALL = [PCMU, PCMA, G722, OPUS, SPEEX16, SPEEX8, DTMF];

function flags(partial: Partial<CodecFlags>): CodecFlags {
  return { strip: [], offer: [], mask: [], except: [], transcode: [], accept: [], consume: [], ignore: [], set: [], ...partial };
}
const pts = (list: SdpCodec[]) => list.map((c) => c.payloadType);

describe('codecMatches', () => {
  it('by payload type number', () => {
    expect(codecMatches(PCMA, '8')).toBe(true);
    expect(codecMatches(PCMA, '0')).toBe(false);
    expect(codecMatches(OPUS, '96')).toBe(true);
  });

  it('by name, case-insensitively, including static types without rtpmap', () => {
    expect(codecMatches(PCMA, 'PCMA')).toBe(true);
    expect(codecMatches(PCMA, 'pcma')).toBe(true);
    expect(codecMatches(OPUS, 'OPUS')).toBe(true);
    expect(codecMatches(PCMU, 'PCMU')).toBe(true);
    expect(codecMatches(G722, 'g722')).toBe(true);
    expect(codecMatches(PCMU, 'PCMA')).toBe(false);
  });

  it('by name/rate and name/rate/channels', () => {
    expect(codecMatches(OPUS, 'opus/48000')).toBe(true);
    expect(codecMatches(OPUS, 'opus/48000/2')).toBe(true);
    expect(codecMatches(OPUS, 'opus/48000/1')).toBe(false);
    expect(codecMatches(OPUS, 'opus/16000')).toBe(false);
    expect(codecMatches(SPEEX16, 'speex/16000')).toBe(true);
    expect(codecMatches(SPEEX8, 'speex/16000')).toBe(false);
    expect(codecMatches(PCMU, 'PCMU/8000')).toBe(true);
    expect(codecMatches(PCMU, 'PCMU/8000/1')).toBe(true);
    expect(codecMatches(PCMA, 'PCMA/8000/1')).toBe(true);
    expect(codecMatches(PCMA, 'PCMA/16000')).toBe(false);
  });

  it('a name does not match as a prefix', () => {
    expect(codecMatches(DTMF, 'telephone')).toBe(false);
    expect(codecMatches(PCMA, 'PCM')).toBe(false);
  });
});

describe('applyCodecFlags', () => {
  it('no flags: unchanged', () => {
    expect(pts(applyCodecFlags(ALL, flags({})))).toEqual(pts(ALL));
  });

  it('does not mutate its input', () => {
    const input = [...ALL];
    applyCodecFlags(input, flags({ strip: ['PCMA'], offer: ['opus', 'PCMU'] }));
    expect(input).toEqual(ALL);
  });

  it('strip by name, number and spec', () => {
    expect(pts(applyCodecFlags(ALL, flags({ strip: ['PCMA'] })))).toEqual([0, 9, 96, 97, 98, 101]);
    expect(pts(applyCodecFlags(ALL, flags({ strip: ['0', '9'] })))).toEqual([8, 96, 97, 98, 101]);
    expect(pts(applyCodecFlags(ALL, flags({ strip: ['speex/16000'] })))).toEqual([0, 8, 9, 96, 98, 101]);
    expect(pts(applyCodecFlags(ALL, flags({ strip: ['speex'] })))).toEqual([0, 8, 9, 96, 101]);
  });

  it('strip all (or full) keeps only the except list', () => {
    expect(pts(applyCodecFlags(ALL, flags({ strip: ['all'], except: ['PCMA', 'telephone-event'] })))).toEqual([8, 101]);
    expect(pts(applyCodecFlags(ALL, flags({ strip: ['full'], except: ['opus'] })))).toEqual([96]);
    expect(pts(applyCodecFlags(ALL, flags({ strip: ['ALL'], except: ['0'] })))).toEqual([0]);
  });

  it('except does not reorder', () => {
    expect(pts(applyCodecFlags(ALL, flags({ strip: ['all'], except: ['telephone-event', 'PCMU'] })))).toEqual([0, 101]);
  });

  it('mask hides codecs like strip (no transcoder)', () => {
    expect(pts(applyCodecFlags(ALL, flags({ mask: ['G722', 'opus'] })))).toEqual([0, 8, 97, 98, 101]);
    expect(pts(applyCodecFlags(ALL, flags({ mask: ['all'], except: ['PCMU'] })))).toEqual([0]);
  });

  it('offer reorders and whitelists', () => {
    expect(pts(applyCodecFlags(ALL, flags({ offer: ['opus', 'PCMA'] })))).toEqual([96, 8]);
    expect(pts(applyCodecFlags(ALL, flags({ offer: ['telephone-event', 'PCMU', 'PCMA'] })))).toEqual([101, 0, 8]);
    expect(pts(applyCodecFlags(ALL, flags({ offer: ['speex'] })))).toEqual([97, 98]);
  });

  it('offer protects its codecs from strip all', () => {
    expect(pts(applyCodecFlags(ALL, flags({ strip: ['all'], offer: ['G722', 'PCMU'] })))).toEqual([9, 0]);
  });

  it('offer of unknown codecs only and strip everything restore the original list', () => {
    expect(pts(applyCodecFlags(ALL, flags({ offer: ['AMR'] })))).toEqual(pts(ALL));
    expect(pts(applyCodecFlags(ALL, flags({ strip: ['all'] })))).toEqual(pts(ALL));
    expect(pts(applyCodecFlags([PCMA], flags({ strip: ['PCMA'] })))).toEqual([8]);
    expect(pts(applyCodecFlags(ALL, flags({ strip: ['all'], except: ['AMR'] })))).toEqual(pts(ALL));
  });

  it('duplicated offer entries do not duplicate codecs', () => {
    expect(pts(applyCodecFlags(ALL, flags({ offer: ['PCMA', '8', 'pcma'] })))).toEqual([8]);
  });
});
