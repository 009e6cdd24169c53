/**
 * Auto-daemon-style SDP tests about addresses: IPv4 and IPv6, `address family` bridging,
 * `direction` with named interfaces, advertised addresses, `received-from` with
 * `SIP-source-address`, and `media-address`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AutoTest } from '../helpers/autotest.js';
import { startDaemon, type DaemonHandle } from '../helpers/daemon.js';
import { expectNoLeaks } from '../helpers/leaks.js';

const sep = '----------------------------------';

const V4_OFFER = `
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio 2000 RTP/AVP 0
c=IN IP4 198.51.100.1
a=sendrecv
`;
const V4_ANSWER = `
v=0
o=- 1545997028 1 IN IP4 198.51.100.3
s=tester
t=0 0
m=audio 2002 RTP/AVP 0
c=IN IP4 198.51.100.3
a=sendrecv
`;
const V6_OFFER = `
v=0
o=- 1545997027 1 IN IP6 2001:db8:4321::1
s=tester
t=0 0
m=audio 2000 RTP/AVP 0
c=IN IP6 2001:db8:4321::1
a=sendrecv
`;
const V6_ANSWER = `
v=0
o=- 1545997028 1 IN IP6 2001:db8:4321::3
s=tester
t=0 0
m=audio 2002 RTP/AVP 0
c=IN IP6 2001:db8:4321::3
a=sendrecv
`;

/** The default rewrite of one of the SDPs above, toward relay address `addr`. */
function out(sdpIn: string, family: 'IP4' | 'IP6', addr: string, origin?: string): string {
  const lines = sdpIn.replace(/^\n/, '').split('\n').filter((l) => l !== '');
  const o = lines.find((l) => l.startsWith('o='))!;
  const oOut = origin ? o.replace(/IN IP[46] \S+$/, `IN ${origin}`) : o;
  const m = lines.find((l) => l.startsWith('m='))!.replace(/^m=audio \d+/, 'm=audio PORT');
  return `
v=0
${oOut}
s=tester
t=0 0
${m}
c=IN ${family} ${addr}
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
`;
}

describe('dual stack: -i 127.0.0.1 -i ::1', () => {
  let d: DaemonHandle;
  let t: AutoTest;
  beforeAll(async () => {
    d = await startDaemon([], { interfaces: ['127.0.0.1', '::1'] });
    t = new AutoTest(d);
  });
  afterAll(async () => {
    await d?.stop('SIGKILL');
  });

  it('IPv4 in, IPv4 out', async () => {
    t.newCall();
    await t.offer('v4', {}, V4_OFFER + sep + out(V4_OFFER, 'IP4', '127.0.0.1'));
    await t.answer('v4', {}, V4_ANSWER + sep + out(V4_ANSWER, 'IP4', '127.0.0.1'));
  });

  it('IPv6 in, IPv6 out', async () => {
    t.newCall();
    await t.offer('v6', {}, V6_OFFER + sep + out(V6_OFFER, 'IP6', '::1'));
    await t.answer('v6', {}, V6_ANSWER + sep + out(V6_ANSWER, 'IP6', '::1'));
  });

  it('address family IP6 bridges an IPv4 offerer to an IPv6 answerer', async () => {
    t.newCall();
    await t.offer('v4 to v6', { 'address family': 'IP6' }, V4_OFFER + sep + out(V4_OFFER, 'IP6', '::1'));
    await t.answer('v4 to v6', {}, V6_ANSWER + sep + out(V6_ANSWER, 'IP4', '127.0.0.1'));
  });

  it('address-family IP4 bridges an IPv6 offerer to an IPv4 answerer', async () => {
    t.newCall();
    await t.offer('v6 to v4', { 'address-family': 'IP4' }, V6_OFFER + sep + out(V6_OFFER, 'IP4', '127.0.0.1'));
    await t.answer('v6 to v4', {}, V4_ANSWER + sep + out(V4_ANSWER, 'IP6', '::1'));
  });

  it('replace origin follows the outgoing address family', async () => {
    t.newCall();
    await t.offer('v4 to v6 origin', { 'address family': 'IP6', replace: ['origin'] },
      V4_OFFER + sep + out(V4_OFFER, 'IP6', '::1', 'IP6 ::1'));
    await t.answer('v4 to v6 origin', { replace: ['origin'] },
      V6_ANSWER + sep + out(V6_ANSWER, 'IP4', '127.0.0.1', 'IP4 127.0.0.1'));
  });

  it('received-from is the media endpoint only with SIP-source-address', async () => {
    t.newCall();
    await t.offer('trust address (default)', { 'received-from': ['IP4', '198.51.100.77'] },
      V4_OFFER + sep + out(V4_OFFER, 'IP4', '127.0.0.1'));
    let q = await t.query('trust address');
    expect(q.tags?.[t.fromTag]?.medias?.[0]?.streams?.[0]?.endpoint)
      .toMatchObject({ address: '198.51.100.1', port: 2000 });

    t.newCall();
    await t.offer('SIP-source-address', { 'received-from': ['IP4', '198.51.100.77'], flags: ['SIP-source-address'] },
      V4_OFFER + sep + out(V4_OFFER, 'IP4', '127.0.0.1'));
    q = await t.query('SIP-source-address');
    expect(q.tags?.[t.fromTag]?.medias?.[0]?.streams?.[0]?.endpoint,
      'the address comes from received-from, the port from the SDP')
      .toMatchObject({ address: '198.51.100.77', port: 2000 });
  });

  it('received-from with an IPv6 source address', async () => {
    t.newCall();
    await t.offer('SIP-source-address v6', { 'received from': ['IP6', '2001:db8:4321::77'], flags: ['SIP source address'] },
      V6_OFFER + sep + out(V6_OFFER, 'IP6', '::1'));
    const q = await t.query('SIP-source-address v6');
    expect(q.tags?.[t.fromTag]?.medias?.[0]?.streams?.[0]?.endpoint)
      .toMatchObject({ address: '2001:db8:4321::77', port: 2000 });
  });

  it('media-address is the address written into the outgoing SDP (as rtpengine does)', async () => {
    t.newCall();
    await t.offer('media-address', { 'media-address': '203.0.113.50' },
      V4_OFFER + sep + out(V4_OFFER, 'IP4', '203.0.113.50'));
  });

  it('deletes every call and leaves no leaks', async () => {
    await t.cleanup();
    await expectNoLeaks(d);
  });
});

describe('named interfaces: -i internal/127.0.0.1 -i external/127.0.0.2', () => {
  let d: DaemonHandle;
  let t: AutoTest;
  beforeAll(async () => {
    d = await startDaemon([], { interfaces: ['internal/127.0.0.1', 'external/127.0.0.2'] });
    t = new AutoTest(d);
  });
  afterAll(async () => {
    await d?.stop('SIGKILL');
  });

  it('direction [internal, external]: the answerer sees external, the offerer internal', async () => {
    t.newCall();
    await t.offer('internal→external', { direction: ['internal', 'external'] },
      V4_OFFER + sep + out(V4_OFFER, 'IP4', '127.0.0.2'));
    await t.answer('internal→external', {}, V4_ANSWER + sep + out(V4_ANSWER, 'IP4', '127.0.0.1'));
  });

  it('direction [external, internal] the other way round', async () => {
    t.newCall();
    await t.offer('external→internal', { direction: ['external', 'internal'] },
      V4_OFFER + sep + out(V4_OFFER, 'IP4', '127.0.0.1'));
    await t.answer('external→internal', {}, V4_ANSWER + sep + out(V4_ANSWER, 'IP4', '127.0.0.2'));
  });

  it('direction is remembered for re-offers without it', async () => {
    t.newCall();
    const [p1] = await t.offer('direction remembered 1', { direction: ['internal', 'external'] },
      V4_OFFER + sep + out(V4_OFFER, 'IP4', '127.0.0.2'));
    await t.answer('direction remembered', {}, V4_ANSWER + sep + out(V4_ANSWER, 'IP4', '127.0.0.1'));
    const [p2] = await t.offer('direction remembered 2', {}, V4_OFFER + sep + out(V4_OFFER, 'IP4', '127.0.0.2'));
    expect(p2).toBe(p1);
  });

  it('replace origin uses the address of the outgoing interface', async () => {
    t.newCall();
    await t.offer('origin external', { direction: ['internal', 'external'], replace: ['origin'] },
      V4_OFFER + sep + out(V4_OFFER, 'IP4', '127.0.0.2', 'IP4 127.0.0.2'));
    await t.answer('origin internal', { replace: ['origin'] },
      V4_ANSWER + sep + out(V4_ANSWER, 'IP4', '127.0.0.1', 'IP4 127.0.0.1'));
  });

  it('from-interface / to-interface work like direction', async () => {
    t.newCall();
    await t.offer('from/to-interface', { 'from-interface': 'external', 'to-interface': 'internal' },
      V4_OFFER + sep + out(V4_OFFER, 'IP4', '127.0.0.1'));
    await t.answer('from/to-interface', {}, V4_ANSWER + sep + out(V4_ANSWER, 'IP4', '127.0.0.2'));
  });

  it('deletes every call and leaves no leaks', async () => {
    await t.cleanup();
    await expectNoLeaks(d);
  });
});

describe('advertised address: -i 127.0.0.1!203.0.113.9', () => {
  let d: DaemonHandle;
  let t: AutoTest;
  beforeAll(async () => {
    d = await startDaemon([], { interfaces: ['127.0.0.1!203.0.113.9'] });
    t = new AutoTest(d);
  });
  afterAll(async () => {
    await d?.stop('SIGKILL');
  });

  it('the advertised address goes into c=', async () => {
    t.newCall();
    await t.offer('advertised', {}, V4_OFFER + sep + out(V4_OFFER, 'IP4', '203.0.113.9'));
    await t.answer('advertised', {}, V4_ANSWER + sep + out(V4_ANSWER, 'IP4', '203.0.113.9'));
  });

  it('and into o= with replace origin', async () => {
    t.newCall();
    await t.offer('advertised origin', { replace: ['origin'] },
      V4_OFFER + sep + out(V4_OFFER, 'IP4', '203.0.113.9', 'IP4 203.0.113.9'));
  });

  it('while the relay still listens on the local address', async () => {
    t.newCall();
    await t.offer('advertised query', {}, V4_OFFER + sep + out(V4_OFFER, 'IP4', '203.0.113.9'));
    const q = await t.query('advertised query');
    const streams = Object.values(q.tags ?? {}).flatMap(
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      (tag: any) => (tag.medias ?? []).flatMap((m: any) => m.streams ?? []),
    );
    const local = streams.map((s: { 'local address'?: string }) => s['local address']).filter(Boolean);
    expect(local.length, 'query shows local addresses').toBeGreaterThan(0);
    for (const a of local) expect(a).toBe('127.0.0.1');
  });

  it('deletes every call and leaves no leaks', async () => {
    await t.cleanup();
    await expectNoLeaks(d);
  });
});
