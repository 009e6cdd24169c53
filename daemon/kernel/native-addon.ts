/**
 * The C++ addon (`kernel/`, built by scripts/build-native.mjs): where it is found, how it is
 * loaded and checked (ABI version, a readable reason when it is missing or its build failed), and
 * its raw API as kernel/src/addon.cc exports it. native-fast-path.ts wraps the engine,
 * native-ng.ts the ng listener's socket.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EntrySrtpState, NativeSrtpSpec } from './fast-path.js';

/** The addon ABI this daemon speaks; must equal the addon's exported ABI_VERSION. */
export const NATIVE_ABI_VERSION = 5;

export const ADDON_FILE = 'rtpengine_fastpath.node';

/** A failed open (success is the number of sockets opened, described in `openOut`). */
export interface RawOpenError {
  code: string;
  errno: number;
  message: string;
  /** Which of the sockets asked for failed (the others were closed again). */
  index: number;
}

export interface RawStatus {
  threads: number;
  sockets: number;
  entries: number;
  received: number;
  packets: number;
  bytes: number;
  sent: number;
  punted: number;
  puntDropped: number;
  errors: number;
  oversized: number;
  empty: number;
  noDestination: number;
  sendErrors: number;
  recvErrors: number;
  srtpDropped: number;
  jsSent: number;
  jsSendErrors: number;
  cpuSeconds: number;
}

export interface RawEngine {
  open(address: string, port: number, family: number, count: number): number | RawOpenError;
  closeSocket(id: number): boolean;
  send(id: number, data: Uint8Array, port: number, address: string): boolean;
  sendBatch(buf: Uint8Array, bytes: number, count: number): number;
  setTos(id: number, tos: number): boolean;
  setEntry(
    id: number,
    sourceAddress: string,
    sourcePort: number,
    rtp: (number | string)[],
    rtcp: (number | string)[],
    isRtcpSocket: boolean,
    rtcpMux: boolean,
    payloadTypes: number[],
    rtpPtMaps: (number[] | null)[],
    srtpIn: NativeSrtpSpec | null,
    rtpSrtp: (NativeSrtpSpec | null)[],
    rtcpSrtp: (NativeSrtpSpec | null)[],
    ifIdle?: boolean,
  ): EntrySrtpState | false | undefined;
  removeEntry(id: number): EntrySrtpState | false;
  srtpFailures(id: number): [number, number, number] | null;
  statsPage(index: number): ArrayBuffer | undefined;
  status(): RawStatus;
  live(): { sockets: number; entries: number; srtpContexts: number };
  close(done: () => void): boolean;
}

export type Dispatch = (data: Buffer, meta: Uint32Array, addrs: string[]) => void;
export type PolledDispatch = (data: Buffer, count: number) => void;

export interface RawAddon {
  ABI_VERSION: number;
  MAX_PACKET: number;
  SLOT_FIELDS: number;
  SLOTS_PER_PAGE: number;
  MAX_THREADS: number;
  Engine: new (
    options: { threads: number; tos: number; openOut: Uint32Array; puntQueuePackets?: number; puntQueueBytes?: number; pollMeta?: Uint32Array },
    dispatch: Dispatch,
    dispatchPolled?: PolledDispatch,
  ) => RawEngine;
  memoryPressure?: () => void;
  mallocTrim?: () => boolean;
  /** The ng listener's socket (kernel/src/ngio.cc, used by native-ng.ts); absent from older builds. */
  NgSocket?: unknown;
  NG_BATCH?: number;
  NG_SLOT?: number;
}

/** The package root: the nearest ancestor holding kernel/binding.gyp (works from daemon/ and dist/daemon/). */
function packageRoot(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'kernel', 'binding.gyp'))) return dir;
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function loadAddon(addonPath?: string): RawAddon | { unavailable: string } {
  let path = addonPath ?? process.env.RTPENGINE_FASTPATH_ADDON;
  if (!path) {
    const root = packageRoot();
    if (!root) return { unavailable: 'cannot find the package root (kernel/binding.gyp) to load the fast path addon from' };
    path = join(root, 'kernel', 'build', 'Release', ADDON_FILE);
    if (!existsSync(path)) {
      const failedFile = join(root, 'kernel', 'build-failed.txt');
      let why = 'run `npm run build:native`';
      if (existsSync(failedFile)) {
        try {
          why = `build failed: ${readFileSync(failedFile, 'utf8').trim()}`;
        } catch {
          // keep the generic hint
        }
      }
      return { unavailable: `fast path addon not built (${path} missing; ${why})` };
    }
  }
  let addon: RawAddon;
  try {
    addon = createRequire(import.meta.url)(path) as RawAddon;
  } catch (err) {
    return { unavailable: `cannot load fast path addon ${path}: ${errorMessage(err)}` };
  }
  if (addon.ABI_VERSION !== NATIVE_ABI_VERSION) {
    return {
      unavailable: `fast path addon ABI mismatch: ${path} has ABI ${String(addon.ABI_VERSION)}, this daemon expects ${NATIVE_ABI_VERSION} (rebuild with \`npm run build:native\`)`,
    };
  }
  return addon;
}

/**
 * V8's memory-pressure notification and glibc's malloc_trim, from the addon (Node has neither):
 * what the daemon uses to give memory back once calls have gone (leak/memory-return.ts). Null
 * without the addon.
 */
export function nativeMemoryHooks(): { memoryPressure: () => void; mallocTrim: () => boolean } | null {
  const addon = loadAddon();
  if ('unavailable' in addon || !addon.memoryPressure || !addon.mallocTrim) return null;
  return { memoryPressure: addon.memoryPressure, mallocTrim: addon.mallocTrim };
}
