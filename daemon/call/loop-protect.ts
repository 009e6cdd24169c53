/**
 * rtpengine's `loop protect`: with the flag, every SDP we write carries a session-level
 * `a=rtpengine:INSTANCE` naming this daemon instance, and an offer or answer whose SDP already
 * carries our instance id is not processed at all: the SDP goes back unchanged, so a
 * signalling loop cannot make the relay forward media to itself.
 */
import { randomBytes } from 'node:crypto';
import type { SdpSession } from '../sdp/sdp-model.js';

/** 12 hex digits, random per daemon start (rtpengine's rtpe_instance_id). */
export const INSTANCE_ID = randomBytes(6).toString('hex');

/** The SDP has already been through this daemon instance. */
export function isOwnSdp(session: SdpSession): boolean {
  return session.attributes.some((a) => a.name === 'rtpengine' && a.value === INSTANCE_ID);
}

/** The session template for an output SDP, with our marker as its last session attribute. */
export function withLoopMarker(session: SdpSession): SdpSession {
  return { ...session, attributes: [...session.attributes, { name: 'rtpengine', value: INSTANCE_ID }] };
}
