/**
 * Codec negotiation as rtpengine does it, case by case (its public codec-negotiation tests show
 * each side's codec list after offer and answer; the cases below follow the same scenarios).
 */
import { describe, expect, it } from 'vitest';
import { negotiateAnswer, negotiateOffer, parseCodecSpec, type CodecAnswer, type CodecOffer, type PreviousCodecs } from '../../../daemon/call/codec-negotiation.js';
import type { CodecFlags, NgFlags } from '../../../daemon/call/flags.js';
import type { SdpCodec } from '../../../daemon/sdp/sdp-model.js';
import { ngFlags as parsedFlags } from '../../helpers/call-context.js';

function pt(payloadType: number, encoding: string, clockRate: number, fmtp?: string): SdpCodec {
  return { payloadType, encoding, clockRate, channels: null, rtpmap: `${payloadType} ${encoding}/${clockRate}`, fmtp: fmtp ? [`${payloadType} ${fmtp}`] : [], rtcpFb: [] };
}
const PCMU = pt(0, 'PCMU', 8000);
const PCMA = pt(8, 'PCMA', 8000);
const G722 = pt(9, 'G722', 8000);
const GSM = pt(3, 'GSM', 8000);
const SILK = pt(104, 'SILK', 16000);
const TE = pt(101, 'telephone-event', 8000, '0-15');
const CN = pt(13, 'CN', 8000);
const CN16 = pt(118, 'CN', 16000);
const OPUS = pt(97, 'opus', 48000);

function ngFlags(codec: Partial<CodecFlags> = {}, words: string[] = [], extra: Partial<NgFlags> = {}): NgFlags {
  const base = parsedFlags({ command: 'offer' });
  return { ...base, codec: { ...base.codec, ...codec }, flags: new Set(words), ...extra };
}
const list = (cs: readonly SdpCodec[]) => cs.map((c) => `${c.payloadType}/${c.encoding}/${c.clockRate}`).join(' ');
const offered = (o: CodecOffer) => list(o.offered.map((x) => x.codec));
const ptime = (n: number) => [{ name: 'ptime', value: String(n) }];

function run(a: SdpCodec[], codec: Partial<CodecFlags>, b: SdpCodec[], words: string[] = [], answerWords: string[] = []): { offer: CodecOffer; answer: CodecAnswer } {
  const offer = negotiateOffer(a, [], ngFlags(codec, words), null);
  const answer = negotiateAnswer(offer, b, ngFlags({}, answerWords));
  return { offer, answer };
}

describe('codec specs', () => {
  it('parses name/rate/channels/bitrate/ptime/fmtp/options, -- as =', () => {
    expect(parseCodecSpec('opus/48000/2/32000')).toMatchObject({ name: 'opus', clockRate: 48000, channels: 2, bitrate: 32000 });
    expect(parseCodecSpec('AMR-WB///mode-set--0')).toMatchObject({ name: 'AMR-WB', clockRate: null, fmtp: null });
    expect(parseCodecSpec('iLBC/8000/1///mode--30')).toMatchObject({ name: 'iLBC', fmtp: 'mode=30' });
    expect(parseCodecSpec('PCMA')).toMatchObject({ name: 'PCMA', clockRate: null, channels: null });
  });
});

describe('offer/answer without transcoding', () => {
  it('plain: one codec both ways, pass-through', () => {
    const { offer, answer } = run([PCMU], {}, [PCMU]);
    expect(offered(offer)).toBe('0/PCMU/8000');
    expect(list(answer.toOfferer)).toBe('0/PCMU/8000');
    expect(answer.forward.every((r) => !r.transcode)).toBe(true);
  });

  it('two offered, one answered: both sides keep the answered codec', () => {
    const { answer } = run([PCMU, PCMA], {}, [PCMA]);
    expect(list(answer.toOfferer)).toBe('8/PCMA/8000');
    expect(list(answer.answerer)).toBe('8/PCMA/8000');
  });

  it('an answered payload type that was not offered is dropped', () => {
    const { answer } = run([PCMU, PCMA, pt(9, 'PCMA', 8000)], {}, [pt(7, 'PCMA', 8000), PCMU, PCMA]);
    expect(list(answer.answerer)).toBe('0/PCMU/8000 8/PCMA/8000');
  });

  it('mask hides a codec from B but adds nothing; answer passes through', () => {
    const a = [SILK, G722, PCMU, PCMA, TE, CN, CN16];
    const { offer, answer } = run(a, { mask: ['PCMU'] }, [PCMA, TE]);
    expect(offered(offer)).toBe('104/SILK/16000 9/G722/8000 8/PCMA/8000 101/telephone-event/8000 13/CN/8000 118/CN/16000');
    expect(list(answer.toOfferer)).toBe('8/PCMA/8000 101/telephone-event/8000');
  });
});

describe('transcode', () => {
  it('adds PCMA to a PCMU offer; B takes only PCMA: transcoding both ways', () => {
    const { offer, answer } = run([PCMU], { transcode: ['PCMA'] }, [PCMA]);
    expect(offered(offer)).toBe('0/PCMU/8000 8/PCMA/8000');
    expect(list(answer.toOfferer)).toBe('0/PCMU/8000');
    expect(answer.forward).toMatchObject([{ inPt: 0, outPt: 8, transcode: true }]);
    expect(answer.reverse).toMatchObject([{ inPt: 8, outPt: 0, transcode: true }]);
  });

  it('B takes both: PCMU passes, PCMA from B is transcoded to PCMU', () => {
    const { answer } = run([PCMU], { transcode: ['PCMA'] }, [PCMU, PCMA]);
    expect(list(answer.toOfferer)).toBe('0/PCMU/8000');
    expect(answer.forward).toMatchObject([{ inPt: 0, outPt: 0, transcode: false }]);
    expect(answer.reverse).toMatchObject([{ inPt: 0, transcode: false }, { inPt: 8, outPt: 0, transcode: true }]);
  });

  it('added codec goes before DTMF/CN; DTMF kept toward A when B takes it', () => {
    const { offer, answer } = run([PCMA, TE], { transcode: ['PCMU'] }, [PCMU, TE]);
    expect(offered(offer)).toBe('8/PCMA/8000 0/PCMU/8000 101/telephone-event/8000');
    expect(list(answer.toOfferer)).toBe('8/PCMA/8000 101/telephone-event/8000');
    expect(answer.forward.find((r) => r.inPt === 101)).toMatchObject({ outPt: 101, transcode: false });
  });

  it('the transcoding engine drops codecs it does not know and CN without a codec of its rate', () => {
    const a = [SILK, G722, PCMU, PCMA, TE, CN, CN16];
    const { offer, answer } = run(a, { mask: ['PCMU'], transcode: ['GSM'] }, [PCMA, TE]);
    // GSM is known to rtpengine but not transcodable here: nothing is added
    expect(offered(offer)).toBe('9/G722/8000 8/PCMA/8000 101/telephone-event/8000 13/CN/8000');
    expect(list(answer.toOfferer)).toBe('8/PCMA/8000 101/telephone-event/8000');
  });

  it('L16 at 16 kHz gets a dynamic payload type and a DTMF entry of its clock rate', () => {
    const { offer, answer } = run([PCMU, TE], { transcode: ['L16/16000'] }, [pt(96, 'L16', 16000), pt(97, 'telephone-event', 16000)]);
    expect(offered(offer)).toBe('0/PCMU/8000 96/L16/16000 101/telephone-event/8000 97/telephone-event/16000');
    expect(offer.offered.find((o) => o.codec.payloadType === 97)?.codec.fmtp).toEqual(['97 0-15']);
    expect(list(answer.toOfferer)).toBe('0/PCMU/8000');
    expect(answer.forward[0]).toMatchObject({ inPt: 0, outPt: 96, transcode: true, outFormat: { name: 'L16', clockRate: 16000 } });
  });

  it('dynamic payload type clashes are avoided', () => {
    const { offer } = run([PCMU, pt(96, 'opus', 48000), pt(97, 'telephone-event', 8000)], { transcode: ['L16/8000'] }, [PCMU]);
    expect(offered(offer)).toContain('98/L16/8000');
  });

  it('strip all + transcode: only the added codec is offered; A keeps its codec', () => {
    const { offer, answer } = run([PCMU], { strip: ['all'], transcode: ['PCMA'] }, [PCMA]);
    expect(offered(offer)).toBe('8/PCMA/8000');
    expect(list(answer.toOfferer)).toBe('0/PCMU/8000');
  });

  it('mask all + transcode of an offered codec restores it without transcoding', () => {
    const { offer, answer } = run([PCMU, PCMA], { mask: ['all'], transcode: ['PCMA'] }, [PCMA]);
    expect(offered(offer)).toBe('8/PCMA/8000');
    expect(answer.forward.find((r) => r.inPt === 8)).toMatchObject({ transcode: false });
  });

  it('a codec stripped by name and transcoded again becomes a new instance', () => {
    const { offer } = run([PCMU, PCMA], { strip: ['PCMA'], transcode: ['PCMA'] }, [PCMA]);
    expect(offered(offer)).toBe('0/PCMU/8000 8/PCMA/8000');
  });

  it('nothing is added when A offers no codec we can decode (answered as rtpengine answers an untranscodable codec)', () => {
    const { offer, answer } = run([G722, OPUS], { transcode: ['PCMA'] }, [G722]);
    expect(offered(offer)).toBe('9/G722/8000 97/opus/48000');
    expect(list(answer.toOfferer)).toBe('9/G722/8000');
  });

  it('unsupported primary codec and B accepting an added codec: A answer lists what passes, then what we can transcode', () => {
    const { answer } = run([OPUS, G722, PCMA], { transcode: ['PCMU'] }, [G722, PCMA, PCMU]);
    expect(list(answer.toOfferer)).toBe('9/G722/8000 8/PCMA/8000');
  });
});

describe('accept / consume / always transcode', () => {
  const A = [SILK, G722, PCMU, PCMA, TE, CN, CN16];

  it('consume: hidden from B, and A is answered with it', () => {
    const { offer, answer } = run(A, { consume: ['PCMU'] }, [PCMA, TE]);
    expect(offered(offer)).toBe('9/G722/8000 8/PCMA/8000 101/telephone-event/8000 13/CN/8000');
    expect(list(answer.toOfferer)).toBe('0/PCMU/8000 101/telephone-event/8000');
    expect(answer.reverse.find((r) => r.inPt === 8)).toMatchObject({ outPt: 0, transcode: true });
  });

  it('accept: still offered, and A is answered with it even if B picks another', () => {
    const { offer, answer } = run(A, { accept: ['PCMU'] }, [PCMA, TE]);
    expect(offered(offer)).toBe('9/G722/8000 0/PCMU/8000 8/PCMA/8000 101/telephone-event/8000 13/CN/8000');
    expect(list(answer.toOfferer)).toBe('0/PCMU/8000 101/telephone-event/8000');
  });

  it('always transcode = accept all: A gets its first codec, B may send any of its codecs', () => {
    const { answer } = run([PCMU, PCMA], {}, [PCMU, PCMA], ['always-transcode']);
    expect(list(answer.toOfferer)).toBe('0/PCMU/8000');
    expect(list(answer.answerer)).toBe('0/PCMU/8000 8/PCMA/8000');
    expect(answer.reverse).toMatchObject([{ inPt: 0, transcode: false }, { inPt: 8, outPt: 0, transcode: true }]);
  });

  it('force transcoding decodes and encodes even the same codec', () => {
    const { answer } = run([PCMU], {}, [PCMU], ['force-transcoding']);
    expect(answer.forward).toMatchObject([{ inPt: 0, outPt: 0, transcode: true }]);
  });

  it('single codec leaves one codec (and DTMF) in the answer', () => {
    const { answer } = run([PCMU, PCMA, TE], {}, [PCMU, PCMA, TE], [], ['single-codec']);
    expect(list(answer.toOfferer)).toBe('0/PCMU/8000 101/telephone-event/8000');
  });

  it('ignore: treated as never offered', () => {
    const { offer } = run([PCMU, PCMA], { ignore: ['PCMA'] }, [PCMU]);
    expect(offered(offer)).toBe('0/PCMU/8000');
    expect(list(offer.sender)).toBe('0/PCMU/8000');
  });
});

describe('ptime', () => {
  it('ptime repacketises A→B; B→A back to A\'s ptime; the answer carries A\'s own ptime', () => {
    const offer = negotiateOffer([PCMU], ptime(50), ngFlags({}, [], { ptime: 30 }), null);
    expect(offer.ptime).toBe(30);
    const answer = negotiateAnswer(offer, [PCMU], ngFlags());
    expect(answer.forward).toMatchObject([{ inPt: 0, outPt: 0, transcode: true, ptime: 30 }]);
    expect(answer.reverse).toMatchObject([{ inPt: 0, outPt: 0, transcode: true, ptime: 50 }]);
    expect(answer.ptimeToOfferer).toBe(50);
  });

  it('ptime-reverse sets the packet time toward the offerer', () => {
    const offer = negotiateOffer([PCMU], ptime(50), ngFlags({}, [], { ptime: 30, ptimeReverse: 20 }), null);
    const answer = negotiateAnswer(offer, [PCMU], ngFlags());
    expect(answer.reverse[0]).toMatchObject({ ptime: 20 });
    expect(answer.ptimeToOfferer).toBe(20);
  });

  it('without ptime flags different packet times pass through unchanged', () => {
    const offer = negotiateOffer([PCMU], [], ngFlags(), null);
    const answer = negotiateAnswer(offer, [PCMU], ngFlags());
    expect(answer.forward[0]).toMatchObject({ transcode: false });
    expect(answer.ptimeToOfferer).toBeUndefined();
  });
});

describe('re-offers', () => {
  function first(words: string[]): PreviousCodecs {
    const offer = negotiateOffer([PCMU, PCMA, G722], [], ngFlags({}, words), null);
    const answer = negotiateAnswer(offer, [PCMU, PCMA, G722], ngFlags({}, words));
    return { offerer: answer.toOfferer, answerer: answer.answerer, offered: offer.offered };
  }

  it('a changed codec order is renegotiated by default', () => {
    const prev = first([]);
    const offer = negotiateOffer([G722, PCMA, PCMU], [], ngFlags(), prev);
    expect(offered(offer)).toBe('9/G722/8000 8/PCMA/8000 0/PCMU/8000');
  });

  it('reuse codecs keeps the previous order', () => {
    const prev = first(['reuse-codecs']);
    const offer = negotiateOffer([G722, PCMA, PCMU], [], ngFlags({}, ['reuse-codecs']), prev);
    expect(list(offer.sender)).toBe('0/PCMU/8000 8/PCMA/8000 9/G722/8000');
    expect(offered(offer)).toBe('0/PCMU/8000 8/PCMA/8000 9/G722/8000');
  });

  it('static codecs keeps the whole previous offer', () => {
    const prev = first([]);
    const offer = negotiateOffer([PCMA], [], ngFlags({}, ['static-codecs']), prev);
    expect(offered(offer)).toBe('0/PCMU/8000 8/PCMA/8000 9/G722/8000');
  });
});

describe('payload type numbering of the answer', () => {
  it('an answerer numbering the same codecs its own way keeps its numbers; routes renumber', () => {
    const A = [PCMU, pt(96, 'opus', 48000), TE];
    const B = [PCMU, pt(97, 'opus', 48000), pt(96, 'telephone-event', 8000)];
    const { answer } = run(A, {}, B);
    expect(list(answer.answerer)).toBe('0/PCMU/8000 97/opus/48000 96/telephone-event/8000');
    expect(list(answer.toOfferer)).toBe('0/PCMU/8000 97/opus/48000 96/telephone-event/8000');
    expect(answer.forward.find((r) => r.inPt === 96)).toMatchObject({ outPt: 97, transcode: false });
    expect(answer.forward.find((r) => r.inPt === 101)).toMatchObject({ outPt: 96, transcode: false });
    expect(answer.reverse.find((r) => r.inPt === 97)).toMatchObject({ outPt: 96, transcode: false });
    expect(answer.reverse.find((r) => r.inPt === 96)).toMatchObject({ outPt: 101, transcode: false });
  });
});
