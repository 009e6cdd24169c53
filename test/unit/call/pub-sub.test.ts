/**
 * Publish/subscribe at the object level: the publisher's streams fan out to one sink per
 * subscriber, a subscriber's answer gives its sinks a destination, unsubscribe removes exactly
 * its sinks, and the SDP goes through the same output builder as offer/answer.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CallInterfaces } from '../../../daemon/call/call-interfaces.js';
import { CallHash } from '../../../daemon/call/callhash.js';
import type { CallContext } from '../../../daemon/call/context.js';
import { callContext, leakState, ngFlags, NO_LEAKS, sdp } from '../../helpers/call-context.js';

let ctx: CallContext;
let calls: CallHash;
let ci: CallInterfaces;

afterEach(async () => {
  await calls.destroyAll('shutdown');
  expect(leakState(ctx)).toEqual(NO_LEAKS);
});

function setup(): void {
  ctx = callContext();
  calls = new CallHash(ctx);
  ci = new CallInterfaces(calls);
}

const pubSdp = (extra: string[] = [], address = '198.51.100.1') => sdp(
  'v=0', 'o=- 1545997027 1 IN IP4 198.51.100.1', 's=tester', 't=0 0',
  'm=audio 6000 RTP/AVP 8 0', `c=IN IP4 ${address}`, ...extra, 'a=sendonly',
);
const subSdp = (port: number, extra: string[] = []) => sdp(
  'v=0', 'o=- 77 1 IN IP4 198.51.100.9', 's=tester', 't=0 0',
  `m=audio ${port} RTP/AVP 8`, 'c=IN IP4 198.51.100.9', ...extra, 'a=recvonly',
);

async function publish(msg: Record<string, unknown> = {}): Promise<string> {
  const r = await ci.publish(ngFlags({ command: 'publish', 'call-id': 'p1', 'from-tag': 'pub', sdp: pubSdp(), ...msg }));
  return r.sdp as string;
}

async function subscribe(toTag: string, msg: Record<string, unknown> = {}): Promise<string> {
  const r = await ci.subscribeRequest(ngFlags({ command: 'subscribe request', 'call-id': 'p1', 'from-tag': 'pub', 'to-tag': toTag, ...msg }));
  expect(r['to-tag']).toBe(toTag);
  return r.sdp as string;
}

describe('publish/subscribe on the call model', () => {
  it('takes the first codec, fans out to every subscriber, and unsubscribe removes only its sinks', async () => {
    setup();
    const answer = await publish();
    expect(answer).toMatch(/^m=audio \d+ RTP\/AVP 8\r$/m);
    expect(answer).toMatch(/^a=recvonly\r$/m);
    const offer1 = await subscribe('s1');
    const offer2 = await subscribe('s2');
    expect(offer1).toMatch(/^a=sendonly\r$/m);
    expect(offer1).not.toBe(offer2);
    await ci.subscribeAnswer(ngFlags({ command: 'subscribe answer', 'call-id': 'p1', 'to-tag': 's1', sdp: subSdp(7000) }));
    await ci.subscribeAnswer(ngFlags({ command: 'subscribe answer', 'call-id': 'p1', 'to-tag': 's2', sdp: subSdp(7100) }));

    const call = calls.get('p1')!;
    const pub = call.monologueByTag('pub')!.medias[0]!;
    const s1 = call.monologueByTag('s1')!.medias[0]!;
    const s2 = call.monologueByTag('s2')!.medias[0]!;
    expect(pub.rtp.rtpSinks.map((k) => k.dst)).toEqual([s1.rtp, s2.rtp]);
    expect(pub.rtcp.rtcpSinks.map((k) => k.dst)).toEqual([s1.rtcp, s2.rtcp]);
    // one-way: subscribers send nothing to the publisher
    expect(s1.rtp.rtpSinks).toEqual([]);
    expect(s1.rtp.sendable()).toEqual({ address: '198.51.100.9', port: 7000, family: 4 });
    expect(call.monologueByTag('s1')!.subscriptionKind(call.monologueByTag('pub')!)).toBe('pub/sub');

    await ci.unsubscribe(ngFlags({ command: 'unsubscribe', 'call-id': 'p1', 'to-tag': 's1' }));
    expect(pub.rtp.rtpSinks.map((k) => k.dst)).toEqual([s2.rtp]);
    expect(call.monologueByTag('s1')).toBeUndefined();
    expect(ctx.leaks.liveCountsByType()).toMatchObject({ Monologue: 2, Media: 2, SinkHandler: 3 });
  });

  it('bidirectional subscribers also send to the publisher', async () => {
    setup();
    await publish();
    const offer = await subscribe('s1', { flags: ['bidirectional'] });
    expect(offer).toMatch(/^a=sendrecv\r$/m);
    const call = calls.get('p1')!;
    expect(call.monologueByTag('s1')!.medias[0]!.rtp.rtpSinks.map((k) => k.dst)).toEqual([call.monologueByTag('pub')!.medias[0]!.rtp]);
  });

  it('the output flags and hold apply as in offer/answer', async () => {
    setup();
    const answer = await publish({ sdp: pubSdp([], '0.0.0.0'), flags: ['no-rtcp-attribute', 'generate-mid'], 'media-address': '198.51.100.50' });
    expect(answer).toContain('c=IN IP4 198.51.100.50\r\na=mid:1\r\na=rtpmap:8 PCMA/8000\r\na=recvonly\r\n');
    expect(answer).not.toContain('a=rtcp:');
    const offer = await subscribe('s1');
    expect(offer).toContain('c=IN IP4 0.0.0.0\r\na=rtpmap:8 PCMA/8000\r\na=sendonly\r\na=rtcp:');
  });

  it('a publisher\'s rtcp-mux is accepted and offered on; the subscriber\'s answer decides its side', async () => {
    setup();
    const answer = await publish({ sdp: pubSdp(['a=rtcp-mux']) });
    const port = /^m=audio (\d+) /m.exec(answer)![1];
    expect(answer).toContain(`a=rtcp:${port}\r\na=rtcp-mux\r\n`);
    expect(await subscribe('s1')).toContain('a=rtcp-mux\r\n');
    await ci.subscribeAnswer(ngFlags({ command: 'subscribe answer', 'call-id': 'p1', 'to-tag': 's1', sdp: subSdp(7000, ['a=rtcp-mux']) }));
    const call = calls.get('p1')!;
    const pub = call.monologueByTag('pub')!.medias[0]!;
    const s1 = call.monologueByTag('s1')!.medias[0]!;
    expect(s1.rtcpMux).toBe(true);
    expect(pub.rtp.rtcpSinks.map((k) => k.dst)).toEqual([s1.rtp]);
  });

  it('refuses what rtpengine refuses', async () => {
    setup();
    await publish();
    await expect(ci.subscribeRequest(ngFlags({ command: 'subscribe request', 'call-id': 'p1', 'from-tag': 'nobody' }))).rejects.toMatchObject({ code: 'TAG_NOT_FOUND' });
    await expect(ci.subscribeAnswer(ngFlags({ command: 'subscribe answer', 'call-id': 'p1', 'to-tag': 'nobody', sdp: subSdp(7000) }))).rejects.toMatchObject({ code: 'TO_TAG_NOT_FOUND' });
    await expect(ci.subscribeRequest(ngFlags({ command: 'subscribe request', 'call-id': 'p1', 'from-tag': 'pub', 'to-tag': 'pub' }))).rejects.toMatchObject({ code: 'DIALOGUE' });
    await expect(ci.publish(ngFlags({ command: 'publish', 'call-id': 'p1' }))).rejects.toMatchObject({ code: 'NO_SDP' });
  });
});
