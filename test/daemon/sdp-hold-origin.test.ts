/**
 * Auto-daemon-style SDP tests found by running rtpengine's own scripts through perl-compat:
 * old-style hold (c=0.0.0.0), a=ptime/a=maxptime last, `replace: username | origin-full`,
 * and rtpengine commands we do not implement being refused clearly.
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
  await t.cleanup();
  await expectNoLeaks(d);
});

const sep = '----------------------------------';

describe('old-style hold with c=0.0.0.0', () => {
  it('keeps the null address and drops "recv" from the direction (sendrecv → sendonly, recvonly → inactive)', async () => {
    t.newCall();
    await t.offer('hold 0.0.0.0 offer', {}, `
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio 2000 RTP/AVP 0
c=IN IP4 0.0.0.0
a=sendrecv
${sep}
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
    await t.answer('hold 0.0.0.0 answer', {}, `
v=0
o=- 1545997028 1 IN IP4 198.51.100.3
s=tester
t=0 0
m=audio 2002 RTP/AVP 0
c=IN IP4 0.0.0.0
a=recvonly
${sep}
v=0
o=- 1545997028 1 IN IP4 198.51.100.3
s=tester
t=0 0
m=audio PORT RTP/AVP 0
c=IN IP4 0.0.0.0
a=rtpmap:0 PCMU/8000
a=inactive
a=rtcp:PORT
`);
  });

  it('original-sendrecv keeps the direction, the address stays null', async () => {
    t.newCall();
    await t.offer('hold 0.0.0.0 original-sendrecv', { flags: ['original-sendrecv'] }, `
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio 2000 RTP/AVP 0
c=IN IP4 0.0.0.0
a=sendrecv
${sep}
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio PORT RTP/AVP 0
c=IN IP4 0.0.0.0
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
`);
  });
});

describe('old-style hold with replace origin', () => {
  it('o= gets the relay address, not the hold address', async () => {
    t.newCall();
    await t.offer('hold 0.0.0.0 replace origin', { replace: ['origin'] }, `
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio 2000 RTP/AVP 0
c=IN IP4 0.0.0.0
a=sendonly
${sep}
v=0
o=- 1545997027 1 IN IP4 127.0.0.1
s=tester
t=0 0
m=audio PORT RTP/AVP 0
c=IN IP4 0.0.0.0
a=rtpmap:0 PCMU/8000
a=sendonly
a=rtcp:PORT
`);
  });
});

describe('packetisation attributes', () => {
  it('a=ptime and a=maxptime come last, after a=rtcp', async () => {
    t.newCall();
    await t.offer('maxptime last', {}, `
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio 2000 RTP/AVP 8
c=IN IP4 198.51.100.1
a=maxptime:60
a=x-thing
a=ptime:20
a=sendrecv
${sep}
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio PORT RTP/AVP 8
c=IN IP4 127.0.0.1
a=x-thing
a=rtpmap:8 PCMA/8000
a=sendrecv
a=rtcp:PORT
a=ptime:20
a=maxptime:60
`);
  });
});

describe('replace username and origin-full', () => {
  const offerSdp = (user: string, id: string, version: number) => `
v=0
o=${user} ${id} ${version} IN IP4 198.51.100.1
s=tester
t=0 0
m=audio 2000 RTP/AVP 8
c=IN IP4 198.51.100.1
a=sendrecv
${sep}
`;
  const out = (origin: string) => `v=0
o=${origin}
s=tester
t=0 0
m=audio PORT RTP/AVP 8
c=IN IP4 127.0.0.1
a=rtpmap:8 PCMA/8000
a=sendrecv
a=rtcp:PORT
`;

  it('username: the first o= username is kept for later SDPs', async () => {
    t.newCall();
    await t.offer('username 1', { replace: ['username'] }, offerSdp('test', '1545997027', 1) + out('test 1545997027 1 IN IP4 198.51.100.1'));
    await t.offer('username 2', { replace: ['username'] }, offerSdp('test2', '1545997027', 2) + out('test 1545997027 2 IN IP4 198.51.100.1'));
  });

  it('origin-full: the whole first o= is kept, with the relay address in it', async () => {
    t.newCall();
    await t.offer('origin-full 1', { replace: ['origin-full'] }, offerSdp('test', '1545997027', 1) + out('test 1545997027 1 IN IP4 127.0.0.1'));
    await t.offer('origin-full 2', { replace: ['origin-full'] }, offerSdp('other', '99', 5) + out('test 1545997027 1 IN IP4 127.0.0.1'));
    // a changed body (new media port, hence a new relay port) raises the kept o= version by one
    await t.offer('origin-full 3', { replace: ['origin-full'] }, offerSdp('test', '1545997027', 2).replace('m=audio 2000', 'm=audio 2002')
      + out('test 1545997027 2 IN IP4 127.0.0.1'));
  });
});

describe('rtpengine commands not implemented here', () => {
  it('are refused with a clear reason, distinct from an unknown command', async () => {
    for (const command of ['start recording', 'stop recording', 'pause recording']) {
      const reply = await d.ng.request({ command, 'call-id': 'x' });
      expect(reply.result).toBe('error');
      expect(reply['error-reason']).toBe(`Command not implemented by rtpengine-ts yet: ${command}`);
    }
  });
});
