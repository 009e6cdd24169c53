/**
 * The addon's ng listener socket (kernel/src/ngio.cc, daemon/kernel/native-ng.ts) against real
 * UDP on 127.0.0.1, without a daemon: rounds of commands, replies that are ready after the
 * round's microtasks leave with the round, replies that come later leave at once (never held),
 * every reply to its sender, a datagram near the UDP maximum carried both ways, bind errors.
 */
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { nativeNgListeners } from '../../daemon/kernel/native-ng.js';
import type { DatagramListener } from '../../daemon/net/datagram-listener.js';

const factory = nativeNgListeners();
const LO = '127.0.0.1';

const open: Array<{ close(): void }> = [];
afterEach(() => {
  for (const o of open.splice(0)) o.close();
});

async function client(): Promise<{ sock: dgram.Socket; got: Buffer[] }> {
  const sock = dgram.createSocket('udp4');
  const got: Buffer[] = [];
  sock.on('message', (m) => got.push(m));
  await new Promise<void>((resolve) => sock.bind(0, LO, resolve));
  open.push(sock);
  return { sock, got };
}

async function until(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A free port: bound by the native socket with port 0 is not offered, so ask the kernel. */
async function freePort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, LO, resolve));
  const port = s.address().port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

describe('native ng listener', () => {
  it('is available when the addon is built', () => {
    expect(factory, 'the addon must be built for this test (npm run build:native)').not.toBeNull();
  });

  it('answers a burst: replies ready after microtasks go with the round, later ones at once', async () => {
    const port = await freePort();
    let listener: DatagramListener | null = null;
    const rounds: number[] = [];
    // echo: "m…" answered after a few microtasks (as a command that does not wait),
    // "t…" after a timer (as a command that waits for a lock held elsewhere)
    listener = await factory!.listen(LO, port, (msg, from, via) => {
      rounds.push(msg.length);
      const text = msg.toString();
      const reply = Buffer.from(`re:${text}`);
      if (text.startsWith('t')) setTimeout(() => via.send(reply, from), 20);
      else void Promise.resolve().then(() => Promise.resolve()).then(() => via.send(reply, from));
    });
    open.push(listener);
    const a = await client();
    const b = await client();
    const sent: Record<string, string[]> = { a: [], b: [] };
    for (let i = 0; i < 40; i++) {
      for (const [name, c] of [['a', a], ['b', b]] as const) {
        const text = `${i % 7 === 0 ? 't' : 'm'}${name}${i}`;
        sent[name]!.push(text);
        c.sock.send(text, port, LO);
      }
    }
    await until('every reply', () => a.got.length >= 40 && b.got.length >= 40);
    await new Promise((r) => setTimeout(r, 50)); // nothing more, nothing twice
    expect(a.got.map(String).sort()).toEqual(sent.a!.map((t) => `re:${t}`).sort());
    expect(b.got.map(String).sort()).toEqual(sent.b!.map((t) => `re:${t}`).sort());
    expect(rounds).toHaveLength(80);
  });

  it('carries a datagram near the UDP maximum in and out', async () => {
    const port = await freePort();
    const listener = await factory!.listen(LO, port, (msg, from, via) => {
      void Promise.resolve().then(() => via.send(Buffer.concat([Buffer.from('re:'), msg]), from));
    });
    open.push(listener);
    const c = await client();
    const big = Buffer.alloc(60_000, 0x61);
    c.sock.send(big, port, LO);
    c.sock.send('small', port, LO);
    await until('both replies', () => c.got.length >= 2);
    const sizes = c.got.map((m) => m.length).sort((x, y) => x - y);
    expect(sizes).toEqual([8, 60_003]);
  });

  it('a reply after close is refused; a bind conflict rejects with EADDRINUSE', async () => {
    const port = await freePort();
    let held: { send: () => boolean } | null = null;
    const listener = await factory!.listen(LO, port, (msg, from, via) => {
      held = { send: () => via.send(msg, from) };
    });
    const c = await client();
    c.sock.send('x', port, LO);
    await until('the command', () => held !== null);
    await expect(factory!.listen(LO, port, () => {})).rejects.toMatchObject({ code: 'EADDRINUSE' });
    listener.close();
    listener.close(); // idempotent
    expect(held!.send()).toBe(false);
  });
});
