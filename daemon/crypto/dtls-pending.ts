/**
 * Media of a DTLS-SRTP side before its handshake has given keys: nothing may pass either way
 * (plain RTP must not leak toward a side that expects SRTP, and its SRTP cannot be read yet).
 * Signalling marks such a direction with the DTLS_PENDING keys; this factory, asked first,
 * gives it the BLOCKED handler, which drops every packet (counted by the packet path).
 */
import type { CryptoParams, InputHandler, OutputHandler, TransportHandlerFactory, TransportSpec } from './transport-handler.js';

/** Stands for "keys will come from the DTLS handshake"; never used to encrypt anything. */
export const DTLS_PENDING: CryptoParams = Object.freeze({
  suite: 'DTLS-pending',
  masterKey: Buffer.alloc(0),
  masterSalt: Buffer.alloc(0),
}) as CryptoParams;

class BlockedHandler implements InputHandler, OutputHandler {
  readonly kind = 'dtls-pending';
  /** The fast path must not forward either: it would forward in the clear. */
  readonly native = false;
  readonly stateless = true;
  rtp(): null {
    return null;
  }
  rtcp(): null {
    return null;
  }
  close(): void {}
}

export const BLOCKED: InputHandler & OutputHandler = new BlockedHandler();

export const dtlsPendingFactory: TransportHandlerFactory = {
  name: 'dtls-pending',
  input: (spec: TransportSpec) => (spec.crypto === DTLS_PENDING ? BLOCKED : null),
  output: (spec: TransportSpec) => (spec.crypto === DTLS_PENDING ? BLOCKED : null),
};
