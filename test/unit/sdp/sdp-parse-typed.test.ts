/**
 * parseSdp reads a=rtpmap and a=rtcp itself with sdp-transform's grammar instead of running
 * sdp-transform's whole parse: the typed values must stay what sdp-transform gives, odd input
 * included (non-canonical numbers stay text, a later a=rtcp overwrites only what it carries).
 * Checked against sdp-transform itself on generated media sections.
 */
import { describe, expect, it } from 'vitest';
import * as sdpTransform from 'sdp-transform';
import { parseSdp } from '../../../daemon/sdp/sdp-parse.js';

let seed = 4242;
const rnd = (n: number) => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed % n;
};
const pick = <T>(xs: readonly T[]): T => xs[rnd(xs.length)] as T;

const PTS = ['0', '8', '96', '101', '007', '', '127', 'x'];
const NAMES = ['PCMU', 'opus', 'telephone-event', 'G.722', 'a_b', '123', '', 'x-y.z'];
const RATES = ['/8000', '/48000', '/', '/08000', '', ' /16000', '/8000/2', '/48000/02', '/8000/', '/8000/x'];
const RTCPS = ['rtcp:9', 'rtcp:', 'rtcp:5001 IN IP4 192.0.2.7', 'rtcp:5001 IN IP6 2001:db8::1', 'rtcp:05', 'rtcp:7 IN', 'rtcp:x'];

function media(): string[] {
  const fmts = Array.from({ length: 1 + rnd(4) }, () => pick(['0', '8', '96', '101', '127', '7']));
  const lines = [`m=audio ${1000 + rnd(60000)} RTP/AVP ${fmts.join(' ')}`, 'c=IN IP4 198.51.100.9'];
  for (let i = rnd(6); i > 0; i--) {
    const k = rnd(5);
    if (k <= 2) lines.push(`a=rtpmap:${pick(PTS)} ${pick(NAMES)}${pick(RATES)}`);
    else if (k === 3) lines.push(`a=${pick(RTCPS)}`);
    else lines.push(pick(['a=fmtp:101 0-16', 'a=rtcp-mux', 'a=rtcp-fb:96 nack', 'a=sendonly', 'a=rtpmap', 'a=ptime:20']));
  }
  return lines;
}

describe('parseSdp typed a=rtpmap / a=rtcp against sdp-transform', () => {
  it('gives the same codec and RTCP values on 3,000 generated SDPs', () => {
    for (let n = 0; n < 3000; n++) {
      const lines = ['v=0', 'o=- 1 1 IN IP4 198.51.100.9', 's=-', 't=0 0', ...media(), ...(rnd(2) ? media() : [])];
      const text = `${lines.join('\r\n')}\r\n`;
      const ours = parseSdp(text);
      const theirs = sdpTransform.parse(text);
      ours.medias.forEach((m, i) => {
        const t = theirs.media[i]!;
        for (const c of m.codecs) {
          const map = t.rtp.find((r) => r.payload === c.payloadType);
          expect({ encoding: c.encoding, clockRate: c.clockRate, channels: c.channels }, text).toEqual({
            encoding: map?.codec ?? '', clockRate: map?.rate ?? 0, channels: map?.encoding ? Number(map.encoding) : null,
          });
        }
        expect(m.rtcpPort, text).toEqual(t.rtcp ? t.rtcp.port : null);
        const addr = t.rtcp?.address && t.rtcp.ipVer ? { family: t.rtcp.ipVer === 6 ? 6 : 4, address: t.rtcp.address } : null;
        expect(m.rtcpAddress, text).toEqual(addr);
      });
    }
  });
});
