/**
 * The daemon's DTLS certificate (rtpengine's dtls.c certificate handling): a key pair and a
 * self-signed X.509 certificate made at start-up in the addon (OpenSSL's CSPRNG), renewed by a
 * timer well before it expires. A renewal affects new DTLS media only: a media keeps the
 * certificate its a=fingerprint announced for as long as it lives (its SSL objects hold their own
 * reference to it).
 */
import { log } from '../log/logger.js';
import { nativeDtls, type NativeDtls, type NativeDtlsCert } from './dtls-native.js';
import { formatFingerprint } from './dtls-session.js';

export type DtlsCertCipher = 'prime256v1' | 'rsa';
export type FingerprintHash = 'sha-1' | 'sha-224' | 'sha-256' | 'sha-384' | 'sha-512';
export const FINGERPRINT_HASHES: readonly FingerprintHash[] = ['sha-1', 'sha-224', 'sha-256', 'sha-384', 'sha-512'];

/** The `DTLS-fingerprint` value (any case, with or without the dash) as an SDP hash name. */
export function fingerprintHash(value: string): FingerprintHash | null {
  const v = value.trim().toLowerCase().replace(/^sha-?/, 'sha-');
  return (FINGERPRINT_HASHES as readonly string[]).includes(v) ? (v as FingerprintHash) : null;
}

export interface DtlsCertOptions {
  cipher: DtlsCertCipher;
  rsaKeySize: number;
  signature: 'sha-256' | 'sha-1';
  /** Certificate lifetime. */
  lifetimeDays: number;
  /** How long a certificate is used before the next one is made (default: half its lifetime). */
  renewAfterMs?: number;
}

export const DEFAULT_DTLS_CERT_OPTIONS: DtlsCertOptions = { cipher: 'prime256v1', rsaKeySize: 2048, signature: 'sha-256', lifetimeDays: 30 };

export class DtlsCertificates {
  private cert: NativeDtlsCert;
  private timer: NodeJS.Timeout | null = null;
  /** Certificates made so far (1 after start-up). */
  generation = 1;

  constructor(readonly native: NativeDtls, private readonly options: DtlsCertOptions) {
    this.cert = this.make();
  }

  /** Makes the daemon's certificate; `{ unavailable }` when the addon has no DTLS. */
  static create(options: DtlsCertOptions): DtlsCertificates | { unavailable: string } {
    const native = nativeDtls();
    if ('unavailable' in native) return native;
    return new DtlsCertificates(native, options);
  }

  private make(): NativeDtlsCert {
    const o = this.options;
    return this.native.DtlsCert.generate(o.cipher === 'rsa' ? 'rsa' : 'ec', o.rsaKeySize, o.signature === 'sha-1' ? 'sha1' : 'sha256', o.lifetimeDays);
  }

  /** The certificate new DTLS media use. */
  current(): NativeDtlsCert {
    return this.cert;
  }

  /** Renews now (the timer's job; tests call it directly). */
  renew(): void {
    this.cert = this.make();
    this.generation++;
    log().info({ notAfter: new Date(this.cert.notAfter() * 1000).toISOString(), generation: this.generation }, 'DTLS certificate renewed');
  }

  /** Starts the renewal timer (unref'd: it never keeps the process alive). */
  startRenewal(): void {
    if (this.timer) return;
    const ms = this.options.renewAfterMs ?? (this.options.lifetimeDays * 86_400_000) / 2;
    this.timer = setInterval(() => {
      try {
        this.renew();
      } catch (err) {
        // the old certificate stays in use; it is still valid for another half lifetime
        log().error({ err: err instanceof Error ? err.message : String(err) }, 'DTLS certificate renewal failed');
      }
    }, ms);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}

/** `sha-256 AB:CD:…` for a=fingerprint. */
export function fingerprintLine(cert: NativeDtlsCert, hash: FingerprintHash): string {
  return `${hash} ${formatFingerprint(cert.fingerprint(hash))}`;
}
