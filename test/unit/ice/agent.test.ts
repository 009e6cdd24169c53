/**
 * Two ICE agents talking over real loopback sockets: checks sent and answered, a role
 * conflict (both start controlling) resolved by tie-breaker, nomination selecting one pair
 * per side, an ICE-lite agent that only answers, and forged checks refused.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { IceAgent, candidatePriority, parseCandidate, type IceCandidate } from '../../../daemon/ice/agent.js';
import { Attr, METHOD_BINDING, StunClass, encodeStun, newTransactionId } from '../../../daemon/ice/stun.js';
import { dgramSocketFactory } from '../../../daemon/net/dgram-socket.js';
import type { Endpoint } from '../../../daemon/net/endpoint.js';
import type { MediaSocket } from '../../../daemon/net/media-socket.js';
import { freeUdpPort } from '../../../support/ports.js';

const opened: MediaSocket[] = [];
const agents: IceAgent[] = [];
afterEach(() => {
  for (const a of agents.splice(0)) a.close();
  for (const s of opened.splice(0)) s.close();
});

interface Side {
  agent: IceAgent;
  sock: MediaSocket;
  selected: Array<[number, Endpoint]>;
  candidate: IceCandidate;
}

async function side(controlling: boolean, lite = false): Promise<Side> {
  const holder: { agent?: IceAgent } = {};
  const sock = await dgramSocketFactory.open('127.0.0.1', await freeUdpPort(), 4, (data, from) => {
    holder.agent?.receive(1, data, from, sock);
  });
  opened.push(sock);
  const selected: Array<[number, Endpoint]> = [];
  const agent = new IceAgent({ socket: () => sock, selected: (c, ep) => selected.push([c, ep]) }, { controlling, lite });
  holder.agent = agent;
  agents.push(agent);
  const candidate = parseCandidate(`abc 1 UDP ${candidatePriority(126, 65535, 1)} 127.0.0.1 ${sock.localPort} typ host`)!;
  return { agent, sock, selected, candidate };
}

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
}

function introduce(a: Side, b: Side): void {
  a.agent.setRemote(b.agent.local, [b.candidate], b.agent.lite);
  b.agent.setRemote(a.agent.local, [a.candidate], a.agent.lite);
}

describe('ICE agent', () => {
  it('controlling and controlled agents nominate and select the same pair', async () => {
    const a = await side(true);
    const b = await side(false);
    introduce(a, b);
    await until(() => a.selected.length > 0 && b.selected.length > 0);
    expect(a.selected).toEqual([[1, { address: '127.0.0.1', port: b.sock.localPort, family: 4 }]]);
    expect(b.selected).toEqual([[1, { address: '127.0.0.1', port: a.sock.localPort, family: 4 }]]);
    expect(a.agent.stats.checksSent).toBeGreaterThan(0);
    expect(b.agent.stats.requestsAnswered).toBeGreaterThan(0);
  });

  it('a role conflict (both controlling) is resolved: one side yields and both select', async () => {
    const a = await side(true);
    const b = await side(true);
    introduce(a, b);
    await until(() => a.selected.length > 0 && b.selected.length > 0);
    expect(a.agent.controlling).not.toBe(b.agent.controlling);
    expect(a.agent.stats.roleConflicts + b.agent.stats.roleConflicts).toBeGreaterThan(0);
    expect(a.selected.length).toBe(1);
    expect(b.selected.length).toBe(1);
  });

  it('an ICE-lite agent sends no checks, answers, and selects what the full peer nominates', async () => {
    const full = await side(false);
    const lite = await side(true, true);
    expect(lite.agent.controlling, 'lite never controls').toBe(false);
    introduce(full, lite);
    expect(full.agent.controlling, 'the peer of a lite agent controls').toBe(true);
    await until(() => full.selected.length > 0 && lite.selected.length > 0);
    expect(lite.agent.stats.checksSent).toBe(0);
    expect(lite.selected.length).toBe(1);
  });

  it('refuses checks with a wrong password or username and unsolicited responses', async () => {
    const a = await side(false);
    const forger = await side(false);
    a.agent.setRemote({ ufrag: 'remoteUf', pwd: 'remotepasswordremotepasswo' }, [], false);
    const bad = encodeStun(METHOD_BINDING, StunClass.Request, newTransactionId(), [
      { type: Attr.Username, value: Buffer.from(`${a.agent.local.ufrag}:remoteUf`) },
      { type: Attr.UseCandidate, value: Buffer.alloc(0) },
    ], { integrityKey: 'nope', fingerprint: true });
    const from = { address: '127.0.0.1', port: forger.sock.localPort, family: 4 as const };
    expect(a.agent.receive(1, bad, from, a.sock)).toBe(false);
    const wrongUser = encodeStun(METHOD_BINDING, StunClass.Request, newTransactionId(), [
      { type: Attr.Username, value: Buffer.from('someone:remoteUf') },
    ], { integrityKey: a.agent.local.pwd, fingerprint: true });
    expect(a.agent.receive(1, wrongUser, from, a.sock)).toBe(false);
    const unsolicited = encodeStun(METHOD_BINDING, StunClass.Success, newTransactionId(), [], { integrityKey: 'remotepasswordremotepasswo', fingerprint: true });
    expect(a.agent.receive(1, unsolicited, from, a.sock)).toBe(false);
    expect(a.agent.receive(1, Buffer.from('garbage garbage garbage!'), from, a.sock)).toBe(false);
    expect(a.agent.stats.refused).toBe(4);
    expect(a.selected).toEqual([]);
  });

  it('parses candidates and rejects unusable ones', () => {
    expect(parseCandidate('1 1 UDP 2130706431 198.51.100.1 2000 typ host')).toMatchObject({ component: 1, port: 2000, type: 'host' });
    expect(parseCandidate('1 1 TCP 2130706431 198.51.100.1 2000 typ host')).toBeNull();
    expect(parseCandidate('1 3 UDP 1 198.51.100.1 2000 typ host')).toBeNull();
    expect(parseCandidate('1 1 UDP x 198.51.100.1 2000 typ host')).toBeNull();
    expect(parseCandidate('garbage')).toBeNull();
    expect(candidatePriority(126, 65535, 1)).toBe(2130706431);
    expect(candidatePriority(126, 65534, 1)).toBe(2130706175);
    expect(candidatePriority(126, 65535, 2)).toBe(2130706430);
  });
});
