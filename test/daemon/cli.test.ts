/**
 * The TCP CLI (-c), as rtpengine-ctl uses it: one command per connection.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, type DaemonHandle } from '../helpers/daemon.js';
import { expectNoLeaks } from '../helpers/leaks.js';
import { offerAnswer, sdpFor, uniqueCallId } from '../helpers/media-call.js';
import { RtpPeer, rtpPacket } from '../helpers/rtp-peer.js';

async function freeTcpPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

describe('CLI', () => {
  let d: DaemonHandle;
  let cliPort: number;
  const peers: RtpPeer[] = [];
  const cli = (command: string, terminator = '\n') => new Promise<string>((resolve, reject) => {
    const c = net.connect(cliPort, '127.0.0.1', () => {
      c.write(command + terminator);
      if (terminator === '') c.end(); // rtpengine-ctl style: write, then half-close
    });
    let text = '';
    c.on('data', (b) => (text += b.toString()));
    c.on('end', () => resolve(text));
    c.on('error', reject);
  });

  beforeAll(async () => {
    cliPort = await freeTcpPort();
    d = await startDaemon(['-c', `127.0.0.1:${cliPort}`]);
    for (let i = 0; i < 2; i++) peers.push(await RtpPeer.open());
  });

  afterAll(async () => {
    for (const p of peers) p.close();
    await expectNoLeaks(d);
  });

  it('counts, lists and details sessions; totals', async () => {
    expect(await cli('list numsessions')).toMatch(/Current sessions own: 0\nCurrent sessions foreign: 0\nCurrent sessions total: 0/);
    expect(await cli('list sessions all')).toBe('No sessions on this media relay.\n');
    const [a, b] = peers as [RtpPeer, RtpPeer];
    const callId = uniqueCallId('cli');
    const r = await offerAnswer(d, { callId, fromTag: 'ta', toTag: 'tb', a, b });
    a.send(rtpPacket(1), r.aRtp);
    await b.waitFor(1);
    expect(await cli('list numsessions', '')).toMatch(/Current sessions own: 1/);
    expect(await cli('list sessions all')).toMatch(new RegExp(`^callid: ${callId} \\| deletionmark: no \\| created: \\d+`));
    const details = await cli(`list callid ${callId}`);
    expect(details).toMatch(/--- Tag 'ta', created \d+, in dialogue with 'tb'/);
    expect(details).toMatch(/------ Media #1 \(audio over RTP\/AVP\)/);
    expect(details).toMatch(new RegExp(`-------- Port 127\\.0\\.0\\.1:${r.aRtp} <> 127\\.0\\.0\\.1:${a.port}, 1 p, 172 b, 0 e`));
    expect(await cli('list callid nope')).toBe('Call id not found (nope).\n');
    expect(await cli('list totals')).toMatch(/Total managed sessions\s+:1\n/);

    // terminate: the call is torn down through the same audited teardown
    expect(await cli(`terminate ${callId}`)).toBe(`Call Id (${callId}) successfully terminated by operator.\n`);
    expect(await cli(`terminate ${callId}`)).toBe(`Call Id (${callId}) not found.\n`);
    expect(await cli('list numsessions')).toMatch(/Current sessions own: 0/);
    expect(await cli('list totals')).toMatch(/Total forced terminated sessions\s+:1\n/);
  });

  it('maxsessions: 0 drains (new calls refused, existing ones go on), -1 is unlimited', async () => {
    expect(await cli('list maxsessions')).toBe('Maximum sessions configured on rtpengine: -1\n');
    const existing = uniqueCallId('existing');
    const [a, b] = peers as [RtpPeer, RtpPeer];
    await offerAnswer(d, { callId: existing, fromTag: 'x', toTag: 'y', a, b });
    expect(await cli('set maxsessions 0')).toBe('Max sessions set to 0.\n');
    const refused = await d.ng.request({ command: 'offer', 'call-id': uniqueCallId('refused'), 'from-tag': 'f', sdp: sdpFor(a) });
    expect(refused['error-reason']).toBe('Parallel session limit reached');
    const reoffer = await d.ng.request({ command: 'offer', 'call-id': existing, 'from-tag': 'x', 'to-tag': 'y', sdp: sdpFor(a, { version: 2 }) });
    expect(reoffer.result, 'a re-offer of an existing call is not refused').toBe('ok');
    expect(await cli('set maxsessions -1')).toBe('Max sessions set to unlimited.\n');
    expect(await cli('terminate all')).toBe('All calls terminated by operator (1).\n');
    expect(await cli('set maxsessions many')).toBe('Invalid maxsessions value: many\n');
  });

  it('log level, leak summary, unknown commands', async () => {
    expect(await cli('get loglevel')).toBe('Log level: 7\n');
    expect(await cli('set loglevel 5')).toBe('Success setting loglevel to 5\n');
    expect(await cli('list loglevel')).toBe('Log level: 5\n');
    expect(await cli('set loglevel 9')).toBe('Invalid log level: 9\n');
    expect(await cli('list leaks')).toMatch(/^LEAK SUMMARY:\n {3}in use at exit: 0 objects/);
    expect(await cli('frobnicate now')).toBe('Unknown or incomplete command: frobnicate now\n');
    expect(await cli('x'.repeat(5000))).toBe('Command too long.\n');
  });
});
