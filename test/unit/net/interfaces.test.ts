import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import type { InterfaceSpec } from '../../../daemon/config/config.js';
import { PortsExhaustedError } from '../../../daemon/errors.js';
import { dgramSocketFactory } from '../../../daemon/net/dgram-socket.js';
import { InterfaceSet, type OpenedPair } from '../../../daemon/net/interfaces.js';
import type { Endpoint as PacketSource } from '../../../daemon/net/endpoint.js';

const spec = (name: string, address: string, family: 4 | 6 = 4, advertised = address): InterfaceSpec => ({ name, address, advertised, family });

describe('InterfaceSet.select', () => {
  const set = new InterfaceSet(
    [
      spec('priv', '10.0.0.1'),
      spec('pub', '203.0.113.1', 4, '198.51.100.9'),
      spec('pub', '2001:db8::1', 6),
      spec('default', '192.0.2.1'),
      spec('default', '2001:db8::2', 6),
    ],
    30000,
    30099,
  );

  it('lists the names once each', () => {
    expect(set.names()).toEqual(['priv', 'pub', 'default']);
    expect(set.hasName('pub')).toBe(true);
    expect(set.hasName('nope')).toBe(false);
  });

  it('selects by name', () => {
    expect(set.select('priv', undefined)?.address).toBe('10.0.0.1');
    expect(set.select('pub', undefined)?.address).toBe('203.0.113.1');
    expect(set.select('pub', undefined)?.advertised).toBe('198.51.100.9');
  });

  it('selects by name and family', () => {
    expect(set.select('pub', 6)?.address).toBe('2001:db8::1');
    expect(set.select('pub', 4)?.address).toBe('203.0.113.1');
    // no IPv6 on priv: the first of the name
    expect(set.select('priv', 6)?.address).toBe('10.0.0.1');
  });

  it('no name or an unknown name: the first interface with the wanted family (rtpengine)', () => {
    expect(set.select(undefined, undefined)?.address).toBe('10.0.0.1');
    expect(set.select(undefined, 4)?.address).toBe('10.0.0.1');
    // priv has no IPv6: the first interface that has
    expect(set.select(undefined, 6)?.address).toBe('2001:db8::1');
    expect(set.select('nope', 4)?.address).toBe('10.0.0.1');
    expect(set.resolve('nope', 4).unknown).toBe(true);
    expect(set.resolve('pub', 4).unknown).toBe(false);
  });

  it('legacy internal/external (when not configured) select IPv4/IPv6', () => {
    expect(set.select('internal', undefined)?.address).toBe('10.0.0.1');
    expect(set.select('external', undefined)?.address).toBe('2001:db8::1');
    expect(set.resolve('external', undefined)).toMatchObject({ family: 6, unknown: false });
  });

  it('without any address of the family, the first interface', () => {
    const s = new InterfaceSet([spec('a', '10.0.0.1'), spec('b', '10.0.0.2')], 30000, 30099);
    expect(s.select(undefined, 6)?.address).toBe('10.0.0.1');
    expect(s.select('zzz', 6)?.address).toBe('10.0.0.1');
  });

  it('every address has its own pool over the configured range', () => {
    const s = new InterfaceSet([spec('a', '10.0.0.1'), spec('b', '10.0.0.2')], 30001, 30010);
    expect(s.addresses.map((a) => [a.pool.first, a.pool.last])).toEqual([[30002, 30009], [30002, 30009]]);
    expect(s.addresses[0]!.pool).not.toBe(s.addresses[1]!.pool);
  });
});

describe('InterfaceSet.openPair on 127.0.0.1', () => {
  const opened: OpenedPair[] = [];
  const blockers: Socket[] = [];
  const noop = (_d: Buffer, _f: PacketSource) => undefined;

  afterEach(async () => {
    for (const p of opened.splice(0)) {
      p.rtp.close();
      p.rtcp.close();
    }
    await Promise.all(blockers.splice(0).map((s) => new Promise<void>((r) => s.close(() => r()))));
  });

  async function canBind(port: number): Promise<boolean> {
    const s = createSocket('udp4');
    const ok = await new Promise<boolean>((resolve) => {
      s.once('error', () => resolve(false));
      s.bind({ port, address: '127.0.0.1', exclusive: true }, () => resolve(true));
    });
    await new Promise<void>((r) => s.close(() => r()));
    return ok;
  }

  /**
   * An even base port with base..base+3 free right now, in 10000-13999: below the object-level call
   * tests' 14000-15999 and the daemon tests'
   * media blocks (20000-59999) and the ephemeral range (32768-60999), and apart from the
   * 1,000-call test's 61000-65535, so nobody else picks them meanwhile.
   */
  async function freeBase(): Promise<number> {
    for (let attempt = 0; attempt < 50; attempt++) {
      const base = 10000 + 2 * Math.floor(Math.random() * 1990);
      let free = true;
      for (let p = base; p < base + 4 && free; p++) free = await canBind(p);
      if (free) return base;
    }
    throw new Error('no free port block found');
  }

  async function block(port: number): Promise<Socket> {
    const s = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind({ port, address: '127.0.0.1', exclusive: true }, () => resolve());
    });
    blockers.push(s);
    return s;
  }

  it('opens even/odd pairs and exhausts a two-pair range with PortsExhaustedError', async () => {
    const base = await freeBase();
    const set = new InterfaceSet([spec('default', '127.0.0.1')], base, base + 3);
    const local = set.select(undefined, 4)!;
    const a = await set.openPair(local, dgramSocketFactory, noop, noop);
    opened.push(a);
    const b = await set.openPair(local, dgramSocketFactory, noop, noop);
    opened.push(b);
    expect([a.port, b.port].sort()).toEqual([base, base + 2]);
    for (const p of [a, b]) {
      expect(p.rtp.localPort).toBe(p.port);
      expect(p.rtcp.localPort).toBe(p.port + 1);
      expect(p.rtp.localAddress).toBe('127.0.0.1');
      expect(p.local).toBe(local);
    }
    expect(local.pool.inUse).toBe(2);
    await expect(set.openPair(local, dgramSocketFactory, noop, noop)).rejects.toBeInstanceOf(PortsExhaustedError);
    expect(local.pool.inUse).toBe(2);

    // releasing a pair (close + pool release) makes it available again
    const freed = opened.shift()!;
    freed.rtp.close();
    freed.rtcp.close();
    local.pool.release(freed.port);
    await new Promise((r) => setTimeout(r, 10));
    const c = await set.openPair(local, dgramSocketFactory, noop, noop);
    opened.push(c);
    expect(c.port).toBe(freed.port);
  });

  it('skips a pair whose RTP port is taken by another socket', async () => {
    const base = await freeBase();
    await block(base);
    const set = new InterfaceSet([spec('default', '127.0.0.1')], base, base + 3);
    const local = set.addresses[0]!;
    const p = await set.openPair(local, dgramSocketFactory, noop, noop);
    opened.push(p);
    expect(p.port).toBe(base + 2);
    expect(local.pool.has(base)).toBe(false);
    await expect(set.openPair(local, dgramSocketFactory, noop, noop)).rejects.toBeInstanceOf(PortsExhaustedError);
  });

  it('skips a pair whose RTCP port is taken, and releases the RTP port it bound', async () => {
    const base = await freeBase();
    await block(base + 1);
    const set = new InterfaceSet([spec('default', '127.0.0.1')], base, base + 3);
    const local = set.addresses[0]!;
    const p = await set.openPair(local, dgramSocketFactory, noop, noop);
    opened.push(p);
    expect(p.port).toBe(base + 2);
    expect(local.pool.inUse).toBe(1);
    // the RTP port of the skipped pair was closed again: we can bind it ourselves
    await new Promise((r) => setTimeout(r, 10));
    await expect(block(base)).resolves.toBeDefined();
  });

  it('a range where every port is taken throws PortsExhaustedError', async () => {
    const base = await freeBase();
    await block(base);
    const set = new InterfaceSet([spec('default', '127.0.0.1')], base, base + 1);
    await expect(set.openPair(set.addresses[0]!, dgramSocketFactory, noop, noop)).rejects.toThrow(PortsExhaustedError);
    expect(set.addresses[0]!.pool.inUse).toBe(0);
  });

  it('packets reach the handlers of the opened sockets', async () => {
    const base = await freeBase();
    const set = new InterfaceSet([spec('default', '127.0.0.1')], base, base + 1);
    const got: Array<[string, string]> = [];
    const p = await set.openPair(
      set.addresses[0]!,
      dgramSocketFactory,
      (d) => got.push(['rtp', d.toString()]),
      (d) => got.push(['rtcp', d.toString()]),
    );
    opened.push(p);
    const s = createSocket('udp4');
    blockers.push(s);
    s.send('one', p.port, '127.0.0.1');
    s.send('two', p.port + 1, '127.0.0.1');
    for (let i = 0; i < 100 && got.length < 2; i++) await new Promise((r) => setTimeout(r, 5));
    expect(got.sort()).toEqual([['rtcp', 'two'], ['rtp', 'one']]);
  });
});

describe('InterfaceSet.openPair when the process runs out of file descriptors', () => {
  it('refuses with PortsExhaustedError (a clear "Ran out of ports") and returns the pair to the pool', async () => {
    const set = new InterfaceSet([{ name: 'default', address: '127.0.0.1', advertised: '127.0.0.1', family: 4 }], 62000, 62009);
    // socket() failing with EMFILE, as the OS reports it when RLIMIT_NOFILE is reached
    const exhausted = {
      kind: 'dgram' as const,
      open: async () => {
        throw Object.assign(new Error('bind EMFILE 127.0.0.1'), { code: 'EMFILE' });
      },
    };
    const local = set.addresses[0]!;
    await expect(set.openPair(local, exhausted, () => undefined, () => undefined)).rejects.toThrow(PortsExhaustedError);
    await expect(set.openPair(local, exhausted, () => undefined, () => undefined)).rejects.toThrow(/EMFILE/);
    expect(local.pool.inUse).toBe(0);
  });
});

describe('aliases, BASE:SUFFIX round-robin, several addresses per name', () => {
  it('an alias names the same logical interface', () => {
    const s = new InterfaceSet([spec('pub1', '203.0.113.1'), spec('priv', '10.0.0.1')], 30000, 30099, [{ alias: 'pub', target: 'pub1' }]);
    expect(s.names()).toEqual(['pub1', 'priv', 'pub']);
    expect(s.select('pub', 4)?.address).toBe('203.0.113.1');
    expect(s.logical('pub')).toBe(s.logical('pub1'));
    // the address keeps the interface's real name
    expect(s.select('pub', 4)?.name).toBe('pub1');
    expect(s.accepts('pub', 4, s.addresses[0]!)).toBe(true);
    expect(s.accepts('pub', 4, s.addresses[1]!)).toBe(false);
  });

  it('BASE selects the BASE:SUFFIX interfaces round-robin, per family', () => {
    const s = new InterfaceSet(
      [spec('pub:1', '203.0.113.1'), spec('pub:1', '2001:db8::1', 6), spec('pub:2', '203.0.113.2'), spec('pub:3', '2001:db8::3', 6), spec('priv', '10.0.0.1')],
      30000,
      30099,
    );
    expect([1, 2, 3, 4].map(() => s.select('pub', 4)?.address)).toEqual(['203.0.113.1', '203.0.113.2', '203.0.113.1', '203.0.113.2']);
    expect([1, 2, 3].map(() => s.select('pub', 6)?.address)).toEqual(['2001:db8::1', '2001:db8::3', '2001:db8::1']);
    // each suffixed name is still an interface of its own
    expect(s.select('pub:2', 4)?.address).toBe('203.0.113.2');
    expect(s.hasName('pub')).toBe(true);
    // a port pair on any pub:N interface satisfies a re-offer asking for pub
    expect(s.accepts('pub', 4, s.addresses[2]!)).toBe(true);
    expect(s.accepts('pub', 4, s.addresses[4]!)).toBe(false);
  });

  it('round-robin skips an interface whose pool is exhausted', () => {
    const s = new InterfaceSet([spec('pub:1', '203.0.113.1'), spec('pub:2', '203.0.113.2'), spec('pub:3', '203.0.113.3')], 30000, 30003);
    const full = s.addresses[1]!;
    for (const port of [...full.pool.candidates()]) full.pool.reserve(port);
    expect([1, 2, 3, 4].map(() => s.select('pub', 4)?.address)).toEqual(['203.0.113.1', '203.0.113.3', '203.0.113.1', '203.0.113.3']);
  });

  it('no name with a BASE:SUFFIX first interface: round-robin over that BASE', () => {
    const s = new InterfaceSet([spec('a:1', '10.0.0.1'), spec('a:2', '10.0.0.2'), spec('b', '10.0.0.3')], 30000, 30099);
    expect([1, 2, 3].map(() => s.select(undefined, 4)?.address)).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.1']);
  });

  it('round-robin-calls rotates over every interface', () => {
    const s = new InterfaceSet([spec('x', '10.0.0.1'), spec('y', '10.0.0.2')], 30000, 30099);
    expect([1, 2, 3].map(() => s.select('round-robin-calls', 4)?.address)).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.1']);
  });

  it('several addresses of one family under one name: the first is primary', () => {
    const s = new InterfaceSet([spec('pub', '203.0.113.1'), spec('pub', '203.0.113.2'), spec('pub', '2001:db8::1', 6)], 30000, 30099);
    expect([1, 2].map(() => s.select('pub', 4)?.address)).toEqual(['203.0.113.1', '203.0.113.1']);
    expect(s.select('pub', 6)?.address).toBe('2001:db8::1');
    expect(s.logical('pub')!.ofFamily(4).map((a) => a.address)).toEqual(['203.0.113.1', '203.0.113.2']);
  });
});

describe('InterfaceSet.openFor: falls back to the next address when a pool is exhausted', () => {
  const noop = (_d: Buffer, _f: PacketSource) => undefined;
  // one pair per address, on 127.0.0.2-5 in 10000-19999 (away from the daemon tests' blocks)
  const base = () => 10000 + 2 * Math.floor(Math.random() * 4990);

  it('primary exhausted → next address of the same name and family; all exhausted → PortsExhaustedError', async () => {
    const b0 = base();
    const set = new InterfaceSet([spec('pub', '127.0.0.2'), spec('pub', '127.0.0.3'), spec('pub:x', '127.0.0.4')], b0, b0 + 1);
    const opened: OpenedPair[] = [];
    try {
      const a = await set.openFor('pub', 4, dgramSocketFactory, noop, noop);
      opened.push(a);
      const b = await set.openFor('pub', 4, dgramSocketFactory, noop, noop);
      opened.push(b);
      expect([a.local.address, b.local.address]).toEqual(['127.0.0.2', '127.0.0.3']);
      await expect(set.openFor('pub', 4, dgramSocketFactory, noop, noop)).rejects.toThrow(/no free port pair on pub\/127.0.0.2, pub\/127.0.0.3/);
    } finally {
      for (const p of opened) {
        p.rtp.close();
        p.rtcp.close();
      }
    }
  });

  it('round-robin moves on to the next BASE:SUFFIX interface when one is exhausted', async () => {
    const b0 = base();
    const set = new InterfaceSet([spec('rr:1', '127.0.0.4'), spec('rr:2', '127.0.0.5')], b0, b0 + 1);
    const opened: OpenedPair[] = [];
    try {
      for (let i = 0; i < 2; i++) opened.push(await set.openFor('rr', 4, dgramSocketFactory, noop, noop));
      expect(opened.map((p) => p.local.address).sort()).toEqual(['127.0.0.4', '127.0.0.5']);
      await expect(set.openFor('rr', 4, dgramSocketFactory, noop, noop)).rejects.toBeInstanceOf(PortsExhaustedError);
    } finally {
      for (const p of opened) {
        p.rtp.close();
        p.rtcp.close();
      }
    }
  });
});
