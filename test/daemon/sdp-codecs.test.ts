/**
 * Auto-daemon-style SDP tests: codec manipulation (strip / offer / mask / except) in the
 * dictionary form and the `codec-X-Y` flag form, and `flags` versus `rtpp-flags`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
  await d?.stop('SIGKILL');
});

const IN_0_8_101 = `
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio 2000 RTP/AVP 0 8 101
c=IN IP4 198.51.100.1
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=sendrecv
`;

const OUT_0_101 = `
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio PORT RTP/AVP 0 101
c=IN IP4 127.0.0.1
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=sendrecv
a=rtcp:PORT
`;

const sep = '----------------------------------';
const io = (input: string, output: string) => `${input}${sep}${output}`;

describe('codec strip', () => {
  it('strip by name (dictionary form)', async () => {
    t.newCall();
    await t.offer('strip PCMA dict', { codec: { strip: ['PCMA'] } }, io(IN_0_8_101, OUT_0_101));
  });

  it('strip by name (codec-strip-X flag form)', async () => {
    t.newCall();
    await t.offer('strip PCMA flag', { flags: ['codec-strip-PCMA'] }, io(IN_0_8_101, OUT_0_101));
  });

  it('strip by payload type number', async () => {
    t.newCall();
    await t.offer('strip 8', { codec: { strip: ['8'] } }, io(IN_0_8_101, OUT_0_101));
  });

  it('strip a dynamic codec, its rtpmap and fmtp go with it', async () => {
    t.newCall();
    await t.offer('strip telephone-event', { codec: { strip: ['telephone-event'] } }, io(IN_0_8_101, `
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio PORT RTP/AVP 0 8
c=IN IP4 127.0.0.1
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=sendrecv
a=rtcp:PORT
`));
  });

  it('strip two codecs, then the answer is relayed unchanged', async () => {
    t.newCall();
    await t.offer('strip PCMU+G722', { codec: { strip: ['PCMU', 'G722'] } }, `
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio 2000 RTP/AVP 9 0 8
c=IN IP4 198.51.100.1
a=sendrecv
${sep}
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio PORT RTP/AVP 8
c=IN IP4 127.0.0.1
a=rtpmap:8 PCMA/8000
a=sendrecv
a=rtcp:PORT
`);
    await t.answer('strip PCMU+G722', {}, `
v=0
o=- 1545997028 1 IN IP4 198.51.100.3
s=tester
t=0 0
m=audio 2002 RTP/AVP 8
c=IN IP4 198.51.100.3
a=sendrecv
${sep}
v=0
o=- 1545997028 1 IN IP4 198.51.100.3
s=tester
t=0 0
m=audio PORT RTP/AVP 8
c=IN IP4 127.0.0.1
a=rtpmap:8 PCMA/8000
a=sendrecv
a=rtcp:PORT
`);
  });
});

const IN_0_8_9 = `
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio 2000 RTP/AVP 0 8 9
c=IN IP4 198.51.100.1
a=sendrecv
`;

describe('codec whitelists', () => {
  it('strip all + offer one (dictionary form)', async () => {
    t.newCall();
    await t.offer('strip all, offer PCMA', { codec: { strip: ['all'], offer: ['PCMA'] } }, io(IN_0_8_9, `
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio PORT RTP/AVP 8
c=IN IP4 127.0.0.1
a=rtpmap:8 PCMA/8000
a=sendrecv
a=rtcp:PORT
`));
  });

  it('strip all + offer one (flag form)', async () => {
    t.newCall();
    await t.offer('codec-strip-all codec-offer-G722', { flags: ['codec-strip-all', 'codec-offer-G722'] }, io(IN_0_8_9, `
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio PORT RTP/AVP 9
c=IN IP4 127.0.0.1
a=rtpmap:9 G722/8000
a=sendrecv
a=rtcp:PORT
`));
  });

  it('strip all + except keeps the original order (dictionary form)', async () => {
    t.newCall();
    await t.offer('strip all, except', { codec: { strip: ['all'], except: ['G722', 'PCMU'] } }, io(IN_0_8_9, `
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio PORT RTP/AVP 0 9
c=IN IP4 127.0.0.1
a=rtpmap:0 PCMU/8000
a=rtpmap:9 G722/8000
a=sendrecv
a=rtcp:PORT
`));
  });

  it('strip all + except (flag form)', async () => {
    t.newCall();
    await t.offer('codec-strip-all codec-except', {
      flags: ['codec-strip-all', 'codec-except-G722', 'codec-except-PCMU'],
    }, io(IN_0_8_9, `
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio PORT RTP/AVP 0 9
c=IN IP4 127.0.0.1
a=rtpmap:0 PCMU/8000
a=rtpmap:9 G722/8000
a=sendrecv
a=rtcp:PORT
`));
  });

  it('offer of a codec that was never offered adds nothing', async () => {
    t.newCall();
    await t.offer('offer absent codec', { codec: { strip: ['all'], offer: ['PCMA', 'G729'] } }, `
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio 2000 RTP/AVP 0 8
c=IN IP4 198.51.100.1
a=sendrecv
${sep}
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio PORT RTP/AVP 8
c=IN IP4 127.0.0.1
a=rtpmap:8 PCMA/8000
a=sendrecv
a=rtcp:PORT
`);
  });
});

describe('codec mask', () => {
  it('mask hides a codec from the answerer (dictionary form)', async () => {
    t.newCall();
    await t.offer('mask PCMA', { codec: { mask: ['PCMA'] } }, `
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio 2000 RTP/AVP 0 8
c=IN IP4 198.51.100.1
a=sendrecv
${sep}
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio PORT RTP/AVP 0
c=IN IP4 127.0.0.1
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
`);
    await t.answer('mask PCMA', {}, `
v=0
o=- 1545997028 1 IN IP4 198.51.100.3
s=tester
t=0 0
m=audio 2002 RTP/AVP 0
c=IN IP4 198.51.100.3
a=sendrecv
${sep}
v=0
o=- 1545997028 1 IN IP4 198.51.100.3
s=tester
t=0 0
m=audio PORT RTP/AVP 0
c=IN IP4 127.0.0.1
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
`);
  });

  it('mask (codec-mask-X flag form)', async () => {
    t.newCall();
    await t.offer('codec-mask-PCMU', { flags: ['codec-mask-PCMU'] }, `
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio 2000 RTP/AVP 0 8
c=IN IP4 198.51.100.1
a=sendrecv
${sep}
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio PORT RTP/AVP 8
c=IN IP4 127.0.0.1
a=rtpmap:8 PCMA/8000
a=sendrecv
a=rtcp:PORT
`);
  });
});

describe('flags versus rtpp-flags', () => {
  const input = `
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio 2000 RTP/AVP 0 8 101
c=IN IP4 198.51.100.1
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=rtcp-mux
a=ice-ufrag:abcd1234
a=ice-pwd:abcdefghijklmnopqrstuvwx
a=candidate:1 1 UDP 2130706431 198.51.100.1 2000 typ host
a=sendrecv
`;
  const expected = `
v=0
o=- 1545997027 1 IN IP4 127.0.0.1
s=tester
t=0 0
m=audio PORT RTP/AVP 0 101
c=IN IP4 127.0.0.1
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=sendrecv
a=rtcp:PORT
`;

  it('the same options as a dictionary and as an rtpp-flags string give the same SDP', async () => {
    t.newCall();
    const dictPorts = await t.offer('dictionary form', {
      'transport-protocol': 'RTP/AVP',
      ICE: 'remove',
      'rtcp-mux': ['demux'],
      replace: ['origin'],
      flags: ['trust-address', 'codec-strip-PCMA'],
      label: 'caller',
    }, io(input, expected));
    const dictSdp = String(t.lastReply?.sdp);
    const dictCall = t.callId;
    const dictFrom = t.fromTag;

    t.newCall();
    const strPorts = await t.offer('rtpp-flags form', {
      'rtpp-flags': 'RTP/AVP ICE=remove rtcp-mux-demux replace-origin trust-address codec-strip-PCMA label=caller',
    }, io(input, expected));
    const strSdp = String(t.lastReply?.sdp);

    const normalise = (sdp: string, ports: string[]) => {
      let out = sdp;
      for (const p of ports) out = out.replace(new RegExp(`\\b${p}\\b`, 'g'), 'PORT');
      return out;
    };
    expect(normalise(strSdp, strPorts)).toBe(normalise(dictSdp, dictPorts));

    const q = await t.query('rtpp-flags label');
    expect(q.tags?.[t.fromTag]?.label).toBe('caller');
    const q2 = await t.request('query', 'dict label', { 'call-id': dictCall });
    expect(q2.tags?.[dictFrom]?.label).toBe('caller');
  });

  it('rtpp-flags lists and nested dictionaries', async () => {
    t.newCall();
    await t.offer('rtpp-flags nested', {
      'rtpp-flags': 'replace=[origin] codec=[strip=[PCMA telephone-event]]',
    }, io(input.replace(/a=rtcp-mux\n|a=ice-.*\n|a=candidate.*\n/g, ''), `
v=0
o=- 1545997027 1 IN IP4 127.0.0.1
s=tester
t=0 0
m=audio PORT RTP/AVP 0
c=IN IP4 127.0.0.1
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
`));
  });
});

describe('cleanup', () => {
  it('deletes every call and leaves no leaks', async () => {
    await t.cleanup();
    await expectNoLeaks(d);
  });
});
