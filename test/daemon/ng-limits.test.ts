/**
 * ng limits: running out of media ports, and --max-sessions.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toCrlf } from '../helpers/autotest.js';
import { nextPortRange, startDaemon, type DaemonHandle } from '../helpers/daemon.js';
import { expectNoLeaks } from '../helpers/leaks.js';
import type { NgReply } from '../helpers/ng-client.js';

const SDP_A = toCrlf(`
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio 2000 RTP/AVP 0
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

let n = 0;
const callId = (what: string) => `${what}-${process.pid}-${++n}`;

describe('ran out of ports (a 4-port media range)', () => {
  let d: DaemonHandle;
  let range: [number, number];
  const created: string[] = [];

  beforeAll(async () => {
    const block = nextPortRange();
    const base = block[0] + (block[0] % 2); // even, so the range holds exactly two RTP/RTCP pairs
    range = [base, base + 3];
    d = await startDaemon([], { portRange: range });
  });
  afterAll(async () => {
    await d?.stop('SIGKILL');
  });

  const offer = async (cid: string): Promise<NgReply> => {
    created.push(cid);
    return d.ng.request({ command: 'offer', 'call-id': cid, 'from-tag': `ft-${cid}`, sdp: SDP_A });
  };

  it('offers beyond capacity fail with Ran out of ports', async () => {
    expect(d.portRange).toEqual(range);
    const results: NgReply[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await offer(callId('ports'));
      results.push(r);
      if (r.result !== 'ok') break;
    }
    const ok = results.filter((r) => r.result === 'ok');
    expect(ok.length, 'at least one call fits into two port pairs').toBeGreaterThanOrEqual(1);
    expect(ok.length, 'at most two calls fit into two port pairs').toBeLessThanOrEqual(2);
    const last = results[results.length - 1]!;
    expect(last.result).toBe('error');
    expect(last['error-reason']).toBe('Ran out of ports');
    for (const r of ok) {
      const port = Number(/m=audio (\d+) /.exec(String(r.sdp))?.[1]);
      expect(port).toBeGreaterThanOrEqual(range[0]);
      expect(port).toBeLessThanOrEqual(range[1]);
    }
  });

  it('an answer that needs more ports than are left fails the same way, or succeeds within range', async () => {
    // the first call was offered successfully; its answer may need the offerer-side ports
    const cid = created[0]!;
    const r = await d.ng.request({ command: 'answer', 'call-id': cid, 'from-tag': `ft-${cid}`, 'to-tag': `tt-${cid}`, sdp: SDP_B });
    if (r.result === 'ok') {
      const port = Number(/m=audio (\d+) /.exec(String(r.sdp))?.[1]);
      expect(port).toBeGreaterThanOrEqual(range[0]);
      expect(port).toBeLessThanOrEqual(range[1]);
    } else {
      expect(r['error-reason']).toBe('Ran out of ports');
    }
  });

  it('after deleting the calls the ports are free again', async () => {
    for (const cid of created.splice(0)) {
      const r = await d.ng.request({ command: 'delete', 'call-id': cid });
      expect(r.result).toBe('ok');
    }
    const list = await d.ng.request({ command: 'list' });
    expect(list.calls).toEqual([]);
    const r = await offer(callId('ports-again'));
    expect(r.result, String(r['error-reason'] ?? '')).toBe('ok');
    const r2 = await d.ng.request({ command: 'delete', 'call-id': created.pop()! });
    expect(r2.result).toBe('ok');
  });

  it('leaves no leaks', async () => {
    for (const cid of created.splice(0)) await d.ng.request({ command: 'delete', 'call-id': cid });
    await expectNoLeaks(d);
  });
});

describe('--max-sessions 1', () => {
  let d: DaemonHandle;
  const c1 = callId('sess');
  const c2 = callId('sess');

  beforeAll(async () => {
    d = await startDaemon(['--max-sessions', '1']);
  });
  afterAll(async () => {
    await d?.stop('SIGKILL');
  });

  it('a second call is refused, a re-offer of the first is not', async () => {
    const r1 = await d.ng.request({ command: 'offer', 'call-id': c1, 'from-tag': 'a1', sdp: SDP_A });
    expect(r1.result).toBe('ok');
    const r2 = await d.ng.request({ command: 'offer', 'call-id': c2, 'from-tag': 'a2', sdp: SDP_A });
    expect(r2).toEqual({ result: 'error', 'error-reason': 'Parallel session limit reached' });
    const again = await d.ng.request({ command: 'offer', 'call-id': c1, 'from-tag': 'a1', sdp: SDP_A });
    expect(again.result, 're-offer (re-INVITE) of an existing call').toBe('ok');
    const ans = await d.ng.request({ command: 'answer', 'call-id': c1, 'from-tag': 'a1', 'to-tag': 'b1', sdp: SDP_B });
    expect(ans.result).toBe('ok');
    const list = await d.ng.request({ command: 'list' });
    expect(list.calls).toEqual([c1]);
  });

  it('with supports: [load limit] the refusal is a load limit reply', async () => {
    const r = await d.ng.request({
      command: 'offer', 'call-id': c2, 'from-tag': 'a2', sdp: SDP_A, supports: ['load limit'],
    });
    expect(r).toEqual({ result: 'load limit', message: 'Parallel session limit reached' });
  });

  it('once the first call is deleted, a new call is accepted', async () => {
    expect((await d.ng.request({ command: 'delete', 'call-id': c1 })).result).toBe('ok');
    const r = await d.ng.request({ command: 'offer', 'call-id': c2, 'from-tag': 'a2', sdp: SDP_A });
    expect(r.result).toBe('ok');
    expect((await d.ng.request({ command: 'delete', 'call-id': c2 })).result).toBe('ok');
  });

  it('leaves no leaks', async () => {
    for (const cid of [c1, c2]) await d.ng.request({ command: 'delete', 'call-id': cid });
    await expectNoLeaks(d);
  });
});
