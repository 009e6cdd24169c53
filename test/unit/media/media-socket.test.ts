import { describe, expect, it } from 'vitest';
import { LeakRegistry } from '../../../daemon/leak/registry.js';
import { LEARNING_WINDOW_MS, learnEndpoint } from '../../../daemon/media/media-socket.js';
import { PacketStream, type CallGate, type Endpoint, type LearningMode } from '../../../daemon/media/packet-stream.js';

class FakeGate implements CallGate {
  readonly callId = 'c';
  writeLocked = false;
  changed: Array<Endpoint | null> = [];
  defer(): boolean {
    return true;
  }
  endpointChanged(stream: PacketStream): void {
    this.changed.push(stream.endpoint ? { ...stream.endpoint } : null);
  }
  // endpoint learning never touches SSRC contexts
  createSsrc(): never {
    throw new Error('learnEndpoint must not create SSRC contexts');
  }
  releaseSsrc(): never {
    throw new Error('learnEndpoint must not release SSRC contexts');
  }
}

const registry = new LeakRegistry('summary');
const ep = (address: string, port: number): Endpoint => ({ address, port, family: 4 });
const SDP = ep('198.51.100.1', 2000);
const OTHER = ep('203.0.113.7', 40000);

function stream(learning: LearningMode, advertised: Endpoint | null = SDP, opts: { strict?: boolean; handover?: boolean } = {}) {
  const gate = new FakeGate();
  const s = new PacketStream(gate, 1, registry.register('PacketStream', 'c'));
  s.learning = learning;
  s.strictSource = opts.strict ?? false;
  s.mediaHandover = opts.handover ?? false;
  s.setAdvertised(advertised);
  return { s, gate };
}

const T0 = 1_000_000;

describe('learnEndpoint: immediate', () => {
  it('learns and confirms from the first packet', () => {
    const { s, gate } = stream('immediate');
    expect(learnEndpoint(s, OTHER, T0)).toBe(true);
    expect(s.confirmed).toBe(true);
    expect(s.endpoint).toEqual(OTHER);
    expect(gate.changed).toEqual([OTHER]);
  });

  it('does not alias the packet source object', () => {
    const { s } = stream('immediate');
    const from = ep('203.0.113.7', 40000);
    learnEndpoint(s, from, T0);
    from.port = 1;
    expect(s.endpoint?.port).toBe(40000);
  });

  it('after confirmation a new source does not move the endpoint (no handover)', () => {
    const { s, gate } = stream('immediate');
    learnEndpoint(s, OTHER, T0);
    expect(learnEndpoint(s, ep('192.0.2.99', 5555), T0 + 10)).toBe(true);
    expect(s.endpoint).toEqual(OTHER);
    expect(gate.changed).toHaveLength(1);
  });
});

describe('learnEndpoint: delayed', () => {
  it('a packet from the SDP endpoint confirms at once', () => {
    const { s, gate } = stream('delayed');
    expect(learnEndpoint(s, ep(SDP.address, SDP.port), T0)).toBe(true);
    expect(s.confirmed).toBe(true);
    expect(s.endpoint).toEqual(SDP);
    // unchanged endpoint: reported once so the fast path can be (re)evaluated
    expect(gate.changed).toEqual([SDP]);
  });

  it('another source is used tentatively, confirmed only 3 s after the first packet', () => {
    const { s, gate } = stream('delayed');
    expect(learnEndpoint(s, OTHER, T0)).toBe(true);
    expect(s.confirmed).toBe(false);
    expect(s.endpoint).toEqual(OTHER);
    expect(gate.changed).toEqual([OTHER]);

    expect(learnEndpoint(s, OTHER, T0 + 1000)).toBe(true);
    expect(learnEndpoint(s, OTHER, T0 + LEARNING_WINDOW_MS - 1)).toBe(true);
    expect(s.confirmed).toBe(false);
    expect(gate.changed).toHaveLength(1);

    expect(learnEndpoint(s, OTHER, T0 + LEARNING_WINDOW_MS)).toBe(true);
    expect(s.confirmed).toBe(true);
    expect(s.endpoint).toEqual(OTHER);
  });

  it('the tentative endpoint follows the latest source during the window', () => {
    const { s } = stream('delayed');
    const third = ep('192.0.2.50', 6000);
    learnEndpoint(s, OTHER, T0);
    learnEndpoint(s, third, T0 + 500);
    expect(s.endpoint).toEqual(third);
    expect(s.confirmed).toBe(false);
    // the SDP endpoint shows up within the window: confirmed at once
    learnEndpoint(s, SDP, T0 + 1000);
    expect(s.confirmed).toBe(true);
    expect(s.endpoint).toEqual(SDP);
    // later packets from elsewhere do not change it
    learnEndpoint(s, OTHER, T0 + 5000);
    expect(s.endpoint).toEqual(SDP);
  });

  it('the packet that arrives after the window is the one learned', () => {
    const { s } = stream('delayed');
    const late = ep('192.0.2.77', 7000);
    learnEndpoint(s, OTHER, T0);
    learnEndpoint(s, late, T0 + LEARNING_WINDOW_MS + 1);
    expect(s.confirmed).toBe(true);
    expect(s.endpoint).toEqual(late);
  });

  it('without an SDP endpoint learning still waits for the window', () => {
    const { s } = stream('delayed', null);
    learnEndpoint(s, OTHER, T0);
    expect(s.confirmed).toBe(false);
    learnEndpoint(s, OTHER, T0 + LEARNING_WINDOW_MS);
    expect(s.confirmed).toBe(true);
  });

  it('a new SDP endpoint (re-INVITE) resets learning', () => {
    const { s } = stream('delayed');
    learnEndpoint(s, SDP, T0);
    expect(s.confirmed).toBe(true);
    const moved = ep('198.51.100.2', 2002);
    s.setAdvertised(moved);
    expect(s.confirmed).toBe(false);
    expect(s.endpoint).toEqual(moved);
    learnEndpoint(s, OTHER, T0 + 10);
    expect(s.confirmed).toBe(false);
    expect(s.endpoint).toEqual(OTHER);
  });
});

describe('learnEndpoint: off', () => {
  it('media stays on the SDP endpoint whatever the source', () => {
    const { s, gate } = stream('off');
    expect(learnEndpoint(s, OTHER, T0)).toBe(true);
    expect(s.endpoint).toEqual(SDP);
    expect(learnEndpoint(s, OTHER, T0 + 10_000)).toBe(true);
    expect(s.endpoint).toEqual(SDP);
    expect(gate.changed).toEqual([]);
  });

  it('strict-source still drops other sources', () => {
    const { s } = stream('off', SDP, { strict: true });
    expect(learnEndpoint(s, OTHER, T0)).toBe(false);
    expect(learnEndpoint(s, SDP, T0 + 1)).toBe(true);
    expect(learnEndpoint(s, OTHER, T0 + 2)).toBe(false);
    expect(s.endpoint).toEqual(SDP);
  });
});

describe('learnEndpoint: heuristic', () => {
  const sameAddr = ep(SDP.address, 3000);
  const samePort = ep('192.0.2.1', SDP.port);
  const nothing = ep('192.0.2.2', 4444);

  it('better matches replace worse ones during the window, then it commits', () => {
    const { s, gate } = stream('heuristic');
    learnEndpoint(s, nothing, T0);
    expect(s.endpoint).toEqual(nothing);
    expect(s.learnScore).toBe(1);
    learnEndpoint(s, samePort, T0 + 100);
    expect(s.endpoint).toEqual(samePort);
    learnEndpoint(s, sameAddr, T0 + 200);
    expect(s.endpoint).toEqual(sameAddr);
    expect(s.learnScore).toBe(3);
    // a worse source later does not take over
    learnEndpoint(s, nothing, T0 + 300);
    learnEndpoint(s, samePort, T0 + 400);
    expect(s.endpoint).toEqual(sameAddr);
    expect(s.confirmed).toBe(false);
    expect(gate.changed).toEqual([nothing, samePort, sameAddr]);
    // the window ends: the best one is kept, even if the triggering packet is worse
    learnEndpoint(s, nothing, T0 + LEARNING_WINDOW_MS);
    expect(s.confirmed).toBe(true);
    expect(s.endpoint).toEqual(sameAddr);
  });

  it('an exact SDP match confirms at once', () => {
    const { s } = stream('heuristic');
    learnEndpoint(s, samePort, T0);
    learnEndpoint(s, SDP, T0 + 10);
    expect(s.confirmed).toBe(true);
    expect(s.endpoint).toEqual(SDP);
    learnEndpoint(s, sameAddr, T0 + 20);
    expect(s.endpoint).toEqual(SDP);
  });

  it('equal scores keep the first source', () => {
    const { s } = stream('heuristic');
    learnEndpoint(s, nothing, T0);
    learnEndpoint(s, ep('192.0.2.3', 5555), T0 + 10);
    expect(s.endpoint).toEqual(nothing);
  });
});

describe('strict-source and media-handover after confirmation', () => {
  it('strict-source drops packets from other sources and keeps the endpoint', () => {
    const { s } = stream('immediate', SDP, { strict: true });
    expect(learnEndpoint(s, SDP, T0)).toBe(true);
    expect(learnEndpoint(s, OTHER, T0 + 1)).toBe(false);
    expect(learnEndpoint(s, ep(SDP.address, SDP.port + 2), T0 + 2)).toBe(false);
    expect(learnEndpoint(s, SDP, T0 + 3)).toBe(true);
    expect(s.endpoint).toEqual(SDP);
  });

  it('strict-source does not apply before confirmation in delayed mode', () => {
    const { s } = stream('delayed', SDP, { strict: true });
    expect(learnEndpoint(s, OTHER, T0)).toBe(true);
    expect(learnEndpoint(s, OTHER, T0 + LEARNING_WINDOW_MS)).toBe(true);
    expect(s.confirmed).toBe(true);
    expect(learnEndpoint(s, SDP, T0 + LEARNING_WINDOW_MS + 1)).toBe(false);
  });

  it('media-handover follows the new source', () => {
    const { s, gate } = stream('immediate', SDP, { handover: true });
    learnEndpoint(s, SDP, T0);
    expect(learnEndpoint(s, OTHER, T0 + 1)).toBe(true);
    expect(s.endpoint).toEqual(OTHER);
    expect(s.confirmed).toBe(true);
    const third = ep('192.0.2.9', 9999);
    expect(learnEndpoint(s, third, T0 + 2)).toBe(true);
    expect(s.endpoint).toEqual(third);
    expect(gate.changed).toEqual([SDP, OTHER, third]);
  });

  it('media-handover wins over strict-source', () => {
    const { s } = stream('immediate', SDP, { strict: true, handover: true });
    learnEndpoint(s, SDP, T0);
    expect(learnEndpoint(s, OTHER, T0 + 1)).toBe(true);
    expect(s.endpoint).toEqual(OTHER);
  });
});
