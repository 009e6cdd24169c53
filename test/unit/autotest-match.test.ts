import { describe, expect, it } from 'vitest';
import {
  expectPlaceholderMatch,
  expectSdp,
  expectedToRegex,
  fromCrlf,
  matchPlaceholders,
  placeholderPattern,
  sdpSplit,
  substituteMatchingLines,
  toCrlf,
} from '../helpers/autotest.js';

describe('placeholder matcher', () => {
  it('matches literal text exactly and nothing else', () => {
    expect(matchPlaceholders('v=0\n', 'v=0\n')).toEqual([]);
    expect(matchPlaceholders('v=0\nx', 'v=0\n')).toBeNull();
    expect(matchPlaceholders('xv=0\n', 'v=0\n')).toBeNull();
    expect(matchPlaceholders('v=1\n', 'v=0\n')).toBeNull();
  });

  it('captures PORT placeholders in order as strings', () => {
    const caps = matchPlaceholders(
      'm=audio 30000 RTP/AVP 0\na=rtcp:30001\n',
      'm=audio PORT RTP/AVP 0\na=rtcp:PORT\n',
    );
    expect(caps).toEqual(['30000', '30001']);
  });

  it('PORT takes 1 to 5 digits only', () => {
    expect(matchPlaceholders('m=audio 7 RTP/AVP 0', 'm=audio PORT RTP/AVP 0')).toEqual(['7']);
    expect(matchPlaceholders('m=audio 123456 RTP/AVP 0', 'm=audio PORT RTP/AVP 0')).toBeNull();
    expect(matchPlaceholders('m=audio  RTP/AVP 0', 'm=audio PORT RTP/AVP 0')).toBeNull();
    expect(matchPlaceholders('m=audio 12a RTP/AVP 0', 'm=audio PORT RTP/AVP 0')).toBeNull();
  });

  it('escapes regex metacharacters of the literal text', () => {
    const exp = 'a=fmtp:101 0-15\na=x:(a|b)+[c]*.{2}^$\\/\n';
    expect(matchPlaceholders(exp, exp)).toEqual([]);
    expect(matchPlaceholders('a=fmtp:101 0-15\na=x:a+[c]*.{2}^$\\/\n', exp)).toBeNull();
    expect(matchPlaceholders('a=x:1.2', 'a=x:1.2')).toEqual([]);
    expect(matchPlaceholders('a=x:1x2', 'a=x:1.2')).toBeNull();
  });

  it('? matches exactly one character and captures nothing', () => {
    expect(matchPlaceholders('c=IN IP4 127.0.0.1', 'c=IN IP4 127.0.0.?')).toEqual([]);
    expect(matchPlaceholders('c=IN IP4 127.0.0.12', 'c=IN IP4 127.0.0.?')).toBeNull();
    expect(matchPlaceholders('c=IN IP4 127.0.0.', 'c=IN IP4 127.0.0.?')).toBeNull();
    expect(matchPlaceholders('a\nb', 'a?b')).toBeNull(); // not across lines
  });

  it('ICE placeholders have their fixed lengths and alphabets', () => {
    const exp = 'a=ice-ufrag:ICEUFRAG\na=ice-pwd:ICEPWD\na=candidate:ICEBASE 1 UDP 2130706431 127.0.0.1 PORT typ host\n';
    const ufrag = 'aB3dE6gH';
    const pwd = 'abcdefghijklmnopqrstuvwxyZ';
    const base = '0123456789abcdeF';
    const act = `a=ice-ufrag:${ufrag}\na=ice-pwd:${pwd}\na=candidate:${base} 1 UDP 2130706431 127.0.0.1 4000 typ host\n`;
    expect(matchPlaceholders(act, exp)).toEqual([ufrag, pwd, base, '4000']);
    expect(matchPlaceholders(act.replace(ufrag, 'aB3dE6g'), exp)).toBeNull();
    expect(matchPlaceholders(act.replace(pwd, `${pwd.slice(0, 25)}+`), exp)).toBeNull();
  });

  it('CRYPTO128S is not mistaken for CRYPTO128 followed by S', () => {
    const k40 = 'A'.repeat(38) + '/+';
    const k38 = 'B'.repeat(37) + '+';
    expect(matchPlaceholders(`inline:${k40}`, 'inline:CRYPTO128')).toEqual([k40]);
    expect(matchPlaceholders(`inline:${k38}`, 'inline:CRYPTO128S')).toEqual([k38]);
    expect(matchPlaceholders(`inline:${k40}`, 'inline:CRYPTO128S')).toBeNull();
    expect(matchPlaceholders(`inline:${'x'.repeat(62)}`, 'inline:CRYPTO256')).toEqual(['x'.repeat(62)]);
    expect(matchPlaceholders(`inline:${'x'.repeat(59)}`, 'inline:CRYPTO256S')).toEqual(['x'.repeat(59)]);
    expect(matchPlaceholders(`inline:${'x'.repeat(51)}`, 'inline:CRYPTO192')).toEqual(['x'.repeat(51)]);
  });

  it('FINGERPRINT256 and FINGERPRINT take 32 and 20 hex bytes with colons', () => {
    const fp256 = Array.from({ length: 32 }, (_, i) => (i * 7 % 256).toString(16).padStart(2, '0').toUpperCase()).join(':');
    const fp1 = Array.from({ length: 20 }, () => 'ab').join(':');
    expect(fp256).toHaveLength(95);
    expect(matchPlaceholders(`a=fingerprint:sha-256 ${fp256}`, 'a=fingerprint:sha-256 FINGERPRINT256')).toEqual([fp256]);
    expect(matchPlaceholders(`a=fingerprint:sha-1 ${fp1}`, 'a=fingerprint:sha-1 FINGERPRINT')).toEqual([fp1]);
    expect(matchPlaceholders(`a=fingerprint:sha-1 ${fp256}`, 'a=fingerprint:sha-1 FINGERPRINT')).toBeNull();
  });

  it('SDP_VERSION and RTPE_VERSION match without capturing; TLS_ID and LOOPER capture', () => {
    expect(matchPlaceholders('o=- 1545997027 3 IN IP4 127.0.0.1', 'o=- SDP_VERSION IN IP4 127.0.0.1')).toEqual([]);
    expect(matchPlaceholders('o=- 1545997027 IN IP4 127.0.0.1', 'o=- SDP_VERSION IN IP4 127.0.0.1')).toBeNull();
    expect(matchPlaceholders('s=rtpengine-ts-0.1.0', 's=RTPE_VERSION')).toEqual([]);
    const tls = '0123456789abcdef0123456789abcdef';
    expect(matchPlaceholders(`a=tls-id:${tls}`, 'a=tls-id:TLS_ID')).toEqual([tls]);
    expect(matchPlaceholders('a=rtpengine:0123456789ab', 'a=rtpengine:LOOPER')).toEqual(['0123456789ab']);
  });

  it('anchors the whole text', () => {
    const re = expectedToRegex('m=audio PORT RTP/AVP 0\n');
    expect(re.source.startsWith('^')).toBe(true);
    expect(re.source.endsWith('$')).toBe(true);
    expect(placeholderPattern('PORT')).toBe('(\\d{1,5})');
  });
});

describe('SDP argument handling', () => {
  const arg = `
v=0
o=- 1 1 IN IP4 198.51.100.1
----------------------------------
v=0
o=- 1 1 IN IP4 127.0.0.1
`;

  it('splits input and expected at the dashes and drops the leading newline', () => {
    const [input, expected] = sdpSplit(arg);
    expect(input).toBe('v=0\no=- 1 1 IN IP4 198.51.100.1\n');
    expect(expected).toBe('v=0\no=- 1 1 IN IP4 127.0.0.1\n');
    expect(sdpSplit('v=0\n')).toEqual(['v=0\n', undefined]);
    expect(sdpSplit('a\n-----\nb\n')).toEqual(['a\n', 'b\n']);
  });

  it('joins lines with CRLF, one after every line', () => {
    expect(toCrlf('v=0\ns=x\n')).toBe('v=0\r\ns=x\r\n');
    expect(toCrlf('\nv=0\ns=x')).toBe('v=0\r\ns=x\r\n');
    expect(toCrlf('v=0\r\ns=x\r\n')).toBe('v=0\r\ns=x\r\n');
  });

  it('fromCrlf accepts CRLF-only bodies and rejects bare LF or a missing final CRLF', () => {
    expect(fromCrlf('v=0\r\ns=x\r\n')).toBe('v=0\ns=x\n');
    expect(() => fromCrlf('v=0\ns=x\r\n')).toThrow();
    expect(() => fromCrlf('v=0\r\ns=x')).toThrow();
    expect(() => fromCrlf('v=0\r\ns=x\n')).toThrow();
  });

  it('expectSdp returns the captures of a CRLF body', () => {
    const caps = expectSdp('v=0\r\nm=audio 30000 RTP/AVP 0\r\na=rtcp:30001\r\n',
      '\nv=0\nm=audio PORT RTP/AVP 0\na=rtcp:PORT\n');
    expect(caps).toEqual(['30000', '30001']);
  });
});

describe('mismatch reporting', () => {
  it('substitutes matching lines so only differing lines show in the diff', () => {
    const expected = 'v=0\nm=audio PORT RTP/AVP 0\na=rtpmap:0 PCMU/8000\na=rtcp:PORT\n';
    const actual = 'v=0\nm=audio 30000 RTP/AVP 0\na=sendrecv\na=rtcp:30001\n';
    expect(substituteMatchingLines(actual, expected))
      .toBe('v=0\nm=audio 30000 RTP/AVP 0\na=rtpmap:0 PCMU/8000\na=rtcp:30001\n');
  });

  it('keeps lines aligned across a missing or an extra line', () => {
    const expected = 'v=0\nm=audio PORT RTP/AVP 0\na=rtpmap:0 PCMU/8000\na=sendrecv\na=rtcp:PORT\n';
    expect(substituteMatchingLines('v=0\nm=audio 30000 RTP/AVP 0\na=sendrecv\na=rtcp:30001\n', expected))
      .toBe('v=0\nm=audio 30000 RTP/AVP 0\na=rtpmap:0 PCMU/8000\na=sendrecv\na=rtcp:30001\n');
    expect(substituteMatchingLines('v=0\nm=audio 30000 RTP/AVP 0\na=x\na=rtpmap:0 PCMU/8000\na=sendrecv\na=rtcp:30001\n', expected))
      .toBe('v=0\nm=audio 30000 RTP/AVP 0\na=rtpmap:0 PCMU/8000\na=sendrecv\na=rtcp:30001\n');
  });

  it('fails with an assertion error on mismatch and passes on match', () => {
    const expected = 'v=0\nm=audio PORT RTP/AVP 0\n';
    expect(expectPlaceholderMatch('v=0\nm=audio 1 RTP/AVP 0\n', expected)).toEqual(['1']);
    let err: unknown;
    try {
      expectPlaceholderMatch('v=0\nm=video 1 RTP/AVP 0\n', expected, 'case');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(Error);
    expect(String((err as Error).message)).toContain('case');
    // extra trailing line is a mismatch too
    expect(() => expectPlaceholderMatch('v=0\nm=audio 1 RTP/AVP 0\na=x\n', expected)).toThrow();
    expect(() => expectPlaceholderMatch('v=0\n', expected)).toThrow();
  });
});
