/**
 * Ownership of the JS path's sockets: a closed socket must not keep its packet handler (and so
 * the StreamFd the handler reaches) alive. Node keeps a closing dgram socket until its handle's
 * close callback has run, a later phase of the event loop; a leak audit judging in between
 * would find the released StreamFd still reachable. Real sockets on 127.0.0.1.
 */
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { dgramSocketFactory } from '../../../daemon/net/dgram-socket.js';
import type { MediaSocket } from '../../../daemon/net/media-socket.js';

function gcFunction(): () => void {
  const existing = (globalThis as { gc?: () => void }).gc;
  if (typeof existing === 'function') return existing;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

describe('dgram media socket', () => {
  it('drops its packet handler at close, before Node has finished closing the socket', async () => {
    const gc = gcFunction();
    let socket!: MediaSocket;
    let ref!: WeakRef<object>;
    await (async () => {
      const streamFd = { standsFor: 'the StreamFd the handler reaches' };
      socket = await dgramSocketFactory.open('127.0.0.1', 0, 4, () => void streamFd);
      ref = new WeakRef(streamFd);
    })();
    // a new macrotask: a WeakRef keeps its target only until the job that made it ends
    await new Promise((r) => setTimeout(r, 0));
    let closed = false;
    socket.close();
    setImmediate(() => (closed = true));
    gc(); // same tick: the socket's close callback has not run yet
    expect(closed).toBe(false);
    expect(ref.deref(), 'the closing socket still holds the handler').toBeUndefined();
  });

  it('delivers packets while open and none after close', async () => {
    const got: number[] = [];
    const socket = await dgramSocketFactory.open('127.0.0.1', 0, 4, (data) => got.push(data.length));
    expect(socket.send(Buffer.alloc(3), 9, '127.0.0.1')).toBe(true);
    socket.close();
    expect(socket.send(Buffer.alloc(3), 9, '127.0.0.1')).toBe(false);
    expect(got).toEqual([]);
  });
});
