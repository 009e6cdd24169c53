/** Trickle ICE SDP fragments (RFC 8840) as the `fragment` flag brings them. */
import { describe, expect, it } from 'vitest';
import { parseSdpFragment } from '../../../daemon/sdp/sdp-fragment.js';
import { SdpParseError } from '../../../daemon/errors.js';

describe('parseSdpFragment', () => {
  it('session ufrag, m= lines with mid, candidates and end-of-candidates', () => {
    const f = parseSdpFragment([
      'a=ice-ufrag:EsAw', 'a=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1', 'm=audio 9 RTP/AVP 0', 'a=mid:0',
      'a=candidate:1 1 UDP 2130706431 192.0.2.1 5000 typ host', 'a=candidate:2 1 TCP 1 192.0.2.1 9 typ host tcptype active',
      'm=video 9 RTP/AVP 96', 'a=mid:1', 'a=ice-ufrag:other', 'a=end-of-candidates', '',
    ].join('\r\n'));
    expect(f.ufrag).toBe('EsAw');
    expect(f.medias.map((m) => [m.index, m.mid, m.ufrag, m.candidates.length, m.ignored, m.endOfCandidates])).toEqual([
      [0, '0', null, 1, 1, false],
      [1, '1', 'other', 0, 0, true],
    ]);
    expect(f.medias[0]!.candidates[0]).toMatchObject({ address: '192.0.2.1', port: 5000, component: 1, type: 'host' });
  });

  it('a session-level end-of-candidates alone is a fragment; garbage is a parse error', () => {
    expect(parseSdpFragment('a=ice-ufrag:x\r\na=end-of-candidates\r\n').endOfCandidates).toBe(true);
    expect(() => parseSdpFragment('')).toThrow(SdpParseError);
    expect(() => parseSdpFragment('hello\r\n')).toThrow(SdpParseError);
    expect(() => parseSdpFragment('a=ice-ufrag:x\r\n')).toThrow(SdpParseError);
    expect(() => parseSdpFragment('a=candidate:1 1 UDP 1 192.0.2.1 5 typ host\r\n')).toThrow(SdpParseError);
  });
});
