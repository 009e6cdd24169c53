/**
 * Every flag either works or says that it does not (issue 9 point 6):
 * - flags rtpengine documents but this daemon does not implement yet: one warning per call and
 *   name, counted per name in `statistics` (`unsupportedFlags`); unknown flags stay debug-level;
 * - `trust address` / `SIP source address` / `--sip-source`: where media goes before learning;
 * - `loop protect`: `a=rtpengine:ID` written, and an SDP carrying our own ID is not processed;
 * - `TOS`: per call, on the outgoing media (fast-path sockets; read back with IP_RECVTOS);
 * - `to-label`: the label of a `subscribe request`'s subscriber, the second participant of `connect`;
 * - `symmetric`: rtpengine's default, accepted silently.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AutoTest } from '../helpers/autotest.js';
import { REPO_ROOT, startDaemon, type DaemonHandle } from '../helpers/daemon.js';
import { expectNoLeaks } from '../helpers/leaks.js';
import { deleteCall, offerAnswer, relayPortsOf, sdpFor, uniqueCallId } from '../helpers/media-call.js';
import { freeTcpPort, httpRequest } from '../helpers/ng-transports.js';
import { RtpPeer, rtpPacket } from '../helpers/rtp-peer.js';

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
const OFFER_OUT = `
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio PORT RTP/AVP 0
c=IN IP4 127.0.0.1
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
`;

interface LogLine {
  level: number;
  msg: string;
  callId?: string;
  flag?: string;
}

function logLines(d: DaemonHandle): LogLine[] {
  return d.stderr().split('\n').flatMap((l) => {
    if (!l.startsWith('{')) return [];
    try {
      return [JSON.parse(l) as LogLine];
    } catch {
      return [];
    }
  });
}

const WARN = 40;

describe('flags not implemented yet: warned once per call, counted per name', () => {
  let d: DaemonHandle;
  let t: AutoTest;
  let httpPort: number;
  beforeAll(async () => {
    httpPort = await freeTcpPort();
    d = await startDaemon([`--listen-http=127.0.0.1:${httpPort}`]);
    t = new AutoTest(d);
  });
  afterAll(async () => {
    await d?.stop('SIGKILL');
  });

  const unsupported = {
    flags: ['record-call', 'pierce NAT', 'symmetric', 'no-such-flag-at-all'],
    'media echo': 'blackhole',
    'T.38': ['decode'],
    codec: { strip: ['G722'] },
  };

  it('the SDP is still processed; each name is warned about once for the call', async () => {
    t.newCall();
    await t.offer('unsupported 1', unsupported, OFFER + sep + OFFER_OUT);
    await t.offer('unsupported 2 (re-offer)', unsupported, OFFER + sep + OFFER_OUT);
    const warningsOf = () => logLines(d).filter((l) => l.level === WARN && l.callId === t.callId && l.flag !== undefined);
    // logs are written asynchronously: wait for the four, then make sure no more come
    for (let i = 0; i < 40 && warningsOf().length < 4; i++) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 200));
    const warnings = warningsOf();
    expect(warnings.map((w) => w.flag).sort()).toEqual(['T.38', 'media-echo', 'pierce-NAT', 'record-call']);
    for (const w of warnings) expect(w.msg).toBe(`'${w.flag}' is not implemented by this daemon yet and was ignored`);
    // a flag rtpengine does not know stays debug-level; `symmetric` (rtpengine's default) is silent
    const about = (word: string) => logLines(d).filter((l) => JSON.stringify(l).includes(word));
    expect(about('no-such-flag-at-all').every((l) => l.level < WARN)).toBe(true);
    expect(about('no-such-flag-at-all').length).toBeGreaterThan(0);
    expect(about('symmetric').filter((l) => l.level >= WARN)).toEqual([]);
  });

  it('statistics count the calls that used each one', async () => {
    t.newCall();
    await t.offer('unsupported, second call', { flags: ['record-call'] }, OFFER + sep + OFFER_OUT);
    const stats = await d.ng.request({ command: 'statistics' });
    expect(stats.unsupportedFlags).toEqual({ 'media-echo': 1, 'T.38': 1, 'pierce-NAT': 1, 'record-call': 2 });
  });

  it('rtpp-flags and key forms are reported under the same names', async () => {
    t.newCall();
    await t.offer('unsupported via rtpp-flags', { 'rtpp-flags': 'record-call media-echo=blackhole xmlrpc-callback=198.51.100.9' }, OFFER + sep + OFFER_OUT);
    const stats = await d.ng.request({ command: 'statistics' });
    expect(stats.unsupportedFlags).toMatchObject({ 'record-call': 3, 'media-echo': 2, 'xmlrpc-callback': 1 });
  });

  it('and so does /metrics', async () => {
    const res = await httpRequest(`http://127.0.0.1:${httpPort}/metrics`);
    expect(res.status).toBe(200);
    const text = res.body.toString();
    expect(text).toContain('rtpengine_unsupported_flag_calls_total{flag="record-call"} 3');
    expect(text).toContain('rtpengine_unsupported_flag_calls_total{flag="media-echo"} 2');
  });

  it('deletes every call and leaves no leaks', async () => {
    await t.cleanup();
    await expectNoLeaks(d);
  });
});

describe('loop protect', () => {
  let d: DaemonHandle;
  let t: AutoTest;
  beforeAll(async () => {
    d = await startDaemon();
    t = new AutoTest(d);
  });
  afterAll(async () => {
    await d?.stop('SIGKILL');
  });

  it('writes a=rtpengine:ID, and an SDP carrying our own ID comes back untouched', async () => {
    t.newCall();
    await t.offer('loop protect', { flags: ['loop-protect'] }, `${OFFER}${sep}
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
a=rtpengine:????????????
m=audio PORT RTP/AVP 0
c=IN IP4 127.0.0.1
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
`);
    const looped = String(t.lastReply?.sdp);
    const id = /a=rtpengine:([0-9a-f]{12})\r\n/.exec(looped)?.[1];
    expect(id).toBeDefined();

    // the same SDP offered back to us (a signalling loop): returned as it is, no call made
    const loopCall = uniqueCallId('loop');
    const back = await d.ng.request({ command: 'offer', 'call-id': loopCall, 'from-tag': 'x', flags: ['loop-protect'], sdp: looped });
    expect(back.result).toBe('ok');
    expect(back.sdp).toBe(looped);
    expect((await d.ng.request({ command: 'list' })).calls).not.toContain(loopCall);

    // without the flag it is an ordinary SDP (another rtpengine's marker passes through)
    const plain = await d.ng.request({ command: 'offer', 'call-id': loopCall, 'from-tag': 'x', sdp: looped });
    expect(plain.result).toBe('ok');
    expect(plain.sdp).not.toBe(looped);
    expect(String(plain.sdp)).toContain(`a=rtpengine:${id}`);
    t.calls.add(loopCall);

    // someone else's marker is not ours: processed
    const other = looped.replace(id!, '0123456789ab');
    const processed = await d.ng.request({ command: 'offer', 'call-id': loopCall, 'from-tag': 'y', flags: ['loop-protect'], sdp: other });
    expect(processed.sdp).not.toBe(other);
    expect(String(processed.sdp)).toContain(`a=rtpengine:${id}`);
  });

  it('deletes every call and leaves no leaks', async () => {
    await t.cleanup();
    await expectNoLeaks(d);
  });
});

describe('to-label', () => {
  let d: DaemonHandle;
  let t: AutoTest;
  const peers: RtpPeer[] = [];
  beforeAll(async () => {
    d = await startDaemon();
    t = new AutoTest(d);
    for (let i = 0; i < 4; i++) peers.push(await RtpPeer.open());
  });
  afterAll(async () => {
    for (const p of peers) p.close();
    await d?.stop('SIGKILL');
  });

  it('subscribe request: to-label labels the new subscriber (as set-label)', async () => {
    t.newCall();
    await t.request('publish', 'publish', { 'from-tag': t.fromTag, sdp: OFFER.replace(/^\n/, '').replace('a=sendrecv', 'a=sendonly').replace(/\n/g, '\r\n') });
    await t.request('subscribe request', 'subscribe to-label', { 'from-tag': t.fromTag, 'to-tag': t.toTag, 'to-label': 'listener' });
    const q = await t.query();
    expect(q.tags[t.toTag].label).toBe('listener');
  });

  it('connect: label selects the first participant, to-label the second', async () => {
    const [a, b, c, dd] = peers as [RtpPeer, RtpPeer, RtpPeer, RtpPeer];
    const callId = uniqueCallId('to-label');
    t.calls.add(callId);
    await offerAnswer(d, { callId, fromTag: 'a', toTag: 'b', a, b, offerFlags: { label: 'alice' } });
    await offerAnswer(d, { callId, fromTag: 'c', toTag: 'd', a: c, b: dd, offerFlags: { label: 'carol' } });
    const reply = await d.ng.request({ command: 'connect', 'call-id': callId, label: 'alice', 'to-label': 'carol' });
    expect(reply.result, JSON.stringify(reply)).toBe('ok');
    const q = await d.ng.request({ command: 'query', 'call-id': callId });
    expect(q.tags.a.subscriptions).toEqual([{ tag: 'c', type: 'offer/answer' }]);
    expect(q.tags.c.subscriptions).toEqual([{ tag: 'a', type: 'offer/answer' }]);
    expect((await d.ng.request({ command: 'connect', 'call-id': callId, label: 'alice', 'to-label': 'nobody' }))['error-reason']).toBe('To-tag not found');
  });

  it('deletes every call and leaves no leaks', async () => {
    await t.cleanup();
    await expectNoLeaks(d);
  });
});

/**
 * Where the relay sends a participant's media before it has sent anything itself: the SDP
 * address (trusted) or the SIP source (`received from`). The participant's SDP names
 * 127.0.0.2:P; the SIP source is 127.0.0.1; a socket listens on both with the same port P.
 */
describe.each([
  { sipSource: false, flags: {}, expect: 'sdp' },
  { sipSource: false, flags: { flags: ['trust-address'] }, expect: 'sdp' },
  { sipSource: false, flags: { flags: ['SIP-source-address'] }, expect: 'source' },
  { sipSource: true, flags: {}, expect: 'source' },
  { sipSource: true, flags: { flags: ['trust address'] }, expect: 'sdp' },
] as const)('endpoint address: --sip-source=$sipSource, $flags', ({ sipSource, flags, expect: where }) => {
  let d: DaemonHandle;
  const peers: RtpPeer[] = [];
  beforeAll(async () => {
    d = await startDaemon(sipSource ? ['--sip-source'] : []);
  });
  afterAll(async () => {
    for (const p of peers) p.close();
    await expectNoLeaks(d);
  });

  it(`media for A goes to the ${where === 'sdp' ? 'SDP address' : 'SIP source address'}`, async () => {
    const atSource = await RtpPeer.open('127.0.0.1');
    const atSdp = await RtpPeer.open('127.0.0.2', atSource.port);
    const b = await RtpPeer.open('127.0.0.1');
    peers.push(atSource, atSdp, b);
    const callId = uniqueCallId('trust');
    const offer = await d.ng.request({
      command: 'offer', 'call-id': callId, 'from-tag': 'a', sdp: sdpFor({ address: '127.0.0.2', port: atSource.port }),
      'received-from': ['IP4', '127.0.0.1'], ...flags,
    });
    expect(offer.result, JSON.stringify(offer)).toBe('ok');
    const answer = await d.ng.request({ command: 'answer', 'call-id': callId, 'from-tag': 'a', 'to-tag': 'b', sdp: sdpFor(b) });
    expect(answer.result).toBe('ok');
    const toB = relayPortsOf(String(offer.sdp));
    b.send(rtpPacket(7), toB.rtp);
    const target = where === 'sdp' ? atSdp : atSource;
    const other = where === 'sdp' ? atSource : atSdp;
    expect((await target.waitFor(1)).length).toBe(1);
    expect((await other.settle(200)).length).toBe(0);
    await deleteCall(d, callId);
  });
});

/** The receiver script: prints its port, then "TOS LENGTH" per datagram. */
class TosReceiver {
  private readonly lines: string[] = [];
  private waiters: Array<() => void> = [];
  private constructor(private readonly child: ChildProcess, readonly port: number) {}

  static async open(count: number): Promise<TosReceiver> {
    const child = spawn('python3', [path.join(REPO_ROOT, 'test', 'helpers', 'recv-tos.py'), String(count), '20'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const rl = createInterface({ input: child.stdout! });
    const first = await new Promise<string>((resolve, reject) => {
      rl.once('line', resolve);
      child.once('error', reject);
    });
    const r = new TosReceiver(child, Number(first));
    rl.on('line', (l) => {
      r.lines.push(l);
      for (const w of r.waiters.splice(0)) w();
    });
    return r;
  }

  /** TOS values of the datagrams received so far, waiting until `count` arrived (or 2 s). */
  async tos(count: number): Promise<number[]> {
    const deadline = Date.now() + 2000;
    while (this.lines.length < count && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, deadline - Date.now());
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.lines.map((l) => Number(l.split(' ')[0]));
  }

  close(): void {
    this.child.kill('SIGTERM');
  }
}

describe('TOS per call on the fast path (IP_TOS read back by the receiver)', () => {
  let d: DaemonHandle;
  let a: TosReceiver;
  let b: RtpPeer;
  beforeAll(async () => {
    d = await startDaemon([], { fastPath: true });
    const stats = await d.ng.request({ command: 'statistics' });
    expect(stats.fastPath.available, `fast path must be built for this run: ${JSON.stringify(stats.fastPath)}`).toBe(1);
    a = await TosReceiver.open(30);
    b = await RtpPeer.open();
  });
  afterAll(async () => {
    a?.close();
    b?.close();
    await expectNoLeaks(d);
  });

  it('TOS=184 in the offer marks the call\'s media; -1 keeps it; absent reverts to --tos (none: 0)', async () => {
    const callId = uniqueCallId('tos');
    const aSdp = { address: '127.0.0.1', port: a.port };
    const exchange = async (offerFlags: Record<string, unknown>) => {
      const offer = await d.ng.request({ command: 'offer', 'call-id': callId, 'from-tag': 'a', sdp: sdpFor(aSdp), ...offerFlags });
      expect(offer.result, JSON.stringify(offer)).toBe('ok');
      const answer = await d.ng.request({ command: 'answer', 'call-id': callId, 'from-tag': 'a', 'to-tag': 'b', sdp: sdpFor(b) });
      expect(answer.result).toBe('ok');
      return relayPortsOf(String(offer.sdp)).rtp;
    };
    let sent = 0;
    const send = async (relay: number, n: number) => {
      for (let i = 0; i < n; i++) b.send(rtpPacket(sent++), relay);
      return a.tos(sent);
    };
    const relay = await exchange({ TOS: 184 });
    expect(await send(relay, 3)).toEqual([184, 184, 184]);
    await exchange({ TOS: -1 });
    expect((await send(relay, 2)).slice(3)).toEqual([184, 184]);
    await exchange({});
    expect((await send(relay, 2)).slice(5)).toEqual([0, 0]);
    await exchange({ TOS: 104 });
    expect((await send(relay, 2)).slice(7)).toEqual([104, 104]);
    await deleteCall(d, callId);
  });
});
