/**
 * Publish/subscribe write their SDP through the same builder as offer/answer, so the output
 * flags apply to them too: `no-rtcp-attribute`, `media-address`, `generate-mid`, and old-style
 * hold (a publisher at c=0.0.0.0 is passed on to its subscribers as on hold). Auto-daemon style.
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { AutoTest, expectSdp, toCrlf } from '../helpers/autotest.js';
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

async function publish(name: string, flags: Record<string, unknown>, sdpIn: string, expected: string): Promise<void> {
  const reply = await t.request('publish', name, { ...flags, 'from-tag': t.fromTag, sdp: toCrlf(sdpIn) });
  expectSdp(reply.sdp, expected, `${name} - publish answer`);
}

async function subscribe(name: string, flags: Record<string, unknown>, toTag: string, expected: string): Promise<void> {
  const reply = await t.request('subscribe request', name, { ...flags, 'from-tag': t.fromTag, 'to-tag': toTag });
  expectSdp(reply.sdp, expected, `${name} - subscription offer`);
}

const published = `
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio 6000 RTP/AVP 0 8
c=IN IP4 198.51.100.1
a=sendonly
`;

describe('publish/subscribe honour the SDP output flags', () => {
  it('no-rtcp-attribute, media-address and generate-mid in the publish answer and the subscription offer', async () => {
    t.newCall();
    const flags = { flags: ['no-rtcp-attribute', 'generate-mid'], 'media-address': '198.51.100.50' };
    await publish('publish with output flags', flags, published, `
v=0
o=- SDP_VERSION IN IP4 127.0.0.1
s=RTPE_VERSION
t=0 0
m=audio PORT RTP/AVP 0
c=IN IP4 198.51.100.50
a=mid:1
a=rtpmap:0 PCMU/8000
a=recvonly
`);
    await subscribe('subscribe with output flags', flags, 'sub-flags', `
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio PORT RTP/AVP 0
c=IN IP4 198.51.100.50
a=mid:1
a=rtpmap:0 PCMU/8000
a=sendonly
`);
    // the flags belong to the message: a subscription without them gets the plain SDP
    await subscribe('subscribe without output flags', {}, 'sub-plain', `
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio PORT RTP/AVP 0
c=IN IP4 127.0.0.1
a=rtpmap:0 PCMU/8000
a=sendonly
a=rtcp:PORT
`);
  });

  it('full-rtcp-attribute names the address in a=rtcp', async () => {
    t.newCall();
    await publish('publish, full-rtcp-attribute', { flags: ['full-rtcp-attribute'] }, published, `
v=0
o=- SDP_VERSION IN IP4 127.0.0.1
s=RTPE_VERSION
t=0 0
m=audio PORT RTP/AVP 0
c=IN IP4 127.0.0.1
a=rtpmap:0 PCMU/8000
a=recvonly
a=rtcp:PORT IN IP4 127.0.0.1
`);
  });

  it('a publisher on hold (c=0.0.0.0) is offered to subscribers on hold; the publish answer is the relay\'s own', async () => {
    t.newCall();
    await publish('publish on hold', {}, `
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio 6000 RTP/AVP 0
c=IN IP4 0.0.0.0
a=sendonly
`, `
v=0
o=- SDP_VERSION IN IP4 127.0.0.1
s=RTPE_VERSION
t=0 0
m=audio PORT RTP/AVP 0
c=IN IP4 127.0.0.1
a=rtpmap:0 PCMU/8000
a=recvonly
a=rtcp:PORT
`);
    await subscribe('subscribe to a held publisher', {}, 'sub-held', `
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio PORT RTP/AVP 0
c=IN IP4 0.0.0.0
a=rtpmap:0 PCMU/8000
a=sendonly
a=rtcp:PORT
`);
    // a bidirectional subscriber would receive, but the held publisher does not: no "recv"
    await subscribe('bidirectional subscribe to a held publisher', { flags: ['bidirectional'] }, 'sub-held-bidi', `
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio PORT RTP/AVP 0
c=IN IP4 0.0.0.0
a=rtpmap:0 PCMU/8000
a=sendonly
a=rtcp:PORT
`);
  });

  it('the o= options apply to subscription offers as to offers (replace: origin)', async () => {
    t.newCall();
    await publish('publish for replace-origin', {}, published, `
v=0
o=- SDP_VERSION IN IP4 127.0.0.1
s=RTPE_VERSION
t=0 0
m=audio PORT RTP/AVP 0
c=IN IP4 127.0.0.1
a=rtpmap:0 PCMU/8000
a=recvonly
a=rtcp:PORT
`);
    await subscribe('subscribe, replace origin', { replace: ['origin'] }, 'sub-origin', `
v=0
o=- 1545997027 1 IN IP4 127.0.0.1
s=tester
t=0 0
m=audio PORT RTP/AVP 0
c=IN IP4 127.0.0.1
a=rtpmap:0 PCMU/8000
a=sendonly
a=rtcp:PORT
`);
  });
});
