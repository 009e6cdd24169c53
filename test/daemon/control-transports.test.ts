/**
 * ng over TCP, HTTP, HTTPS and WebSocket: a full call (offer, answer, RTP both ways, delete)
 * over each, retransmits answered from the one cookie cache (also across transports), the
 * ng-plain / CLI / echo / ping / metrics endpoints.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, type DaemonHandle } from '../helpers/daemon.js';
import { expectNoLeaks } from '../helpers/leaks.js';
import { deleteCall, offerAnswer, sdpFor, uniqueCallId } from '../helpers/media-call.js';
import { decodeNgBody } from '../helpers/ng-client.js';
import {
  decodeNgMessage, encodeNg, freeTcpPort, httpRequest, newCookie, NgHttpClient, NgTcpClient, NgWsClient, over,
  selfSignedCert, WsClient, type NgRequester,
} from '../helpers/ng-transports.js';
import { RtpPeer, rtpPacket } from '../helpers/rtp-peer.js';

let d: DaemonHandle;
let tcpPort: number;
let httpPort: number;
let httpsPort: number;
let cert: ReturnType<typeof selfSignedCert>;
const peers: RtpPeer[] = [];

beforeAll(async () => {
  cert = selfSignedCert();
  [tcpPort, httpPort, httpsPort] = [await freeTcpPort(), await freeTcpPort(), await freeTcpPort()];
  d = await startDaemon([
    '-N', `127.0.0.1:${tcpPort}`,
    `--listen-http=127.0.0.1:${httpPort}`,
    `--listen-https=127.0.0.1:${httpsPort}`,
    `--https-cert=${cert.cert}`, `--https-key=${cert.key}`,
  ]);
  for (let i = 0; i < 2; i++) peers.push(await RtpPeer.open());
});

afterAll(async () => {
  for (const p of peers) p.close();
  cert?.cleanup();
  await expectNoLeaks(d);
});

const transports: Array<{ name: string; make: () => NgRequester }> = [
  { name: 'TCP', make: () => new NgTcpClient(tcpPort) },
  { name: 'HTTP', make: () => new NgHttpClient(`http://127.0.0.1:${httpPort}`) },
  { name: 'HTTPS', make: () => new NgHttpClient(`https://127.0.0.1:${httpsPort}`) },
  { name: 'WebSocket', make: () => new NgWsClient(`ws://127.0.0.1:${httpPort}`) },
  { name: 'secure WebSocket', make: () => new NgWsClient(`wss://127.0.0.1:${httpsPort}`) },
];

describe.each(transports)('ng over $name', ({ make }) => {
  it('carries a full call: offer, answer, RTP both ways, delete', async () => {
    const client = make();
    try {
      const [a, b] = peers as [RtpPeer, RtpPeer];
      a.clear();
      b.clear();
      const via = over(d, client);
      const callId = uniqueCallId('transport');
      const r = await offerAnswer(via, { callId, fromTag: 'ta', toTag: 'tb', a, b });
      for (let i = 0; i < 5; i++) a.send(rtpPacket(i), r.aRtp);
      for (let i = 0; i < 5; i++) b.send(rtpPacket(100 + i), r.bRtp);
      expect((await b.waitFor(5)).length).toBe(5);
      expect((await a.waitFor(5)).length).toBe(5);
      const q = await client.request({ command: 'query', 'call-id': callId });
      expect(q.result).toBe('ok');
      expect(q.totals.RTP.packets).toBe(10);
      await deleteCall(via, callId);
      expect((await d.ng.request({ command: 'list' })).calls).not.toContain(callId);
    } finally {
      client.close();
    }
  });

  it('answers a retransmit from the cookie cache without running it again', async () => {
    const client = make();
    try {
      const cookie = newCookie('rt');
      const callId = uniqueCallId('retransmit');
      const offer = { command: 'offer', 'call-id': callId, 'from-tag': 'x', sdp: sdpFor({ address: '127.0.0.1', port: 4000 }) };
      const first = await client.request(offer, { cookie });
      const dupsBefore = (await d.ng.request({ command: 'statistics' })).statistics.totalstatistics.ngduplicates;
      const again = await client.request(offer, { cookie });
      expect(again).toEqual(first);
      const stats = await d.ng.request({ command: 'statistics' });
      expect(stats.statistics.totalstatistics.ngduplicates).toBe(dupsBefore + 1);
      // the same cookie over UDP: the one cache answers it too
      expect(await d.ng.request(offer, { cookie })).toEqual(first);
      await deleteCall(d, callId);
    } finally {
      client.close();
    }
  });
});

describe('TCP framing', () => {
  it('splits messages sent back to back in one segment and joins one sent byte by byte', async () => {
    const c = new NgTcpClient(tcpPort);
    await c.ready;
    const got: string[] = [];
    c.socket.on('data', (b: Buffer) => got.push(b.toString('latin1')));
    c.socket.write(Buffer.concat([encodeNg({ command: 'ping' }, 'b2b1'), encodeNg({ command: 'ping' }, 'b2b2')]));
    const msg = encodeNg({ command: 'ping' }, 'trickle');
    for (const byte of msg) c.socket.write(Buffer.from([byte]));
    const deadline = Date.now() + 3000;
    while (!got.join('').includes('trickle d6:result4:ponge') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(got.join('')).toBe('b2b1 d6:result4:pongeb2b2 d6:result4:pongetrickle d6:result4:ponge');
    c.close();
  });
});

describe('HTTP endpoints', () => {
  const base = () => `http://127.0.0.1:${httpPort}`;

  it('GET /ping, OPTIONS with CORS, 404', async () => {
    const ping = await httpRequest(`${base()}/ping`);
    expect(ping.status).toBe(200);
    expect(ping.headers['content-type']).toBe('text/plain');
    expect(ping.body.toString()).toBe('pong\n');
    expect(ping.headers['access-control-allow-origin']).toBe('*');
    const options = await httpRequest(`${base()}/ng`, { method: 'OPTIONS' });
    expect(options.status).toBe(200);
    expect(options.headers['access-control-allow-methods']).toBe('GET, POST');
    expect((await httpRequest(`${base()}/nothing`)).status).toBe(404);
  });

  it('POST /ng-plain takes bencode and JSON without a cookie', async () => {
    const ben = await httpRequest(`${base()}/ng-plain`, { method: 'POST', headers: { 'Content-Type': 'application/x-rtpengine-ng' }, body: 'd7:command4:pinge' });
    expect(ben.status).toBe(200);
    expect(ben.headers['content-type']).toBe('application/x-rtpengine-ng');
    expect(ben.body.toString()).toBe('d6:result4:ponge');
    const json = await httpRequest(`${base()}/ng-plain`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"command":"ping"}' });
    expect(JSON.parse(json.body.toString())).toEqual({ result: 'pong' });
    const bad = await httpRequest(`${base()}/ng-plain`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"command":' });
    expect(decodeNgBody(bad.body)).toMatchObject({ result: 'error' });
  });

  it('POST /ng without a cookie is status 600, as rtpengine answers it', async () => {
    const r = await httpRequest(`${base()}/ng`, { method: 'POST', headers: { 'Content-Type': 'application/x-rtpengine-ng' }, body: 'nocookie' });
    expect(r.status).toBe(600);
    expect(r.body.toString()).toBe('error\n');
  });

  it('the CLI over GET /cli/COMMAND, POST /cli and the ng cli command', async () => {
    const get = await httpRequest(`${base()}/cli/list%20numsessions`);
    expect(get.status).toBe(200);
    expect(get.body.toString()).toMatch(/^Current sessions own: \d+\n/);
    const post = await httpRequest(`${base()}/cli`, { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: 'list totals' });
    expect(post.body.toString()).toMatch(/Total managed sessions\s+:\d+\n/);
    const ng = await d.ng.request({ command: 'cli', body: 'list maxsessions' });
    expect(ng.response).toBe('Maximum sessions configured on rtpengine: -1\n');
  });

  it('GET /metrics is the Prometheus text format', async () => {
    const r = await httpRequest(`${base()}/metrics`);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/plain/);
    expect(r.body.toString()).toMatch(/^# HELP rtpengine_sessions Owned sessions\n# TYPE rtpengine_sessions gauge\n/m);
    expect(r.body.toString()).toMatch(/^process_cpu_user_seconds_total /m);
  });
});

describe('WebSocket subprotocols', () => {
  it('ng-plain, cli and echo answer one message with one message', async () => {
    const plain = new WsClient(`ws://127.0.0.1:${httpPort}`, 'ng-plain.rtpengine.com');
    expect((await plain.send('d7:command4:pinge')).toString()).toBe('d6:result4:ponge');
    expect(JSON.parse((await plain.send('{"command":"ping"}')).toString())).toEqual({ result: 'pong' });
    plain.close();
    const cli = new WsClient(`wss://127.0.0.1:${httpsPort}`, 'cli.rtpengine.com');
    expect((await cli.send('list numsessions')).toString()).toMatch(/^Current sessions own: \d+\n/);
    cli.close();
    const echo = new WsClient(`ws://127.0.0.1:${httpPort}`, 'echo.rtpengine.com');
    expect((await echo.send(Buffer.from([0, 1, 2, 255]))).equals(Buffer.from([0, 1, 2, 255]))).toBe(true);
    echo.close();
  });

  it('the first protocol the client offers that rtpengine speaks is chosen', async () => {
    const ws = new WsClient(`ws://127.0.0.1:${httpPort}`, ['chat', 'ng.rtpengine.com']);
    await ws.ready;
    expect(ws.ws.protocol).toBe('ng.rtpengine.com');
    const { cookie, reply } = decodeNgMessage(await ws.send(encodeNg({ command: 'ping' }, 'proto')));
    expect(cookie).toBe('proto');
    expect(reply.result).toBe('pong');
    ws.close();
  });
});
