/**
 * Auto-daemon-style tests of interfaces as rtpengine configures them: `-i ALIAS=NAME`,
 * `BASE:SUFFIX` names chosen round-robin, several addresses under one name (the next one is
 * used when the first one's port pool is exhausted), and the ng keys `interface`,
 * `from-interface`, `to-interface` and `direction` with names and aliases.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AutoTest } from '../helpers/autotest.js';
import { nextPortRange, startDaemon, type DaemonHandle } from '../helpers/daemon.js';
import { expectNoLeaks } from '../helpers/leaks.js';

const sep = '----------------------------------';

const OFFER = `
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio 2000 RTP/AVP 0
c=IN IP4 198.51.100.1
a=sendrecv
`;
const ANSWER = `
v=0
o=- 1545997028 1 IN IP4 198.51.100.3
s=tester
t=0 0
m=audio 2002 RTP/AVP 0
c=IN IP4 198.51.100.3
a=sendrecv
`;

/** The rewrite of OFFER/ANSWER toward relay address `addr`. */
function out(sdpIn: string, addr: string): string {
  const lines = sdpIn.replace(/^\n/, '').split('\n').filter((l) => l !== '');
  const o = lines.find((l) => l.startsWith('o='))!;
  return `
v=0
${o}
s=tester
t=0 0
m=audio PORT RTP/AVP 0
c=IN IP4 ${addr}
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
`;
}

/** The c= address of an SDP reply. */
function cAddress(sdp: unknown): string {
  return /c=IN IP4 (\S+)/.exec(String(sdp))?.[1] ?? '';
}

describe('aliases: -i pub1/127.0.0.1 -i pub=pub1 -i priv/127.0.0.2 -i blah=priv', () => {
  let d: DaemonHandle;
  let t: AutoTest;
  beforeAll(async () => {
    // `-i blah=foo` style arguments start the daemon (rtpengine's alias syntax)
    d = await startDaemon([], { interfaces: ['pub1/127.0.0.1', 'pub=pub1', 'priv/127.0.0.2', 'blah=priv'] });
    t = new AutoTest(d);
  });
  afterAll(async () => {
    await d?.stop('SIGKILL');
  });

  it('direction with aliases: [pub, blah]', async () => {
    t.newCall();
    await t.offer('alias direction', { direction: ['pub', 'blah'] }, OFFER + sep + out(OFFER, '127.0.0.2'));
    await t.answer('alias direction', {}, ANSWER + sep + out(ANSWER, '127.0.0.1'));
  });

  it('from-interface / to-interface with an alias and a real name', async () => {
    t.newCall();
    await t.offer('alias from/to', { 'from-interface': 'blah', 'to-interface': 'pub1' }, OFFER + sep + out(OFFER, '127.0.0.1'));
    await t.answer('alias from/to', {}, ANSWER + sep + out(ANSWER, '127.0.0.2'));
  });

  it('a re-offer without direction keeps the interfaces, also for a new m= line', async () => {
    t.newCall();
    await t.offer('remembered 1', { direction: ['pub', 'blah'] }, OFFER + sep + out(OFFER, '127.0.0.2'));
    await t.answer('remembered', {}, ANSWER + sep + out(ANSWER, '127.0.0.1'));
    const two = `${OFFER}m=audio 2004 RTP/AVP 0\nc=IN IP4 198.51.100.1\na=sendrecv\n`;
    const [, second] = await t.offer('remembered, new stream', {}, two + sep + out(OFFER, '127.0.0.2') + out(OFFER, '127.0.0.2').split('\n').slice(5).join('\n'));
    expect(second).toBeDefined();
  });

  it('direction in an answer names the answerer\'s side first', async () => {
    t.newCall();
    await t.offer('answer direction', {}, OFFER + sep + out(OFFER, '127.0.0.1'));
    // the answerer moves to priv (its relay port changes), the offerer's side stays on pub
    await t.answer('answer direction', { direction: ['blah', 'pub'] }, ANSWER + sep + out(ANSWER, '127.0.0.1'));
    await t.offer('answer direction, re-offer', {}, OFFER + sep + out(OFFER, '127.0.0.2'));
  });

  it('from-interface/to-interface win over direction', async () => {
    t.newCall();
    await t.offer('to-interface wins', { direction: ['pub', 'pub'], 'to-interface': 'blah' }, OFFER + sep + out(OFFER, '127.0.0.2'));
  });

  it('no direction: the first interface given', async () => {
    t.newCall();
    await t.offer('no direction', {}, OFFER + sep + out(OFFER, '127.0.0.1'));
  });

  it('an unknown name uses the first interface, with a warning naming it', async () => {
    t.newCall();
    await t.offer('unknown interface', { direction: ['pub', 'nowhere'] }, OFFER + sep + out(OFFER, '127.0.0.1'));
    // logs are written asynchronously: give them a moment
    for (let i = 0; i < 40 && !/Interface 'nowhere' not found/.test(d.stderr()); i++) await new Promise((r) => setTimeout(r, 50));
    expect(d.stderr()).toMatch(/Interface 'nowhere' not found, using default/);
  });

  it('publish and subscribe request take `interface` (name or alias)', async () => {
    t.newCall();
    const pub = await t.request('publish', 'publish interface', {
      'from-tag': t.fromTag,
      interface: 'blah',
      sdp: OFFER.replace(/^\n/, '').replace('a=sendrecv', 'a=sendonly').replace(/\n/g, '\r\n'),
    });
    expect(cAddress(pub.sdp)).toBe('127.0.0.2');
    const sub = await t.request('subscribe request', 'subscribe interface', { 'from-tag': t.fromTag, 'to-tag': t.toTag, interface: 'pub' });
    expect(cAddress(sub.sdp)).toBe('127.0.0.1');
  });

  it('deletes every call and leaves no leaks', async () => {
    await t.cleanup();
    await expectNoLeaks(d);
  });
});

describe('round-robin: -i priv/127.0.0.2 -i rr:1/127.0.0.3 -i rr:2/127.0.0.4', () => {
  let d: DaemonHandle;
  let t: AutoTest;
  beforeAll(async () => {
    d = await startDaemon([], { interfaces: ['priv/127.0.0.2', 'rr:1/127.0.0.3', 'rr:2/127.0.0.4'] });
    t = new AutoTest(d);
  });
  afterAll(async () => {
    await d?.stop('SIGKILL');
  });

  it('direction [priv, rr]: new calls alternate between rr:1 and rr:2', async () => {
    const seen: string[] = [];
    for (let i = 0; i < 4; i++) {
      t.newCall();
      await t.offer(`rr call ${i}`, { direction: ['priv', 'rr'] }, OFFER + sep + out(OFFER, '127.0.0.?'));
      seen.push(cAddress(t.lastReply?.sdp));
    }
    expect(seen[0]).not.toBe(seen[1]);
    expect(seen).toEqual([seen[0], seen[1], seen[0], seen[1]]);
    expect(new Set(seen)).toEqual(new Set(['127.0.0.3', '127.0.0.4']));
  });

  it('a re-offer keeps the interface round-robin chose', async () => {
    t.newCall();
    const [port] = await t.offer('rr re-offer 1', { direction: ['priv', 'rr'] }, OFFER + sep + out(OFFER, '127.0.0.?'));
    const first = cAddress(t.lastReply?.sdp);
    for (let i = 0; i < 3; i++) {
      const [again] = await t.offer(`rr re-offer ${i + 2}`, { direction: ['priv', 'rr'] }, OFFER + sep + out(OFFER, first));
      expect(again).toBe(port);
    }
  });

  it('all m= lines of one side go on the interface round-robin chose for it', async () => {
    for (let i = 0; i < 2; i++) {
      t.newCall();
      const two = `${OFFER}m=audio 2004 RTP/AVP 0\nc=IN IP4 198.51.100.1\na=sendrecv\n`;
      await t.offer(`rr two streams ${i}`, { direction: ['priv', 'rr'] }, two + sep + out(OFFER, '127.0.0.?') + out(OFFER, '127.0.0.?').split('\n').slice(5).join('\n'));
      const addrs = [...String(t.lastReply?.sdp).matchAll(/c=IN IP4 (\S+)/g)].map((m) => m[1]);
      expect(addrs[0]).toBe(addrs[1]);
    }
  });

  it('a suffixed name still selects that interface alone', async () => {
    t.newCall();
    await t.offer('rr:2 direct', { direction: ['priv', 'rr:2'] }, OFFER + sep + out(OFFER, '127.0.0.4'));
    t.newCall();
    await t.offer('rr:2 direct again', { direction: ['priv', 'rr:2'] }, OFFER + sep + out(OFFER, '127.0.0.4'));
  });

  it('deletes every call and leaves no leaks', async () => {
    await t.cleanup();
    await expectNoLeaks(d);
  });
});

describe('several addresses under one name, one port pair each: -i pub/127.0.0.5 -i pub/127.0.0.6', () => {
  let d: DaemonHandle;
  let t: AutoTest;
  beforeAll(async () => {
    const [min] = nextPortRange();
    // two ports: one RTP/RTCP pair per address
    d = await startDaemon([], { interfaces: ['pub/127.0.0.5', 'pub/127.0.0.6'], portRange: [min, min + 1] });
    t = new AutoTest(d);
  });
  afterAll(async () => {
    await d?.stop('SIGKILL');
  });

  it('the first address is primary; an exhausted pool moves on to the next; all exhausted: "Ran out of ports"', async () => {
    t.newCall();
    // the offerer's side takes the primary's only pair; the answerer's side falls back to .6
    await t.offer('fallback', { direction: ['pub', 'pub'] }, OFFER + sep + out(OFFER, '127.0.0.6'));
    await t.answer('fallback', {}, ANSWER + sep + out(ANSWER, '127.0.0.5'));
    const first = t.callId;

    t.newCall();
    expect(await t.offerError('exhausted', { direction: ['pub', 'pub'] }, OFFER)).toBe('Ran out of ports');

    // the pairs come back with the call
    await t.deleteCall(first);
    t.newCall();
    await t.offer('after release', { direction: ['pub', 'pub'] }, OFFER + sep + out(OFFER, '127.0.0.6'));
    await t.answer('after release', {}, ANSWER + sep + out(ANSWER, '127.0.0.5'));
  });

  it('deletes every call and leaves no leaks', async () => {
    await t.cleanup();
    await expectNoLeaks(d);
  });
});
