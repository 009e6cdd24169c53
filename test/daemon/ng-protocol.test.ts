/**
 * ng control protocol over UDP: framing, encodings, error replies, retransmissions and the
 * list / query / statistics commands; on the addon's ng socket and on Node's dgram alike.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bencodeDecode, bencodeEncode, bencodeToPlain } from '../../daemon/control/bencode.js';
import { AutoTest, toCrlf } from '../helpers/autotest.js';
import { startDaemon, type DaemonHandle } from '../helpers/daemon.js';
import { expectNoLeaks } from '../helpers/leaks.js';
import { decodeNgBody, splitCookie, type NgReply } from '../helpers/ng-client.js';
import { expectNgIo, NG_IO, ngIoOptions } from '../helpers/ng-io.js';

describe.each(NG_IO)('ng over UDP on %s sockets', (io) => {
  let d: DaemonHandle;
  let t: AutoTest;

  beforeAll(async () => {
    d = await startDaemon([], ngIoOptions(io));
    expectNgIo(d, io);
    t = new AutoTest(d);
  });

  afterAll(async () => {
    await d?.stop('SIGKILL');
  });

  const SDP_A = toCrlf(`
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio 2000 RTP/AVP 0 8
c=IN IP4 198.51.100.1
a=sendrecv
`);

  const SDP_B = toCrlf(`
v=0
o=- 1545997028 1 IN IP4 198.51.100.3
s=tester
t=0 0
m=audio 2002 RTP/AVP 0
c=IN IP4 198.51.100.3
a=sendrecv
`);

  let seq = 0;
  const cookie = () => `ngt${process.pid}x${++seq}`;

  /** Sends raw bytes, expects a reply with the same cookie and decodes its body. */
  async function rawRequest(data: string | Buffer): Promise<{ reply: NgReply; raw: Buffer }> {
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    const raw = await d.ng.raw(buf, { timeoutMs: 3000 });
    expect(raw, `a reply to ${JSON.stringify(buf.toString('latin1').slice(0, 80))}`).not.toBeNull();
    const sent = splitCookie(buf)!;
    const got = splitCookie(raw!);
    expect(got?.cookie, 'reply cookie').toBe(sent.cookie);
    return { reply: decodeNgBody(got!.body), raw: raw! };
  }

  /** The daemon's live object counts per type (statistics → leaks.live). */
  async function liveCounts(): Promise<Record<string, number>> {
    const s = await d.ng.request({ command: 'statistics' });
    expect(s.leaks?.live, 'statistics → leaks.live').toBeTypeOf('object');
    return s.leaks.live as Record<string, number>;
  }

  function expectError(reply: NgReply, reason: string): void {
    expect(reply.result, `error reply (${JSON.stringify(reply)})`).toBe('error');
    expect(reply['error-reason']).toBe(reason);
    expect(Object.keys(reply).sort(), 'an error reply carries no other keys').toEqual(['error-reason', 'result']);
  }

  describe('framing and encodings', () => {
    it('ping answers pong', async () => {
      const r = await d.ng.request({ command: 'ping' });
      expect(r).toEqual({ result: 'pong' });
    });

    it('the exact wire bytes of a bencode ping', async () => {
      const c = cookie();
      const raw = await d.ng.raw(`${c} d7:command4:pinge`);
      expect(raw?.toString('latin1')).toBe(`${c} d6:result4:ponge`);
    });

    it('a JSON body is answered in JSON', async () => {
      const c = cookie();
      const raw = await d.ng.raw(`${c} {"command":"ping"}`);
      expect(raw).not.toBeNull();
      const body = splitCookie(raw!)!.body.toString('utf8');
      expect(body.startsWith('{'), `JSON reply body: ${body}`).toBe(true);
      expect(JSON.parse(body)).toEqual({ result: 'pong' });
    });

    it('a JSON offer works and its error replies are JSON too', async () => {
      t.newCall();
      const r = await d.ng.request({ command: 'offer', 'call-id': t.callId, 'from-tag': t.fromTag, sdp: SDP_A },
        { json: true });
      t.calls.add(t.callId);
      expect(r.result).toBe('ok');
      expect(r.sdp).toMatch(/^v=0\r\n/);
      const c = cookie();
      const raw = await d.ng.raw(`${c} {"command":"query","call-id":"no-such-call-${c}"}`);
      const body = splitCookie(raw!)!.body.toString('utf8');
      expect(body.startsWith('{'), `JSON error body: ${body}`).toBe(true);
      expectError(JSON.parse(body) as NgReply, 'Unknown call-id');
    });

    it('dictionary keys are accepted in any order', async () => {
      t.newCall();
      // command last, sdp first: insertion order is emitted as is
      const msg = { sdp: SDP_A, 'from-tag': t.fromTag, flags: ['trust-address'], 'call-id': t.callId, command: 'offer' };
      const body = bencodeEncode(msg);
      expect(body.toString('latin1').startsWith('d3:sdp')).toBe(true);
      const { reply } = await rawRequest(Buffer.concat([Buffer.from(`${cookie()} `), body]));
      t.calls.add(t.callId);
      expect(reply.result).toBe('ok');
      expect(reply.sdp).toContain('c=IN IP4 127.0.0.1\r\n');
    });

    it('integers may be sent as numeric strings', async () => {
      for (let i = 0; i < 2; i++) {
        t.newCall();
        await t.request('offer', 'integers', { 'from-tag': t.fromTag, sdp: SDP_A });
      }
      const asInt = await d.ng.request({ command: 'list', limit: 1 });
      const asStr = await d.ng.request({ command: 'list', limit: '1' });
      expect(asInt.result).toBe('ok');
      expect(asInt.calls).toHaveLength(1);
      expect(asStr.result).toBe('ok');
      expect(asStr.calls).toHaveLength(1);
      const all = await d.ng.request({ command: 'list' });
      expect(all.calls.length).toBeGreaterThanOrEqual(2);
    });

    it('garbage without a cookie gets no reply and the daemon keeps working', async () => {
      expect(await d.ng.raw('garbage-without-any-space', { timeoutMs: 400 })).toBeNull();
      expect(await d.ng.raw(' d7:command4:pinge', { timeoutMs: 400 }), 'empty cookie').toBeNull();
      expect(await d.ng.raw(Buffer.from([0, 1, 2, 3, 255, 254]), { timeoutMs: 400 })).toBeNull();
      const r = await d.ng.request({ command: 'ping' });
      expect(r.result).toBe('pong');
    });

    it('a body that is neither bencode nor JSON: Invalid NG data format', async () => {
      const { reply } = await rawRequest(`${cookie()} hello world`);
      expectError(reply, 'Invalid NG data format');
      const { reply: r2 } = await rawRequest(`${cookie()} l4:pinge`);
      expectError(r2, 'Invalid NG data format');
    });

    it('a cookie with an empty body: Invalid data (no payload)', async () => {
      const { reply } = await rawRequest(`${cookie()} `);
      expectError(reply, 'Invalid data (no payload)');
    });

    it('malformed bencode and malformed JSON', async () => {
      // a string longer than the data, and a byte that starts no bencode value
      const { reply } = await rawRequest(`${cookie()} d7:command99:ping`);
      expectError(reply, 'Could not decode bencode dictionary');
      const { reply: r1 } = await rawRequest(`${cookie()} d7:command4:pingxe`);
      expectError(r1, 'Could not decode bencode dictionary');
      const { reply: r2, raw } = await rawRequest(`${cookie()} {"command": "ping"`);
      expectError(r2, 'Failed to parse JSON document');
      expect(splitCookie(raw)!.body[0], 'the JSON parse error is answered in JSON').toBe(0x7b);
    });
  });

  describe('error replies', () => {
    it('missing command', async () => {
      expectError(await d.ng.request({ 'call-id': 'x' }), 'Dictionary contains no key "command"');
    });

    it('unknown command', async () => {
      expectError(await d.ng.request({ command: 'frobnicate' }), 'Unrecognized command');
      expectError(await d.ng.request({ command: 'PING' }), 'Unrecognized command');
    });

    it('offer without call-id, from-tag or sdp', async () => {
      expectError(await d.ng.request({ command: 'offer', 'from-tag': 'a', sdp: SDP_A }), 'No call-id in message');
      expectError(await d.ng.request({ command: 'offer', 'call-id': `nf-${cookie()}`, sdp: SDP_A }), 'No from-tag in message');
      expectError(await d.ng.request({ command: 'offer', 'call-id': `ns-${cookie()}`, 'from-tag': 'a' }), 'No SDP body in message');
    });

    it('answer without to-tag', async () => {
      expectError(await d.ng.request({ command: 'answer', 'call-id': `nt-${cookie()}`, 'from-tag': 'a', sdp: SDP_B }),
        'No to-tag in message');
    });

    it('answer and query for an unknown call', async () => {
      const cid = `unknown-${cookie()}`;
      expectError(await d.ng.request({ command: 'answer', 'call-id': cid, 'from-tag': 'a', 'to-tag': 'b', sdp: SDP_B }),
        'Unknown call-id');
      expectError(await d.ng.request({ command: 'query', 'call-id': cid }), 'Unknown call-id');
      const list = await d.ng.request({ command: 'list', limit: 1000 });
      expect(list.calls, 'a failed answer creates no call').not.toContain(cid);
    });

    it('an answer naming a from-tag the call has not seen is answered, as rtpengine does', async () => {
      const cid = `stray-${cookie()}`;
      expect((await d.ng.request({ command: 'offer', 'call-id': cid, 'from-tag': 'a', sdp: SDP_A })).result).toBe('ok');
      const answer = await d.ng.request({ command: 'answer', 'call-id': cid, 'from-tag': 'zz', 'to-tag': 'b', sdp: SDP_B });
      expect(answer.result).toBe('ok');
      expect(answer.sdp).toMatch(/^m=audio \d+ RTP\/AVP 0\r$/m);
      await d.ng.request({ command: 'delete', 'call-id': cid, 'delete-delay': 0 });
    });

    it('unparseable SDP', async () => {
      t.newCall();
      const reason = await t.offerError('bad SDP', {}, 'this is not an SDP body\nat all\n');
      expect(reason).toBe('Failed to parse SDP');
    });

    it('delete of an unknown call: ok with a warning, or an error with the fatal flag', async () => {
      const cid = `gone-${cookie()}`;
      const r = await d.ng.request({ command: 'delete', 'call-id': cid, 'from-tag': 'a' });
      expect(r.result).toBe('ok');
      expect(r.warning).toBe("Call-ID not found or tags didn't match");
      expectError(await d.ng.request({ command: 'delete', 'call-id': cid, 'from-tag': 'a', flags: ['fatal'] }),
        "Call-ID not found or tags didn't match");
    });
  });

  describe('lenient parsing', () => {
    it('keys may be spelled with spaces instead of hyphens', async () => {
      t.newCall();
      const r = await d.ng.request({ command: 'offer', 'call id': t.callId, 'from tag': t.fromTag, sdp: SDP_A,
        replace: ['origin'] });
      t.calls.add(t.callId);
      expect(r.result, String(r['error-reason'] ?? '')).toBe('ok');
      expect(r.sdp).toContain('o=- 1545997027 1 IN IP4 127.0.0.1\r\n');
      const a = await d.ng.request({ command: 'answer', 'call ID': t.callId, 'from tag': t.fromTag, 'to tag': t.toTag,
        sdp: SDP_B });
      expect(a.result, String(a['error-reason'] ?? '')).toBe('ok');
      const q = await t.query('spaced keys');
      expect(Object.keys(q.tags)).toEqual(expect.arrayContaining([t.fromTag, t.toTag]));
    });

    it('unknown keys and unknown flags are ignored, not errors', async () => {
      t.newCall();
      const r = await d.ng.request({ command: 'offer', 'call-id': t.callId, 'from-tag': t.fromTag, sdp: SDP_A,
        'x-no-such-key': 'whatever', flags: ['no-such-flag', 'trust-address'], replace: ['no-such-replace'] });
      t.calls.add(t.callId);
      expect(r.result, String(r['error-reason'] ?? '')).toBe('ok');
    });

    it('list with a negative limit is refused', async () => {
      expectError(await d.ng.request({ command: 'list', limit: -1 }), 'invalid limit, must be >= 0');
    });

    it('a deleted call is gone from list and query', async () => {
      t.newCall();
      await t.request('offer', 'delete then query', { 'from-tag': t.fromTag, sdp: SDP_A });
      const del = await t.deleteCall();
      expect(del.result).toBe('ok');
      expect(del.warning).toBeUndefined();
      expectError(await d.ng.request({ command: 'query', 'call-id': t.callId }), 'Unknown call-id');
      const list = await d.ng.request({ command: 'list', limit: 1000 });
      expect(list.calls).not.toContain(t.callId);
    });
  });

  describe('retransmissions', () => {
    it('the same cookie twice returns the byte-identical reply and executes once', async () => {
      t.newCall();
      const offer = Buffer.concat([Buffer.from(`${cookie()} `),
        bencodeEncode({ command: 'offer', 'call-id': t.callId, 'from-tag': t.fromTag, sdp: SDP_A })]);
      t.calls.add(t.callId);
      const first = await d.ng.raw(offer, { timeoutMs: 3000 });
      const liveAfterFirst = await liveCounts();
      const second = await d.ng.raw(offer, { timeoutMs: 3000 });
      expect(first).not.toBeNull();
      expect(second?.equals(first!), 'retransmitted offer: identical reply bytes').toBe(true);
      expect(await liveCounts(), 'the retransmit allocated nothing (leaks.live unchanged)').toEqual(liveAfterFirst);
      const list = await d.ng.request({ command: 'list', limit: 1000 });
      expect((list.calls as string[]).filter((c) => c === t.callId)).toHaveLength(1);
      const q = await t.query('retransmitted offer');
      expect(Object.keys(q.tags ?? {}).filter((k) => k !== '').length, 'one offering monologue').toBe(1);

      // delete is not idempotent: executed twice, the second reply would carry a warning
      const del = Buffer.concat([Buffer.from(`${cookie()} `),
        bencodeEncode({ command: 'delete', 'call-id': t.callId, 'from-tag': t.fromTag })]);
      const d1 = await d.ng.raw(del, { timeoutMs: 3000 });
      const d2 = await d.ng.raw(del, { timeoutMs: 3000 });
      expect(d1).not.toBeNull();
      const d1reply = bencodeToPlain(bencodeDecode(splitCookie(d1!)!.body)) as NgReply;
      expect(d1reply.result).toBe('ok');
      expect(d1reply.warning).toBeUndefined();
      expect(d2?.equals(d1!), 'retransmitted delete: identical reply bytes').toBe(true);
      t.calls.delete(t.callId);
    });

    it('a retransmit arriving while the original is in flight gets the same bytes', async () => {
      t.newCall();
      const sdp = toCrlf(`
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio 2000 RTP/AVP 0 8
c=IN IP4 198.51.100.1
m=video 2010 RTP/AVP 96
c=IN IP4 198.51.100.1
a=rtpmap:96 H264/90000
m=audio 2020 RTP/AVP 0
c=IN IP4 198.51.100.1
`);
      const msg = Buffer.concat([Buffer.from(`${cookie()} `),
        bencodeEncode({ command: 'offer', 'call-id': t.callId, 'from-tag': t.fromTag, sdp })]);
      t.calls.add(t.callId);
      // what one execution of this offer allocates, measured on a separate call
      const before = await liveCounts();
      const ref = await d.ng.request({ command: 'offer', 'call-id': `${t.callId}-ref`, 'from-tag': t.fromTag, sdp });
      t.calls.add(`${t.callId}-ref`);
      expect(ref.result).toBe('ok');
      const afterRef = await liveCounts();
      const [r1, r2] = await Promise.all([d.ng.raw(msg, { timeoutMs: 3000 }), d.ng.raw(msg, { timeoutMs: 3000 })]);
      const afterPair = await liveCounts();
      for (const k of Object.keys(afterRef)) {
        expect((afterPair[k] ?? 0) - (afterRef[k] ?? 0), `${k}: original + retransmit allocate as much as one offer`)
          .toBe((afterRef[k] ?? 0) - (before[k] ?? 0));
      }
      expect(r1, 'reply to the original').not.toBeNull();
      expect(r2, 'reply to the retransmit').not.toBeNull();
      expect(r2!.equals(r1!), 'identical reply bytes').toBe(true);
      const reply = decodeNgBody(splitCookie(r1!)!.body);
      expect(reply.result).toBe('ok');
      const list = await d.ng.request({ command: 'list', limit: 1000 });
      expect((list.calls as string[]).filter((c) => c === t.callId)).toHaveLength(1);
    });

    it('retries of a lost request through the client reuse the cookie', async () => {
      // the reply to a retried request is the cached one: the client sees a normal reply
      const r = await d.ng.request({ command: 'ping' }, { retries: 2, timeoutMs: 500 });
      expect(r.result).toBe('pong');
    });
  });

  describe('list, query, statistics', () => {
    it('list names the calls', async () => {
      t.newCall();
      await d.ng.request({ command: 'offer', 'call-id': t.callId, 'from-tag': t.fromTag, sdp: SDP_A });
      t.calls.add(t.callId);
      const list = await d.ng.request({ command: 'list', limit: 1000 });
      expect(list.result).toBe('ok');
      expect(Array.isArray(list.calls)).toBe(true);
      expect(list.calls).toContain(t.callId);
    });

    it('query: tags, medias, streams and totals', async () => {
      t.newCall();
      await t.request('offer', 'query shape', { 'from-tag': t.fromTag, sdp: SDP_A, label: 'caller' });
      await t.request('answer', 'query shape', { 'from-tag': t.fromTag, 'to-tag': t.toTag, sdp: SDP_B });
      const q = await t.query('query shape');
      expect(q.result).toBe('ok');
      expect(typeof q.created).toBe('number');
      expect(q.tags).toBeTypeOf('object');
      expect(Object.keys(q.tags)).toEqual(expect.arrayContaining([t.fromTag, t.toTag]));
      const a = q.tags[t.fromTag];
      expect(a.tag).toBe(t.fromTag);
      expect(a.label).toBe('caller');
      expect(a.medias).toHaveLength(1);
      expect(a.medias[0]).toMatchObject({ index: 1, type: 'audio', protocol: 'RTP/AVP' });
      expect(a.medias[0].streams.length).toBeGreaterThanOrEqual(1);
      const s = a.medias[0].streams[0];
      expect(typeof s['local port']).toBe('number');
      expect(s.endpoint).toMatchObject({ address: '198.51.100.1', port: 2000 });
      expect(q.tags[t.toTag].medias[0].streams[0].endpoint).toMatchObject({ address: '198.51.100.3', port: 2002 });
      for (const kind of ['RTP', 'RTCP']) {
        expect(q.totals?.[kind], `totals.${kind}`).toMatchObject({ packets: 0, bytes: 0, errors: 0 });
      }
    });

    it('statistics carries the leak counters', async () => {
      const s = await d.ng.request({ command: 'statistics' });
      expect(s.result).toBe('ok');
      expect(s.leaks).toBeTypeOf('object');
      expect(typeof s.leaks.leaked).toBe('number');
      expect(typeof s.leaks.doubleRelease).toBe('number');
      expect(s.leaks.live).toBeTypeOf('object');
      // calls exist right now: their objects are live
      expect(s.leaks.live.Call, 'live Call objects while calls exist').toBeGreaterThan(0);
    });
  });

  describe('delete-delay and list limits', () => {
    it('delete with a delete-delay keeps the call until the delay has passed', async () => {
      t.newCall();
      await t.request('offer', 'delete-delay', { 'from-tag': t.fromTag, sdp: SDP_A });
      const del = await d.ng.request({ command: 'delete', 'call-id': t.callId, 'delete-delay': '1' });
      expect(del.result).toBe('ok');
      let list = await d.ng.request({ command: 'list', limit: 1000 });
      expect(list.calls, 'still there right after delete').toContain(t.callId);
      const deadline = Date.now() + 4000;
      do {
        await new Promise((r) => setTimeout(r, 200));
        list = await d.ng.request({ command: 'list', limit: 1000 });
      } while ((list.calls as string[]).includes(t.callId) && Date.now() < deadline);
      expect(list.calls, 'gone once the delay has passed').not.toContain(t.callId);
      t.calls.delete(t.callId);
    });

    it('list returns at most 32 call-ids by default', async () => {
      for (let i = 0; i < 34; i++) {
        t.newCall();
        const r = await d.ng.request({ command: 'offer', 'call-id': t.callId, 'from-tag': t.fromTag, sdp: SDP_A });
        t.calls.add(t.callId);
        expect(r.result).toBe('ok');
      }
      const dflt = await d.ng.request({ command: 'list' });
      expect(dflt.calls).toHaveLength(32);
      const more = await d.ng.request({ command: 'list', limit: 100 });
      expect(more.calls.length).toBeGreaterThanOrEqual(34);
      await t.cleanup();
    });

    it('statistics has the statistics dictionary next to the leaks', async () => {
      const s = await d.ng.request({ command: 'statistics' });
      expect(s.statistics).toBeTypeOf('object');
    });
  });

  describe('cleanup', () => {
    it('deletes every call and leaves no leaks', async () => {
      await t.cleanup();
      const list = await d.ng.request({ command: 'list', limit: 1000 });
      expect(list.calls).toEqual([]);
      await expectNoLeaks(d);
    });
  });
});
