/**
 * The two ng UDP listeners: the addon's batched socket (the default whenever the addon loads)
 * and Node's dgram (the daemon without the addon). Tests of ng behaviour run on both.
 */
import { expect } from 'vitest';
import type { DaemonHandle, DaemonOptions } from './daemon.js';

export type NgIo = 'native' | 'dgram';
export const NG_IO: readonly NgIo[] = ['native', 'dgram'];

/** `dgram`: the daemon is pointed at an addon file that does not exist, so it runs without one. */
export function ngIoOptions(io: NgIo, opts: DaemonOptions = {}): DaemonOptions {
  if (io === 'native') return opts;
  return { ...opts, env: { ...opts.env, RTPENGINE_FASTPATH_ADDON: '/nonexistent/rtpengine_fastpath.node' } };
}

/** The daemon's log names the listener that serves ng over UDP. */
export function expectNgIo(d: DaemonHandle, io: NgIo): void {
  expect(d.stderr()).toMatch(new RegExp(`"io":"${io}","msg":"Listening for ng commands \\(UDP\\)"`));
}
