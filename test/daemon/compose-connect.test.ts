/**
 * `connect` across calls: two calls (a↔b, c↔d) merged into one by connecting a and c, both
 * call-ids naming the merged call in query/list/CLI/statistics, deleting by either call-id
 * tearing all of it down; `directional`, `from-tags`, `all`; transcoding when the two sides
 * share no codec; bad input refused with nothing half-merged. Ends with the zero-leak assertion.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, type DaemonHandle } from '../helpers/daemon.js';
import { expectNoLeaks } from '../helpers/leaks.js';
import { offerAnswer, relayPortsOf, uniqueCallId, type RelayPorts } from '../helpers/media-call.js';
import { RtpPeer, rtpPacket } from '../helpers/rtp-peer.js';

/** One audio participant's SDP offering only the payload types `pts` (static ones). */
function sdpWith(peer: RtpPeer, pts: string): string {
  return ['v=0', `o=- 1 1 IN IP4 ${peer.address}`, 's=tester', 't=0 0', `m=audio ${peer.port} RTP/AVP ${pts}`,
    `c=IN IP4 ${peer.address}`, 'a=sendrecv', ''].join('\r\n');
}

async function dialogue(d: DaemonHandle, callId: string, fromTag: string, toTag: string, a: RtpPeer, b: RtpPeer, pts = '0 8'): Promise<RelayPorts> {
  const offer = await d.ng.request({ command: 'offer', 'call-id': callId, 'from-tag': fromTag, sdp: sdpWith(a, pts) });
  expect(offer.result, JSON.stringify(offer)).toBe('ok');
  const answer = await d.ng.request({ command: 'answer', 'call-id': callId, 'from-tag': fromTag, 'to-tag': toTag, sdp: sdpWith(b, pts) });
  expect(answer.result, JSON.stringify(answer)).toBe('ok');
  const toB = relayPortsOf(offer.sdp as string);
  const toA = relayPortsOf(answer.sdp as string);
  return { aRtp: toA.rtp, aRtcp: toA.rtcp, bRtp: toB.rtp, bRtcp: toB.rtcp, relayAddress: toA.address };
}

describe.each([{ fastPath: false }, { fastPath: true }])('connect across calls, fast path $fastPath', ({ fastPath }) => {
  let d: DaemonHandle;
  const peers: RtpPeer[] = [];
  beforeAll(async () => {
    d = await startDaemon([], { fastPath });
    for (let i = 0; i < 4; i++) peers.push(await RtpPeer.open());
  });
  afterAll(async () => {
    for (const p of peers) p.close();
    await expectNoLeaks(d);
  });
  const clear = () => { for (const p of peers) p.clear(); };

  it('merges two calls: a and c hear each other, both call-ids name one call, delete by either ends it', async () => {
    const [a, b, c, dd] = peers as [RtpPeer, RtpPeer, RtpPeer, RtpPeer];
    const call1 = uniqueCallId('merge1');
    const call2 = uniqueCallId('merge2');
    const ab = await dialogue(d, call1, 'a', 'b', a, b);
    const cd = await dialogue(d, call2, 'c', 'd', c, dd);
    a.send(rtpPacket(1), ab.aRtp);
    expect((await b.waitFor(1))[0]?.port).toBe(ab.bRtp);
    clear();

    const reply = await d.ng.request({ command: 'connect', 'call-id': call1, 'from-tag': 'a', 'to-tag': 'c', 'to-call-id': call2 });
    expect(reply.result, JSON.stringify(reply)).toBe('ok');
    c.send(rtpPacket(3), cd.aRtp);
    const atA = await a.waitFor(1);
    expect(atA[0]?.data.equals(rtpPacket(3))).toBe(true);
    expect(atA[0]?.port, 'from the relay port a already sends to').toBe(ab.aRtp);
    a.send(rtpPacket(4), ab.aRtp);
    const atC = await c.waitFor(1);
    expect(atC[0]?.data.equals(rtpPacket(4))).toBe(true);
    expect(atC[0]?.port).toBe(cd.aRtp);
    // a steady flow both ways (and onto the fast path where it runs)
    for (let i = 5; i < 25; i++) {
      a.send(rtpPacket(i), ab.aRtp);
      c.send(rtpPacket(100 + i), cd.aRtp);
    }
    expect((await a.waitFor(21)).length).toBe(21);
    expect((await c.waitFor(21)).length).toBe(21);
    expect((await b.settle(200)).length + dd.received.length, 'the former peers no longer get their media').toBe(0);

    // both call-ids name the merged call
    const q1 = await d.ng.request({ command: 'query', 'call-id': call1 });
    const q2 = await d.ng.request({ command: 'query', 'call-id': call2 });
    expect(Object.keys(q1.tags).sort()).toEqual(['a', 'b', 'c', 'd']);
    expect(q2.tags).toEqual(q1.tags);
    expect(q1.tags.a.subscriptions).toEqual([{ tag: 'c', type: 'offer/answer' }]);
    expect(q1.tags.c.subscriptions).toEqual([{ tag: 'a', type: 'offer/answer' }]);
    const list = await d.ng.request({ command: 'list' });
    expect(list.calls).toEqual(expect.arrayContaining([call1, call2]));
    const cli = await d.ng.request({ command: 'cli', body: 'list numsessions' });
    expect(cli.response).toContain('Current sessions own: 1\n');
    const stats = await d.ng.request({ command: 'statistics' });
    expect(stats.statistics.currentstatistics.sessionsown).toBe(1);
    const leaks = (await d.ng.request({ command: 'statistics' })).leaks;
    expect(leaks.live.Call, 'one Call object owns everything').toBe(1);
    expect(leaks.live.Monologue).toBe(4);

    // deleting by the merged-in call-id tears the whole call down
    expect((await d.ng.request({ command: 'delete', 'call-id': call2, 'delete-delay': 0 })).result).toBe('ok');
    expect((await d.ng.request({ command: 'query', 'call-id': call1 }))['error-reason']).toBe('Unknown call-id');
    expect((await d.ng.request({ command: 'query', 'call-id': call2 }))['error-reason']).toBe('Unknown call-id');
    expect((await d.ng.request({ command: 'list' })).calls).not.toContain(call1);
    clear();
    a.send(rtpPacket(50), ab.aRtp);
    expect((await c.settle(200)).length, 'nothing of the merged call survives').toBe(0);
  });

  it('directional: only the to-tag participant hears the from-tag one', async () => {
    const [a, b, c, dd] = peers as [RtpPeer, RtpPeer, RtpPeer, RtpPeer];
    const call1 = uniqueCallId('dir1');
    const call2 = uniqueCallId('dir2');
    const ab = await dialogue(d, call1, 'e', 'f', a, b);
    const cd = await dialogue(d, call2, 'g', 'h', c, dd);
    clear();
    const reply = await d.ng.request({ command: 'connect', 'call-id': call1, 'from-tag': 'e', 'to-tag': 'g', 'to-call-id': call2, flags: ['directional'] });
    expect(reply.result, JSON.stringify(reply)).toBe('ok');
    a.send(rtpPacket(7), ab.aRtp);
    expect((await c.waitFor(1))[0]?.data.equals(rtpPacket(7))).toBe(true);
    c.send(rtpPacket(8), cd.aRtp);
    expect((await a.settle(250)).length, 'e does not hear g').toBe(0);
    // closing the call by its original call-id removes the merged-in parts too
    expect((await d.ng.request({ command: 'delete', 'call-id': call1, 'delete-delay': 0 })).result).toBe('ok');
    expect((await d.ng.request({ command: 'query', 'call-id': call2 }))['error-reason']).toBe('Unknown call-id');
  });

  it('from-tags and all: several sources for one to-tag participant', async () => {
    const [a, b, c, dd] = peers as [RtpPeer, RtpPeer, RtpPeer, RtpPeer];
    const call1 = uniqueCallId('all1');
    const call2 = uniqueCallId('all2');
    const ab = await dialogue(d, call1, 'i', 'j', a, b);
    const cd = await dialogue(d, call2, 'k', 'l', c, dd);
    clear();
    const reply = await d.ng.request({ command: 'connect', 'call-id': call1, all: 'all', 'to-tag': 'k', 'to-call-id': call2, flags: ['directional'] });
    expect(reply.result, JSON.stringify(reply)).toBe('ok');
    a.send(rtpPacket(9, { ssrc: 1 }), ab.aRtp);
    b.send(rtpPacket(10, { ssrc: 2 }), ab.bRtp);
    const got = await c.waitFor(2);
    expect(got.map((r) => r.data.readUInt32BE(8)).sort()).toEqual([1, 2]);
    const q = await d.ng.request({ command: 'query', 'call-id': call2 });
    expect(q.tags.k.subscriptions.map((s: { tag: string }) => s.tag).sort()).toEqual(['i', 'j']);
    await d.ng.request({ command: 'delete', 'call-id': call1, 'delete-delay': 0 });

    // from-tags within one call
    const call3 = uniqueCallId('ft');
    await dialogue(d, call3, 'm', 'n', a, b);
    await dialogue(d, call3, 'o', 'p', c, dd);
    const r3 = await d.ng.request({ command: 'connect', 'call-id': call3, 'from-tags': ['m', 'n'], 'to-tag': 'o', flags: ['directional'] });
    expect(r3.result, JSON.stringify(r3)).toBe('ok');
    const q3 = await d.ng.request({ command: 'query', 'call-id': call3 });
    expect(q3.tags.o.subscriptions.map((s: { tag: string }) => s.tag).sort()).toEqual(['m', 'n']);
    await d.ng.request({ command: 'delete', 'call-id': call3, 'delete-delay': 0 });
  });

  it('no codec in common: the merged call transcodes PCMU ↔ PCMA', async () => {
    const [a, b, c, dd] = peers as [RtpPeer, RtpPeer, RtpPeer, RtpPeer];
    const call1 = uniqueCallId('tc1');
    const call2 = uniqueCallId('tc2');
    const ab = await dialogue(d, call1, 'q', 'r', a, b, '0');
    const cd = await dialogue(d, call2, 's', 't', c, dd, '8');
    clear();
    const reply = await d.ng.request({ command: 'connect', 'call-id': call1, 'from-tag': 'q', 'to-tag': 's', 'to-call-id': call2 });
    expect(reply.result, JSON.stringify(reply)).toBe('ok');
    a.send(rtpPacket(1000, { pt: 0, payload: Buffer.alloc(160, 0x00) }), ab.aRtp);
    const atC = (await c.waitFor(1))[0];
    expect(atC?.data[1]).toBe(8);
    expect(atC?.data.subarray(12).equals(Buffer.alloc(160, 0x2a)), 'PCMU 0x00 → PCMA 0x2a').toBe(true);
    c.send(rtpPacket(2000, { pt: 8, payload: Buffer.alloc(160, 0x2a) }), cd.aRtp);
    const atA = (await a.waitFor(1))[0];
    expect(atA?.data[1]).toBe(0);
    expect(atA?.data.length).toBe(172);
    await d.ng.request({ command: 'delete', 'call-id': call2, 'delete-delay': 0 });
  });

  it('two merges of the same calls in opposite directions at once: no deadlock, one merged call', async () => {
    const [a, b, c, dd] = peers as [RtpPeer, RtpPeer, RtpPeer, RtpPeer];
    const call1 = uniqueCallId('race1');
    const call2 = uniqueCallId('race2');
    const ab = await dialogue(d, call1, 'a1', 'b1', a, b);
    const cd = await dialogue(d, call2, 'c1', 'd1', c, dd);
    const [r1, r2] = await Promise.all([
      d.ng.request({ command: 'connect', 'call-id': call1, 'from-tag': 'a1', 'to-tag': 'c1', 'to-call-id': call2 }),
      d.ng.request({ command: 'connect', 'call-id': call2, 'from-tag': 'c1', 'to-tag': 'a1', 'to-call-id': call1 }),
    ]);
    expect(r1.result, JSON.stringify(r1)).toBe('ok');
    expect(r2.result, JSON.stringify(r2)).toBe('ok');
    const q1 = await d.ng.request({ command: 'query', 'call-id': call1 });
    expect(Object.keys(q1.tags).sort()).toEqual(['a1', 'b1', 'c1', 'd1']);
    expect((await d.ng.request({ command: 'query', 'call-id': call2 })).tags).toEqual(q1.tags);
    clear();
    a.send(rtpPacket(1), ab.aRtp);
    expect((await c.waitFor(1)).length).toBe(1);
    c.send(rtpPacket(2), cd.aRtp);
    expect((await a.waitFor(1)).length).toBe(1);
    expect((await d.ng.request({ command: 'cli', body: `terminate ${call2}` })).response).toContain('successfully terminated');
    expect((await d.ng.request({ command: 'query', 'call-id': call1 }))['error-reason']).toBe('Unknown call-id');
  });

  it('bad input: clear errors, nothing half-merged', async () => {
    const [a, b, c, dd] = peers as [RtpPeer, RtpPeer, RtpPeer, RtpPeer];
    const call1 = uniqueCallId('bad1');
    const call2 = uniqueCallId('bad2');
    await dialogue(d, call1, 'u', 'v', a, b);
    await dialogue(d, call2, 'w', 'x', c, dd);
    const connect = (extra: Record<string, unknown>) => d.ng.request({ command: 'connect', 'call-id': call1, 'from-tag': 'u', ...extra });
    expect((await connect({ 'to-tag': 'u' }))['error-reason']).toBe('Cannot connect a participant to itself');
    expect((await connect({ 'to-tag': 'u', 'to-call-id': call1 }))['error-reason']).toBe('Cannot connect a participant to itself');
    expect((await connect({ 'to-tag': 'w', 'to-call-id': 'no-such-call' }))['error-reason']).toBe('Unknown call-id');
    expect((await connect({ 'to-tag': 'nope', 'to-call-id': call2 }))['error-reason']).toBe('To-tag not found');
    expect((await d.ng.request({ command: 'connect', 'call-id': call1, 'from-tag': 'nope', 'to-tag': 'w', 'to-call-id': call2 }))['error-reason']).toBe('From-tag not found');
    // same tag in both calls
    const call3 = uniqueCallId('bad3');
    await dialogue(d, call3, 'u', 'y', c, dd);
    expect((await connect({ 'to-tag': 'y', 'to-call-id': call3 }))['error-reason']).toBe('Both calls have a participant with the same tag');
    await d.ng.request({ command: 'delete', 'call-id': call3, 'delete-delay': 0 });
    // a call waiting for its delete-delay is being torn down
    expect((await d.ng.request({ command: 'delete', 'call-id': call2, 'delete-delay': 30 })).result).toBe('ok');
    expect((await connect({ 'to-tag': 'w', 'to-call-id': call2 }))['error-reason']).toBe('Call is being torn down');
    // still two separate calls with their own participants
    const q1 = await d.ng.request({ command: 'query', 'call-id': call1 });
    const q2 = await d.ng.request({ command: 'query', 'call-id': call2 });
    expect(Object.keys(q1.tags).sort()).toEqual(['u', 'v']);
    expect(Object.keys(q2.tags).sort()).toEqual(['w', 'x']);
    expect(q1.tags.u.subscriptions).toEqual([{ tag: 'v', type: 'offer/answer' }]);
    await d.ng.request({ command: 'cli', body: `terminate ${call2}` });
    await d.ng.request({ command: 'delete', 'call-id': call1, 'delete-delay': 0 });
  });
});
