/**
 * The addon's DTLS classes (kernel/src/dtls.cc: DTLS 1.2 through the OpenSSL Node carries),
 * loaded once. The addon is the same file the fast path loads; when it is absent or too old the
 * daemon still runs, and only what needs DTLS fails (with the reason given here).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const DTLS_HANDSHAKING = 0;
export const DTLS_CONNECTED = 1;
export const DTLS_FAILED = 2;
export const DTLS_CLOSED = 3;

export interface NativeDtlsCert {
  fingerprint(hash: string): Buffer;
  /** Unix seconds. */
  notAfter(): number;
}

export interface NativeKeyingMaterial {
  /** OpenSSL's profile name, e.g. `SRTP_AES128_CM_SHA1_80`. */
  profile: string;
  keyLength: number;
  saltLength: number;
  /** RFC 5764 §4.2: client key, server key, client salt, server salt. */
  material: Buffer;
}

export interface NativeDtlsConnection {
  start(): number;
  feed(datagram: Buffer): number;
  take(): Buffer[];
  timeoutMs(): number;
  handleTimeout(): number;
  state(): number;
  error(): string;
  peerFingerprint(hash: string): Buffer | null;
  keyingMaterial(): NativeKeyingMaterial | null;
  close(): void;
}

export interface NativeDtls {
  DtlsCert: { generate(kind: 'ec' | 'rsa', rsaBits: number, signature: 'sha256' | 'sha1', days: number): NativeDtlsCert };
  DtlsConnection: {
    new (cert: NativeDtlsCert, active: boolean, mtu: number): NativeDtlsConnection;
    live(): number;
  };
}

let loaded: NativeDtls | { unavailable: string } | null = null;

function addonPath(): string | null {
  const fromEnv = process.env.RTPENGINE_FASTPATH_ADDON;
  if (fromEnv) return fromEnv;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'kernel', 'binding.gyp'))) return join(dir, 'kernel', 'build', 'Release', 'rtpengine_fastpath.node');
    const up = dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}

function load(): NativeDtls | { unavailable: string } {
  if (process.env.RTPENGINE_TS_NO_DTLS === '1') return { unavailable: 'DTLS disabled (RTPENGINE_TS_NO_DTLS=1)' };
  const path = addonPath();
  if (!path || !existsSync(path)) return { unavailable: `native addon not built (${path ?? 'kernel/'}; run \`npm run build:native\`)` };
  try {
    const addon = createRequire(import.meta.url)(path) as Partial<NativeDtls>;
    if (typeof addon.DtlsCert?.generate !== 'function' || typeof addon.DtlsConnection !== 'function') {
      return { unavailable: `native addon ${path} has no DTLS support (rebuild with \`npm run build:native\`)` };
    }
    return addon as NativeDtls;
  } catch (err) {
    return { unavailable: `cannot load native addon ${path}: ${err instanceof Error ? err.message : String(err)}` };
  }
}

/** The addon's DTLS, or why it is unavailable. */
export function nativeDtls(): NativeDtls | { unavailable: string } {
  loaded ??= load();
  return loaded;
}
