/**
 * Sets up a call between two RtpPeers through the daemon and tells where each side must send:
 * the relay ports the daemon wrote into the SDP each side received.
 */
import { expect } from 'vitest';
import type { DaemonHandle } from './daemon.js';
import type { RtpPeer } from './rtp-peer.js';
import { relayPortsOf, sdpFor } from '../../support/sdp.js';

export interface RelayPorts {
  /** Where A sends RTP (from the answer SDP A received). */
  aRtp: number;
  aRtcp: number;
  /** Where B sends RTP (from the offer SDP B received). */
  bRtp: number;
  bRtcp: number;
  relayAddress: string;
}

export { relayPortsOf, sdpFor, uniqueCallId } from '../../support/sdp.js';

export interface CallSetup {
  callId: string;
  fromTag: string;
  toTag: string;
  a: RtpPeer;
  b: RtpPeer;
  offerFlags?: Record<string, unknown>;
  answerFlags?: Record<string, unknown>;
  aMux?: boolean;
  bMux?: boolean;
}

export async function offerAnswer(d: DaemonHandle, s: CallSetup): Promise<RelayPorts> {
  const offer = await d.ng.request({
    command: 'offer', 'call-id': s.callId, 'from-tag': s.fromTag, sdp: sdpFor(s.a, { mux: s.aMux }), ...s.offerFlags,
  });
  expect(offer.result, JSON.stringify(offer)).toBe('ok');
  const answer = await d.ng.request({
    command: 'answer', 'call-id': s.callId, 'from-tag': s.fromTag, 'to-tag': s.toTag, sdp: sdpFor(s.b, { mux: s.bMux }), ...s.answerFlags,
  });
  expect(answer.result, JSON.stringify(answer)).toBe('ok');
  const toB = relayPortsOf(offer.sdp as string);
  const toA = relayPortsOf(answer.sdp as string);
  return { aRtp: toA.rtp, aRtcp: toA.rtcp, bRtp: toB.rtp, bRtcp: toB.rtcp, relayAddress: toA.address };
}

export async function deleteCall(d: DaemonHandle, callId: string): Promise<void> {
  const reply = await d.ng.request({ command: 'delete', 'call-id': callId, 'delete-delay': 0 });
  expect(reply.result).toBe('ok');
}
