/**
 * The ng UDP listener under a burst: many commands from several proxies sent at once (more than
 * one recvmmsg round of the addon's socket), on an IPv4 and an IPv6 listener, each reply back to
 * its own sender, retransmits answered from the cookie cache with the same bytes, garbage
 * dropped and counted, a malformed command answered with an error, and a command and reply far
 * larger than a media packet. Runs on the addon's ng socket (the default whenever the addon
 * loads: recvmmsg in, sendmmsg out) and on Node's dgram (the daemon without the addon).
 */
import dgram from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bencodeDecode, bencodeEncode, bencodeToPlain, type Encodable } from '../../daemon/control/bencode.js';
import { sdpFor, uniqueCallId } from '../../support/sdp.js';
import { freeUdpPort, startDaemon, type DaemonHandle } from '../helpers/daemon.js';
import { expectNoLeaks } from '../helpers/leaks.js';
import { splitCookie, type NgReply } from '../helpers/ng-client.js';
import { expectNgIo, NG_IO, ngIoOptions } from '../helpers/ng-io.js';

/** A proxy: one socket, every datagram it receives kept. */
class Proxy {
  readonly replies: Buffer[] = [];
  private constructor(
    readonly sock: dgram.Socket,
    readonly target: { address: string; port: number },
  ) {
    sock.on('message', (m) => this.replies.push(m));
  }

  static async open(target: { address: string; port: number }): Promise<Proxy> {
    const v6 = target.address.includes(':');
    const sock = dgram.createSocket(v6 ? 'udp6' : 'udp4');
    await new Promise<void>((resolve) => sock.bind(0, v6 ? '::1' : '127.0.0.1', resolve));
    return new Proxy(sock, target);
  }

  /** Sends every datagram without waiting for anything in between. */
  burst(datagrams: readonly Buffer[]): void {
    for (const m of datagrams) this.sock.send(m, this.target.port, this.target.address);
  }

  /** The replies by cookie (a cookie answered twice would fail the caller's count). */
  byCookie(): Map<string, Buffer> {
    const out = new Map<string, Buffer>();
    for (const r of this.replies) out.set(splitCookie(r)!.cookie, r);
    return out;
  }

  close(): void {
    this.sock.close();
  }
}

async function until(what: string, cond: () => boolean, ms = 8000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const decode = (reply: Buffer): NgReply => bencodeToPlain(bencodeDecode(splitCookie(reply)!.body)) as NgReply;
const message = (cookie: string, body: Encodable | string): Buffer =>
  Buffer.concat([Buffer.from(`${cookie} `), typeof body === 'string' ? Buffer.from(body) : bencodeEncode(body)]);

describe.each(NG_IO)('ng UDP listener on %s sockets: a burst of commands', (io) => {
  let d: DaemonHandle;
  let port6: number;
  const proxies: Proxy[] = [];
  const callIds: string[] = [];

  beforeAll(async () => {
    port6 = await freeUdpPort('::1');
    d = await startDaemon(['-i', '::1', '-n', `[::1]:${port6}`], ngIoOptions(io, { interfaces: ['127.0.0.1'] }));
    expectNgIo(d, io);
  });

  afterAll(async () => {
    for (const p of proxies) p.close();
    for (const id of callIds) await d.ng.request({ command: 'delete', 'call-id': id, 'delete-delay': 0 });
    await expectNoLeaks(d);
  });

  const totals = async (): Promise<Record<string, number>> =>
    (await d.ng.request({ command: 'statistics' })).statistics.totalstatistics as Record<string, number>;

  it('answers every command to its sender, retransmits from the cache, drops garbage', async () => {
    for (let i = 0; i < 4; i++) proxies.push(await Proxy.open({ address: '127.0.0.1', port: d.ngPort }));
    for (let i = 0; i < 2; i++) proxies.push(await Proxy.open({ address: '::1', port: port6 }));
    const before = await totals();
    // per proxy: 6 offers, 6 pings, a bencode error, a JSON ping, garbage: 60 answered + 6 garbage on
    // the IPv4 listener, 30 + 2 on the IPv6 one; more than a round of the addon's socket each
    const sent = proxies.map((p, n) => {
      const v6 = p.target.address === '::1';
      const datagrams: Buffer[] = [];
      const cookies: string[] = [];
      for (let i = 0; i < 6; i++) {
        const callId = uniqueCallId(`burst-${io}-${n}-${i}`);
        callIds.push(callId);
        cookies.push(`b${n}o${i}`);
        datagrams.push(message(`b${n}o${i}`, {
          command: 'offer', 'call-id': callId, 'from-tag': `f${i}`,
          sdp: sdpFor({ address: v6 ? '::1' : '127.0.0.1', port: 30000 + n * 100 + i * 2 }),
        }));
        cookies.push(`b${n}p${i}`);
        datagrams.push(message(`b${n}p${i}`, { command: 'ping' }));
      }
      cookies.push(`b${n}bad`);
      datagrams.push(message(`b${n}bad`, 'd7:command4:pin'));
      cookies.push(`b${n}json`);
      datagrams.push(message(`b${n}json`, '{"command":"ping"}'));
      datagrams.push(Buffer.from('no-cookie-here'));
      return { datagrams, cookies };
    });
    proxies.forEach((p, n) => p.burst(sent[n]!.datagrams));
    await until('every reply', () => proxies.every((p, n) => p.replies.length >= sent[n]!.cookies.length));

    const first: Map<string, Buffer>[] = [];
    proxies.forEach((p, n) => {
      const got = p.byCookie();
      first.push(got);
      expect(p.replies, `proxy ${n}: one reply per command, garbage unanswered`).toHaveLength(sent[n]!.cookies.length);
      expect([...got.keys()].sort(), `proxy ${n}: only its own cookies`).toEqual([...sent[n]!.cookies].sort());
      for (let i = 0; i < 6; i++) {
        const offer = decode(got.get(`b${n}o${i}`)!);
        expect(offer.result, JSON.stringify(offer)).toBe('ok');
        expect(offer.sdp).toMatch(p.target.address === '::1' ? /c=IN IP6 ::1/ : /c=IN IP4 127\.0\.0\.1/);
        expect(decode(got.get(`b${n}p${i}`)!).result).toBe('pong');
      }
      const bad = decode(got.get(`b${n}bad`)!);
      expect(bad.result).toBe('error');
      expect(bad['error-reason']).toBeTypeOf('string');
      expect(got.get(`b${n}json`)!.toString()).toBe(`b${n}json {"result":"pong"}`);
    });
    const mid = await totals();
    expect(mid.nggarbage - before.nggarbage, 'garbage counted, not answered').toBe(proxies.length);

    // the same datagrams again, at once: answered from the cache, byte for byte, nothing re-run
    for (const p of proxies) p.replies.length = 0;
    proxies.forEach((p, n) => p.burst(sent[n]!.datagrams));
    await until('every retransmit reply', () => proxies.every((p, n) => p.replies.length >= sent[n]!.cookies.length));
    proxies.forEach((p, n) => {
      const again = p.byCookie();
      expect(p.replies).toHaveLength(sent[n]!.cookies.length);
      for (const [cookie, reply] of first[n]!) expect(again.get(cookie)?.equals(reply), `proxy ${n} ${cookie}: same bytes`).toBe(true);
    });
    const after = await totals();
    const answered = sent.reduce((k, s) => k + s.cookies.length, 0);
    expect(after.ngduplicates - mid.ngduplicates, 'every retransmit answered from the cache').toBe(answered);
    expect(after.nggarbage - mid.nggarbage).toBe(proxies.length);
    const list = await d.ng.request({ command: 'list', limit: 1000 });
    for (const id of callIds) expect((list.calls as string[]).filter((c) => c === id), `${id} set up once`).toHaveLength(1);
  });

  it('keeps the teardown audit exact when deletes and offers arrive in one burst', async () => {
    // Commands of one burst run interleaved (their awaits share the microtask queue): a delete's
    // teardown audit of the addon's socket count must not count the pairs that offers of the
    // same burst have opened but not registered yet (call/allocations-in-flight.ts).
    const p = await Proxy.open({ address: '127.0.0.1', port: d.ngPort });
    proxies.push(p);
    const old: string[] = [];
    for (let i = 0; i < 12; i++) {
      const callId = uniqueCallId(`mix-old-${io}-${i}`);
      old.push(callId);
      await d.ng.ok({ command: 'offer', 'call-id': callId, 'from-tag': 'f', sdp: sdpFor({ address: '127.0.0.1', port: 32000 + i * 2 }) });
    }
    const before = (await d.ng.request({ command: 'statistics' })).leaks as { leaked: number };
    const datagrams: Buffer[] = [];
    const fresh: string[] = [];
    for (let i = 0; i < 12; i++) {
      const callId = uniqueCallId(`mix-new-${io}-${i}`);
      fresh.push(callId);
      callIds.push(callId);
      datagrams.push(message(`m${i}o`, { command: 'offer', 'call-id': callId, 'from-tag': 'f', sdp: sdpFor({ address: '127.0.0.1', port: 33000 + i * 2 }) }));
      datagrams.push(message(`m${i}d`, { command: 'delete', 'call-id': old[i]!, 'delete-delay': 0 }));
    }
    p.burst(datagrams);
    await until('every reply', () => p.replies.length >= datagrams.length);
    const got = p.byCookie();
    for (let i = 0; i < 12; i++) {
      expect(decode(got.get(`m${i}o`)!).result, `offer ${i}`).toBe('ok');
      expect(decode(got.get(`m${i}d`)!).result, `delete ${i}`).toBe('ok');
    }
    const after = (await d.ng.request({ command: 'statistics' })).leaks as { leaked: number };
    expect(after.leaked - before.leaked, 'teardowns audited as leaking').toBe(0);
    const list = (await d.ng.request({ command: 'list', limit: 1000 })).calls as string[];
    for (const id of old) expect(list, `${id} deleted`).not.toContain(id);
    for (const id of fresh) expect(list, `${id} set up`).toContain(id);
  });

  it('carries a command and a reply of tens of KB (far above a media packet)', async () => {
    const p = await Proxy.open({ address: '127.0.0.1', port: d.ngPort });
    proxies.push(p);
    const callId = uniqueCallId(`big-${io}`);
    callIds.push(callId);
    // unknown attributes pass through to the rewritten SDP, so the reply is as large
    const pad = Array.from({ length: 400 }, (_, i) => `a=x-pad-${i}:${'z'.repeat(60)}`).join('\r\n');
    const sdp = `${sdpFor({ address: '127.0.0.1', port: 31000 })}${pad}\r\n`;
    const msg = message('big1', { command: 'offer', 'call-id': callId, 'from-tag': 'f', sdp });
    expect(msg.length).toBeGreaterThan(25_000);
    p.burst([msg, message('big2', { command: 'ping' })]);
    await until('both replies', () => p.replies.length >= 2);
    const got = p.byCookie();
    const offer = decode(got.get('big1')!);
    expect(offer.result, JSON.stringify(offer).slice(0, 300)).toBe('ok');
    expect(got.get('big1')!.length).toBeGreaterThan(25_000);
    expect(offer.sdp).toContain(`a=x-pad-399:${'z'.repeat(60)}`);
    expect(decode(got.get('big2')!).result).toBe('pong');
  });
});
