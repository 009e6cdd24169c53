/**
 * Trickle ICE SDP fragments (RFC 8840 `application/trickle-ice-sdpfrag`), as a SIP proxy hands
 * them to the relay in an `offer` with the `fragment` flag: optional session-level
 * ice-ufrag/ice-pwd/ice-options, then m= lines, each with a=mid and the new a=candidate lines
 * (and a=end-of-candidates when the peer has no more). No v=/o= lines are needed; anything that
 * is not an SDP line is an SdpParseError for this command only.
 */
import { SdpParseError } from '../errors.js';
import { parseCandidate, type IceCandidate } from '../ice/agent.js';

export interface FragmentMedia {
  /** 0-based position of the m= line in the fragment. */
  index: number;
  mid: string | null;
  ufrag: string | null;
  candidates: IceCandidate[];
  /** Candidate lines that were not understood (logged, ignored, as rtpengine ignores unsupported types). */
  ignored: number;
  endOfCandidates: boolean;
}

export interface SdpFragment {
  ufrag: string | null;
  medias: FragmentMedia[];
  endOfCandidates: boolean;
}

export function parseSdpFragment(text: string): SdpFragment {
  if (typeof text !== 'string' || text.trim() === '') throw new SdpParseError('empty SDP fragment');
  const out: SdpFragment = { ufrag: null, medias: [], endOfCandidates: false };
  let media: FragmentMedia | null = null;
  for (const [n, line] of text.split(/\r?\n/).entries()) {
    if (line === '') continue;
    const m = /^([a-z])=(.*)$/.exec(line);
    if (!m) throw new SdpParseError(`fragment line ${n + 1} is not an SDP line: "${line.slice(0, 60)}"`);
    const [, type, value] = m as unknown as [string, string, string];
    if (type === 'm') {
      media = { index: out.medias.length, mid: null, ufrag: null, candidates: [], ignored: 0, endOfCandidates: false };
      out.medias.push(media);
      continue;
    }
    if (type !== 'a') continue;
    const colon = value.indexOf(':');
    const name = colon < 0 ? value : value.slice(0, colon);
    const v = colon < 0 ? '' : value.slice(colon + 1);
    if (name === 'ice-ufrag') {
      if (media) media.ufrag = v;
      else out.ufrag = v;
    } else if (name === 'end-of-candidates') {
      if (media) media.endOfCandidates = true;
      else out.endOfCandidates = true;
    } else if (name === 'mid' && media) media.mid = v;
    else if (name === 'candidate') {
      if (!media) throw new SdpParseError('a=candidate before any m= line in the SDP fragment');
      const c = parseCandidate(v);
      if (c) media.candidates.push(c);
      else media.ignored++;
    }
  }
  if (out.medias.length === 0 && !out.endOfCandidates) throw new SdpParseError('SDP fragment has no m= line');
  return out;
}
