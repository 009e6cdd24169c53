/**
 * `connect`: two dialogues of one call (a↔b and c↔d); connecting a and c makes them hear each
 * other through the relay ports they already use; across calls it is refused clearly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, type DaemonHandle } from '../helpers/daemon.js';
import { expectNoLeaks } from '../helpers/leaks.js';
import { offerAnswer, uniqueCallId } from '../helpers/media-call.js';
import { RtpPeer, rtpPacket } from '../helpers/rtp-peer.js';

describe.each([{ fastPath: false }, { fastPath: true }])('connect, fast path $fastPath', ({ fastPath }) => {
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

  it('connects two participants of one call: each now hears the other', async () => {
    const [a, b, c, dd] = peers as [RtpPeer, RtpPeer, RtpPeer, RtpPeer];
    const callId = uniqueCallId('connect');
    const ab = await offerAnswer(d, { callId, fromTag: 'a', toTag: 'b', a, b });
    const cd = await offerAnswer(d, { callId, fromTag: 'c', toTag: 'd', a: c, b: dd });
    a.send(rtpPacket(1), ab.aRtp);
    expect((await b.waitFor(1))[0]?.port).toBe(ab.bRtp);
    c.send(rtpPacket(2), cd.aRtp);
    expect((await dd.waitFor(1))[0]?.port).toBe(cd.bRtp);

    const reply = await d.ng.request({ command: 'connect', 'call-id': callId, 'from-tag': 'a', 'to-tag': 'c' });
    expect(reply.result, JSON.stringify(reply)).toBe('ok');
    for (const p of peers) p.clear();
    c.send(rtpPacket(3), cd.aRtp);
    const atA = await a.waitFor(1);
    expect(atA[0]?.data.equals(rtpPacket(3))).toBe(true);
    expect(atA[0]?.port, "from the relay port a already sends to").toBe(ab.aRtp);
    a.send(rtpPacket(4), ab.aRtp);
    const atC = await c.waitFor(1);
    expect(atC[0]?.data.equals(rtpPacket(4))).toBe(true);
    expect(atC[0]?.port).toBe(cd.aRtp);
    expect((await b.settle(200)).length + dd.received.length, 'the former peers no longer get their media').toBe(0);

    const q = await d.ng.request({ command: 'query', 'call-id': callId });
    expect(q.tags.a.subscriptions).toEqual([{ tag: 'c', type: 'offer/answer' }]);
    expect(q.tags.c.subscriptions).toEqual([{ tag: 'a', type: 'offer/answer' }]);

    expect((await d.ng.request({ command: 'connect', 'call-id': callId, 'from-tag': 'a', 'to-tag': 'nope' }))['error-reason']).toBe('To-tag not found');
    expect((await d.ng.request({ command: 'connect', 'call-id': callId, 'from-tag': 'a' }))['error-reason']).toBe('No to-tag in message');
    expect((await d.ng.request({ command: 'connect', 'call-id': callId, 'from-tag': 'a', 'to-tag': 'c', 'to-call-id': 'other' }))['error-reason'])
      .toBe('Unknown call-id');
    await d.ng.request({ command: 'delete', 'call-id': callId });
  });
});
