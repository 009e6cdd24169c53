/**
 * Auto-daemon-style SDP tests of codec negotiation with transcoding: the codec dictionary
 * (transcode, mask, consume, accept, strip all, ignore) in dictionary, `flags` and rtpp-flags
 * form, `always transcode`, `single codec`, `ptime`/`ptime-reverse`, dynamic payload types,
 * codecs we cannot transcode, and re-INVITEs with `reuse codecs`.
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { AutoTest } from '../helpers/autotest.js';
import { startDaemon, type DaemonHandle } from '../helpers/daemon.js';
import { expectNoLeaks } from '../helpers/leaks.js';

let d: DaemonHandle;
let t: AutoTest;

beforeAll(async () => {
  d = await startDaemon();
  t = new AutoTest(d);
});

afterAll(async () => {
  await t.cleanup();
  await expectNoLeaks(d);
});

const sep = '----------------------------------';
const io = (input: string, output: string) => `${input}${sep}${output}`;

function sdpIn(port: number, formats: string, lines: string[] = [], address = '198.51.100.1'): string {
  return ['', 'v=0', `o=- 1545997027 1 IN IP4 ${address}`, 's=tester', 't=0 0', `m=audio ${port} RTP/AVP ${formats}`,
    `c=IN IP4 ${address}`, ...lines, 'a=sendrecv', ''].join('\n');
}

function sdpOut(formats: string, rtpmaps: string[], trailing: string[] = [], address = '198.51.100.1'): string {
  return ['', 'v=0', `o=- 1545997027 1 IN IP4 ${address}`, 's=tester', 't=0 0', `m=audio PORT RTP/AVP ${formats}`,
    'c=IN IP4 127.0.0.1', ...rtpmaps.map((r) => (r.startsWith('fmtp:') ? `a=${r}` : `a=rtpmap:${r}`)), 'a=sendrecv', 'a=rtcp:PORT', ...trailing, ''].join('\n');
}

describe('transcode', () => {
  it('adds PCMA to a PCMU offer; the answerer takes PCMA; the offerer is answered PCMU', async () => {
    t.newCall();
    await t.offer('tc PCMA', { codec: { transcode: ['PCMA'] } }, io(sdpIn(2000, '0'), sdpOut('0 8', ['0 PCMU/8000', '8 PCMA/8000'])));
    await t.answer('tc PCMA', {}, io(sdpIn(2002, '8', [], '198.51.100.3'), sdpOut('0', ['0 PCMU/8000'], [], '198.51.100.3')));
  });

  it('flag forms: codec-transcode-X in flags, transcode-X and codec-transcode-X in rtpp-flags', async () => {
    for (const msg of [{ flags: ['codec-transcode-PCMA'] }, { 'rtpp-flags': 'transcode-PCMA' }, { 'rtpp-flags': 'codec-transcode-PCMA' }, { 'rtpp-flags': 'codec=[transcode=[PCMA]]' }]) {
      t.newCall();
      await t.offer('tc PCMA flag form', msg, io(sdpIn(2000, '0'), sdpOut('0 8', ['0 PCMU/8000', '8 PCMA/8000'])));
    }
  });

  it('the added codec goes before telephone-event; DTMF stays toward the offerer', async () => {
    t.newCall();
    await t.offer('tc + DTMF', { codec: { transcode: ['PCMA'] } }, io(
      sdpIn(2000, '0 101', ['a=rtpmap:101 telephone-event/8000']),
      sdpOut('0 8 101', ['0 PCMU/8000', '8 PCMA/8000', '101 telephone-event/8000'])));
    await t.answer('tc + DTMF', {}, io(
      sdpIn(2002, '8 101', ['a=rtpmap:101 telephone-event/8000'], '198.51.100.3'),
      sdpOut('0 101', ['0 PCMU/8000', '101 telephone-event/8000'], [], '198.51.100.3')));
  });

  it('answerer takes the offered codec: pass-through, the answer lists it', async () => {
    t.newCall();
    await t.offer('tc, pass', { codec: { transcode: ['PCMU'] } }, io(sdpIn(2000, '8'), sdpOut('8 0', ['8 PCMA/8000', '0 PCMU/8000'])));
    await t.answer('tc, pass', {}, io(sdpIn(2002, '8', [], '198.51.100.3'), sdpOut('8', ['8 PCMA/8000'], [], '198.51.100.3')));
  });

  it('strip all + transcode: only the new codec is offered', async () => {
    t.newCall();
    await t.offer('strip all tc', { flags: ['codec-strip-all', 'codec-transcode-PCMA'] }, io(sdpIn(2000, '0'), sdpOut('8', ['8 PCMA/8000'])));
    await t.answer('strip all tc', {}, io(sdpIn(2002, '8', [], '198.51.100.3'), sdpOut('0', ['0 PCMU/8000'], [], '198.51.100.3')));
  });

  it('L16/16000 gets a dynamic payload type and DTMF for its clock rate', async () => {
    t.newCall();
    await t.offer('tc L16', { codec: { transcode: ['L16/16000'] } }, io(
      sdpIn(2000, '0 101', ['a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-15']),
      sdpOut('0 96 101 97', ['0 PCMU/8000', '96 L16/16000', '101 telephone-event/8000', 'fmtp:101 0-15', '97 telephone-event/16000', 'fmtp:97 0-15'])));
  });

  it('the transcoding engine drops codecs it does not know; codecs it cannot transcode are not added', async () => {
    t.newCall();
    await t.offer('unknown dropped', { codec: { transcode: ['PCMA', 'opus'] } }, io(
      sdpIn(2000, '104 0 118', ['a=rtpmap:104 SILK/16000', 'a=rtpmap:118 CN/16000']),
      sdpOut('0 8', ['0 PCMU/8000', '8 PCMA/8000'])));
  });

  it('an offer of codecs we cannot decode (G.722, opus) is negotiated untouched', async () => {
    t.newCall();
    await t.offer('G722 opus', { codec: { transcode: ['PCMA'] } }, io(
      sdpIn(2000, '9 96', ['a=rtpmap:96 opus/48000/2']),
      sdpOut('9 96', ['9 G722/8000', '96 opus/48000/2'])));
    await t.answer('G722 opus', {}, io(sdpIn(2002, '96', ['a=rtpmap:96 opus/48000/2'], '198.51.100.3'), sdpOut('96', ['96 opus/48000/2'], [], '198.51.100.3')));
  });
});

describe('mask, consume, accept, always transcode, single codec, ignore', () => {
  const A = sdpIn(2000, '0 8 101', ['a=rtpmap:101 telephone-event/8000']);

  it('mask hides PCMU from B; the answer passes through', async () => {
    t.newCall();
    await t.offer('mask', { codec: { mask: ['PCMU'] } }, io(A, sdpOut('8 101', ['8 PCMA/8000', '101 telephone-event/8000'])));
    await t.answer('mask', {}, io(sdpIn(2002, '8 101', ['a=rtpmap:101 telephone-event/8000'], '198.51.100.3'),
      sdpOut('8 101', ['8 PCMA/8000', '101 telephone-event/8000'], [], '198.51.100.3')));
  });

  it('consume: hidden from B and the offerer gets it back in the answer', async () => {
    t.newCall();
    await t.offer('consume', { codec: { consume: ['PCMU'] } }, io(A, sdpOut('8 101', ['8 PCMA/8000', '101 telephone-event/8000'])));
    await t.answer('consume', {}, io(sdpIn(2002, '8 101', ['a=rtpmap:101 telephone-event/8000'], '198.51.100.3'),
      sdpOut('0 101', ['0 PCMU/8000', '101 telephone-event/8000'], [], '198.51.100.3')));
  });

  it('accept: still offered; the offerer gets it even if B picks another', async () => {
    t.newCall();
    await t.offer('accept', { codec: { accept: ['PCMU'] } }, io(A, sdpOut('0 8 101', ['0 PCMU/8000', '8 PCMA/8000', '101 telephone-event/8000'])));
    await t.answer('accept', {}, io(sdpIn(2002, '8 101', ['a=rtpmap:101 telephone-event/8000'], '198.51.100.3'),
      sdpOut('0 101', ['0 PCMU/8000', '101 telephone-event/8000'], [], '198.51.100.3')));
  });

  it('always transcode: the offerer is answered with its first codec only', async () => {
    t.newCall();
    await t.offer('always tc', { flags: ['always transcode'] }, io(A, sdpOut('0 8 101', ['0 PCMU/8000', '8 PCMA/8000', '101 telephone-event/8000'])));
    await t.answer('always tc', {}, io(sdpIn(2002, '0 8 101', ['a=rtpmap:101 telephone-event/8000'], '198.51.100.3'),
      sdpOut('0 101', ['0 PCMU/8000', '101 telephone-event/8000'], [], '198.51.100.3')));
  });

  it('single codec in the answer', async () => {
    t.newCall();
    await t.offer('single', {}, io(A, sdpOut('0 8 101', ['0 PCMU/8000', '8 PCMA/8000', '101 telephone-event/8000'])));
    await t.answer('single', { flags: ['single codec'] }, io(sdpIn(2002, '0 8 101', ['a=rtpmap:101 telephone-event/8000'], '198.51.100.3'),
      sdpOut('0 101', ['0 PCMU/8000', '101 telephone-event/8000'], [], '198.51.100.3')));
  });

  it('without transcoding the offer keeps the offerer\'s order, DTMF first included', async () => {
    t.newCall();
    await t.offer('order kept', {}, io(sdpIn(2000, '101 0 8', ['a=rtpmap:101 telephone-event/8000']),
      sdpOut('101 0 8', ['101 telephone-event/8000', '0 PCMU/8000', '8 PCMA/8000'])));
  });

  it('ignore: as if never offered', async () => {
    t.newCall();
    await t.offer('ignore', { codec: { ignore: ['PCMA'] } }, io(A, sdpOut('0 101', ['0 PCMU/8000', '101 telephone-event/8000'])));
  });
});

describe('ptime', () => {
  it('ptime=30 toward B; no a=ptime back to A when A had none', async () => {
    t.newCall();
    await t.offer('ptime 30', { ptime: 30 }, io(sdpIn(3004, '0'), sdpOut('0', ['0 PCMU/8000'], ['a=ptime:30'])));
    await t.answer('ptime 30', {}, io(sdpIn(3006, '0', [], '198.51.100.3'), sdpOut('0', ['0 PCMU/8000'], [], '198.51.100.3')));
  });

  it('ptime 50 in, 30 out; answer 30 comes back to A as its own 50', async () => {
    t.newCall();
    await t.offer('50 to 30', { ptime: 30 }, io(sdpIn(3012, '0', ['a=ptime:50']), sdpOut('0', ['0 PCMU/8000'], ['a=ptime:30'])));
    await t.answer('50 to 30', {}, io(sdpIn(3014, '0', ['a=ptime:30'], '198.51.100.3'), sdpOut('0', ['0 PCMU/8000'], ['a=ptime:50'], '198.51.100.3')));
  });

  it('ptime-reverse sets the answer\'s a=ptime (also via rtpp-flags)', async () => {
    t.newCall();
    await t.offer('reverse', { 'rtpp-flags': 'ptime=30 ptime-reverse=20' }, io(sdpIn(3016, '0', ['a=ptime:50']), sdpOut('0', ['0 PCMU/8000'], ['a=ptime:30'])));
    await t.answer('reverse', {}, io(sdpIn(3018, '0', [], '198.51.100.3'), sdpOut('0', ['0 PCMU/8000'], ['a=ptime:20'], '198.51.100.3')));
  });

  it('without ptime flags the answer\'s ptime passes through', async () => {
    t.newCall();
    await t.offer('no change', {}, io(sdpIn(3008, '0'), sdpOut('0', ['0 PCMU/8000'])));
    await t.answer('no change', {}, io(sdpIn(3010, '0', ['a=ptime:30'], '198.51.100.3'), sdpOut('0', ['0 PCMU/8000'], ['a=ptime:30'], '198.51.100.3')));
  });
});

describe('re-INVITE', () => {
  const A1 = sdpIn(4000, '0 8 9');
  const A2 = sdpIn(4000, '9 8 0');
  const B = sdpIn(4002, '0 8 9', [], '198.51.100.3');

  it('a re-offer in a new order is renegotiated', async () => {
    t.newCall();
    await t.offer('reneg 1', {}, io(A1, sdpOut('0 8 9', ['0 PCMU/8000', '8 PCMA/8000', '9 G722/8000'])));
    await t.answer('reneg 1', {}, io(B, sdpOut('0 8 9', ['0 PCMU/8000', '8 PCMA/8000', '9 G722/8000'], [], '198.51.100.3')));
    await t.offer('reneg 2', {}, io(A2, sdpOut('9 8 0', ['9 G722/8000', '8 PCMA/8000', '0 PCMU/8000'])));
  });

  it('reuse codecs keeps the negotiated order', async () => {
    t.newCall();
    await t.offer('reuse 1', { flags: ['reuse codecs'] }, io(A1, sdpOut('0 8 9', ['0 PCMU/8000', '8 PCMA/8000', '9 G722/8000'])));
    await t.answer('reuse 1', { flags: ['reuse codecs'] }, io(B, sdpOut('0 8 9', ['0 PCMU/8000', '8 PCMA/8000', '9 G722/8000'], [], '198.51.100.3')));
    await t.offer('reuse 2', { flags: ['no codec renegotiation'] }, io(A2, sdpOut('0 8 9', ['0 PCMU/8000', '8 PCMA/8000', '9 G722/8000'])));
  });

  it('a new to-tag (forked answer) with other codecs answers the same offer its own way', async () => {
    t.newCall();
    await t.offer('fork', { codec: { transcode: ['PCMA'] } }, io(sdpIn(4000, '0'), sdpOut('0 8', ['0 PCMU/8000', '8 PCMA/8000'])));
    await t.answer('fork 1', {}, io(sdpIn(4002, '8', [], '198.51.100.3'), sdpOut('0', ['0 PCMU/8000'], [], '198.51.100.3')));
    await t.answer('fork 2', { 'to-tag': 'other-branch', flags: ['new-branch'] }, io(sdpIn(4004, '0 8', [], '198.51.100.4'),
      sdpOut('0', ['0 PCMU/8000'], [], '198.51.100.4')));
  });

  it('a re-offer that drops transcoding answers pass-through again', async () => {
    t.newCall();
    await t.offer('tc then not 1', { codec: { transcode: ['PCMA'] } }, io(sdpIn(4000, '0'), sdpOut('0 8', ['0 PCMU/8000', '8 PCMA/8000'])));
    await t.answer('tc then not 1', {}, io(sdpIn(4002, '8', [], '198.51.100.3'), sdpOut('0', ['0 PCMU/8000'], [], '198.51.100.3')));
    await t.offer('tc then not 2', {}, io(sdpIn(4000, '0 8'), sdpOut('0 8', ['0 PCMU/8000', '8 PCMA/8000'])));
    await t.answer('tc then not 2', {}, io(sdpIn(4002, '8', [], '198.51.100.3'), sdpOut('8', ['8 PCMA/8000'], [], '198.51.100.3')));
  });
});
