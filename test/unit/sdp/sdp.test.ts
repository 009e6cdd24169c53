import { describe, expect, it } from 'vitest';
import { SdpParseError } from '../../../daemon/errors.js';
import type { SdpCodec, SdpSession } from '../../../daemon/sdp/sdp-model.js';
import { parseSdp } from '../../../daemon/sdp/sdp-parse.js';
import { rtpmapFor, writeSdp, type SdpOutput } from '../../../daemon/sdp/sdp-write.js';

const crlf = (lines: string[]) => `${lines.join('\r\n')}\r\n`;

const AUDIO_VIDEO = crlf([
  'v=0',
  'o=alice 12345678901234567890 98765432109876543210 IN IP4 198.51.100.1',
  's=A call',
  'i=session info',
  'c=IN IP4 198.51.100.1',
  'b=AS:256',
  't=0 0',
  'a=group:BUNDLE 0 1',
  'a=ice-ufrag:abcd',
  'a=ice-pwd:0123456789abcdef01234567',
  'a=x-unknown-session:foo bar',
  'm=audio 2000 RTP/AVP 0 8 111 101',
  'i=audio info',
  'b=TIAS:64000',
  'a=mid:0',
  'a=rtpmap:111 opus/48000/2',
  'a=fmtp:111 minptime=10;useinbandfec=1',
  'a=rtcp-fb:111 transport-cc',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-16',
  'a=ptime:20',
  'a=candidate:1 1 UDP 2130706431 198.51.100.1 2000 typ host',
  'a=candidate:1 2 UDP 2130706430 198.51.100.1 2001 typ host',
  'a=rtcp:2001 IN IP4 198.51.100.2',
  'a=sendonly',
  'a=x-custom:hello world',
  'm=video 2002 RTP/AVPF 96 97',
  'c=IN IP4 198.51.100.3',
  'a=mid:1',
  'a=rtpmap:96 VP8/90000',
  'a=rtcp-fb:96 nack pli',
  'a=rtcp-fb:* ccm fir',
  'a=rtpmap:97 H264/90000',
  'a=fmtp:97 profile-level-id=42e01f;packetization-mode=1',
  'a=rtcp-mux',
  'a=recvonly',
]);

describe('parseSdp', () => {
  const s = parseSdp(AUDIO_VIDEO);

  it('keeps the o= line exactly, including 20-digit session id and version', () => {
    expect(s.origin).toEqual({
      username: 'alice',
      sessionId: '12345678901234567890',
      sessionVersion: '98765432109876543210',
      netType: 'IN',
      addrType: 'IP4',
      address: '198.51.100.1',
    });
  });

  it('session-level fields', () => {
    expect(s.sessionName).toBe('A call');
    expect(s.infoLines).toEqual(['i=session info']);
    expect(s.connection).toEqual({ family: 4, address: '198.51.100.1' });
    expect(s.bandwidth).toEqual(['AS:256']);
    expect(s.timing).toEqual(['t=0 0']);
    expect(s.hasIce).toBe(true);
    expect(s.direction).toBeNull();
    expect(s.attributes).toContainEqual({ name: 'group', value: 'BUNDLE 0 1' });
    expect(s.attributes).toContainEqual({ name: 'x-unknown-session', value: 'foo bar' });
    expect(s.medias).toHaveLength(2);
  });

  it('audio media section', () => {
    const a = s.medias[0]!;
    expect(a.type).toBe('audio');
    expect(a.port).toBe(2000);
    expect(a.portCount).toBeNull();
    expect(a.protocol).toBe('RTP/AVP');
    expect(a.formats).toEqual(['0', '8', '111', '101']);
    expect(a.connection).toBeNull();
    expect(a.bandwidth).toEqual(['TIAS:64000']);
    expect(a.otherLines).toEqual(['i=audio info']);
    expect(a.direction).toBe('sendonly');
    expect(a.rtcpPort).toBe(2001);
    expect(a.rtcpAddress).toEqual({ family: 4, address: '198.51.100.2' });
    expect(a.rtcpMux).toBe(false);
    expect(a.mid).toBe('0');
    expect(a.hasIce).toBe(true);
    expect(a.attributes).toContainEqual({ name: 'x-custom', value: 'hello world' });
    expect(a.attributes).toContainEqual({ name: 'ptime', value: '20' });
    expect(a.attributes.filter((x) => x.name === 'candidate')).toHaveLength(2);
  });

  it('audio codecs: static types without rtpmap, dynamic with rtpmap/fmtp/rtcp-fb', () => {
    const c = s.medias[0]!.codecs;
    expect(c.map((x) => x.payloadType)).toEqual([0, 8, 111, 101]);
    expect(c[0]).toMatchObject({ payloadType: 0, rtpmap: null, fmtp: [], rtcpFb: [] });
    expect(c[2]).toMatchObject({
      payloadType: 111,
      encoding: 'opus',
      clockRate: 48000,
      channels: 2,
      rtpmap: '111 opus/48000/2',
      fmtp: ['111 minptime=10;useinbandfec=1'],
      rtcpFb: ['111 transport-cc'],
    });
    expect(c[3]).toMatchObject({ payloadType: 101, encoding: 'telephone-event', clockRate: 8000, channels: null, fmtp: ['101 0-16'] });
  });

  it('video media section with its own c=, rtcp-mux and wildcard rtcp-fb', () => {
    const v = s.medias[1]!;
    expect(v.type).toBe('video');
    expect(v.port).toBe(2002);
    expect(v.protocol).toBe('RTP/AVPF');
    expect(v.connection).toEqual({ family: 4, address: '198.51.100.3' });
    expect(v.rtcpMux).toBe(true);
    expect(v.rtcpPort).toBeNull();
    expect(v.direction).toBe('recvonly');
    expect(v.hasIce).toBe(false);
    expect(v.codecs[0]).toMatchObject({ encoding: 'VP8', clockRate: 90000, rtcpFb: ['96 nack pli'] });
    expect(v.codecs[1]).toMatchObject({ encoding: 'H264', fmtp: ['97 profile-level-id=42e01f;packetization-mode=1'] });
    expect(v.attributes).toContainEqual({ name: 'rtcp-fb', value: '* ccm fir' });
  });

  it('IPv6, LF-only line endings, a=rtcp without address, port count, session direction', () => {
    const sdp = [
      'v=0',
      'o=- 1 2 IN IP6 2001:db8::1',
      's=-',
      'c=IN IP6 2001:db8::1',
      't=0 0',
      'a=sendrecv',
      'm=audio 4000/2 RTP/AVP 0',
      'a=rtcp:4005',
      '',
    ].join('\n');
    const p = parseSdp(sdp);
    expect(p.origin.addrType).toBe('IP6');
    expect(p.connection).toEqual({ family: 6, address: '2001:db8::1' });
    expect(p.direction).toBe('sendrecv');
    expect(p.attributes).toEqual([]);
    expect(p.hasIce).toBe(false);
    const m = p.medias[0]!;
    expect(m.port).toBe(4000);
    expect(m.portCount).toBe(2);
    expect(m.rtcpPort).toBe(4005);
    expect(m.rtcpAddress).toBeNull();
  });

  it('media-level IPv6 c= and IPv6 a=rtcp address', () => {
    const p = parseSdp(crlf([
      'v=0',
      'o=- 1 1 IN IP4 192.0.2.1',
      's=-',
      't=0 0',
      'm=audio 5000 RTP/AVP 8',
      'c=IN IP6 2001:db8:4321::99',
      'a=rtcp:5001 IN IP6 2001:db8:4321::98',
    ]));
    expect(p.connection).toBeNull();
    expect(p.medias[0]!.connection).toEqual({ family: 6, address: '2001:db8:4321::99' });
    expect(p.medias[0]!.rtcpAddress).toEqual({ family: 6, address: '2001:db8:4321::98' });
  });

  it('c= with a TTL suffix', () => {
    const p = parseSdp(crlf(['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 233.252.0.1/127', 't=0 0', 'm=audio 5000 RTP/AVP 0']));
    expect(p.connection).toEqual({ family: 4, address: '233.252.0.1' });
  });

  it('a missing t= defaults to t=0 0; several timing lines are kept', () => {
    expect(parseSdp(crlf(['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'm=audio 5000 RTP/AVP 0'])).timing).toEqual(['t=0 0']);
    expect(parseSdp(crlf(['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 't=1 2', 'r=7d 1h 0 25h', 'm=audio 5000 RTP/AVP 0'])).timing).toEqual([
      't=1 2',
      'r=7d 1h 0 25h',
    ]);
  });

  it('session without media', () => {
    expect(parseSdp(crlf(['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 't=0 0'])).medias).toEqual([]);
  });

  it('non-RTP media keeps its formats and has no codecs', () => {
    const p = parseSdp(crlf(['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 't=0 0', 'm=image 6000 udptl t38', 'a=T38FaxVersion:0']));
    const m = p.medias[0]!;
    expect(m.protocol).toBe('udptl');
    expect(m.formats).toEqual(['t38']);
    expect(m.codecs).toEqual([]);
    expect(m.attributes).toEqual([{ name: 'T38FaxVersion', value: '0' }]);
  });

  it('a rejected stream with port 0', () => {
    const p = parseSdp(crlf(['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 't=0 0', 'm=video 0 RTP/AVP 96']));
    expect(p.medias[0]!.port).toBe(0);
  });

  describe('malformed SDP throws SdpParseError', () => {
    const base = ['o=- 1 1 IN IP4 192.0.2.1', 's=-', 't=0 0', 'm=audio 5000 RTP/AVP 0'];
    const cases: Array<[string, string]> = [
      ['empty', ''],
      ['whitespace', ' \r\n '],
      ['no v=0', crlf(base)],
      ['v=1', crlf(['v=1', ...base])],
      ['v= not first', crlf([base[0]!, 'v=0', ...base.slice(1)])],
      ['garbage line', crlf(['v=0', ...base.slice(0, 3), 'this is not sdp', base[3]!])],
      ['upper-case type letter', crlf(['v=0', ...base, 'A=sendrecv'])],
      ['line without =', crlf(['v=0', ...base, 'a'])],
      ['bad c= family', crlf(['v=0', base[0]!, 's=-', 'c=IN IP5 192.0.2.1', 't=0 0'])],
      ['bad c= address', crlf(['v=0', base[0]!, 's=-', 'c=IN IP4 999.0.2.1', 't=0 0'])],
      ['c= family mismatch', crlf(['v=0', base[0]!, 's=-', 'c=IN IP6 192.0.2.1', 't=0 0'])],
      ['c= too short', crlf(['v=0', base[0]!, 's=-', 'c=IN IP4', 't=0 0'])],
      ['c= bad nettype', crlf(['v=0', base[0]!, 's=-', 'c=XX IP4 192.0.2.1', 't=0 0'])],
      ['bad media c=', crlf(['v=0', ...base, 'c=IN IP4 nonsense'])],
      ['bad m= port', crlf(['v=0', ...base.slice(0, 3), 'm=audio abc RTP/AVP 0'])],
      ['m= port too big', crlf(['v=0', ...base.slice(0, 3), 'm=audio 70000 RTP/AVP 0'])],
      ['m= negative port', crlf(['v=0', ...base.slice(0, 3), 'm=audio -1 RTP/AVP 0'])],
      ['m= too short', crlf(['v=0', ...base.slice(0, 3), 'm=audio 5000'])],
      ['no o=', crlf(['v=0', 's=-', 't=0 0', 'm=audio 5000 RTP/AVP 0'])],
      ['bad o= field count', crlf(['v=0', 'o=- 1 1 IN IP4', 's=-', 't=0 0'])],
    ];
    it.each(cases)('%s', (_name, text) => {
      expect(() => parseSdp(text)).toThrow(SdpParseError);
    });

    it('SdpParseError carries the ng reason "Failed to parse SDP"', () => {
      try {
        parseSdp('garbage');
        expect.unreachable();
      } catch (err) {
        expect((err as SdpParseError).reason).toBe('Failed to parse SDP');
      }
    });
  });
});

function passthrough(session: SdpSession): SdpOutput {
  return {
    session,
    origin: session.origin,
    medias: session.medias.map((m) => ({
      source: m,
      port: m.port,
      codecs: m.codecs,
      formats: m.formats,
      connection: m.connection ?? session.connection,
      direction: m.direction ?? session.direction ?? 'sendrecv',
      rtcpPort: m.rtcpPort,
      fullRtcp: false,
      rtcpMux: m.rtcpMux,
      mid: m.mid,
    })),
  };
}

describe('writeSdp', () => {
  it('writes rtpengine order with CRLF line endings', () => {
    const session = parseSdp(AUDIO_VIDEO);
    const base = passthrough(session);
    const out = writeSdp({
      ...base,
      origin: { ...session.origin, address: '203.0.113.1' },
      medias: base.medias.map((m, i) => ({
        ...m,
        port: 30000 + 2 * i,
        connection: { family: 4 as const, address: '203.0.113.1' },
        rtcpPort: m.rtcpMux ? 30000 + 2 * i : 30001 + 2 * i,
      })),
    });
    expect(out.endsWith('\r\n')).toBe(true);
    expect(out.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
    expect(out.split('\r\n')).toEqual([
      'v=0',
      'o=alice 12345678901234567890 98765432109876543210 IN IP4 203.0.113.1',
      's=A call',
      'i=session info',
      // session-level c= is never written; BUNDLE groups and ICE attributes are dropped
      'b=AS:256',
      't=0 0',
      'a=x-unknown-session:foo bar',
      'm=audio 30000 RTP/AVP 0 8 111 101',
      'i=audio info',
      'c=IN IP4 203.0.113.1',
      'b=TIAS:64000',
      'a=x-custom:hello world',
      'a=mid:0',
      'a=rtpmap:0 PCMU/8000',
      'a=rtpmap:8 PCMA/8000',
      'a=rtpmap:111 opus/48000/2',
      'a=fmtp:111 minptime=10;useinbandfec=1',
      'a=rtcp-fb:111 transport-cc',
      'a=rtpmap:101 telephone-event/8000',
      'a=fmtp:101 0-16',
      'a=sendonly',
      'a=rtcp:30001',
      'a=ptime:20',
      'm=video 30002 RTP/AVPF 96 97',
      'c=IN IP4 203.0.113.1',
      'a=rtcp-fb:* ccm fir',
      'a=mid:1',
      'a=rtpmap:96 VP8/90000',
      'a=rtcp-fb:96 nack pli',
      'a=rtpmap:97 H264/90000',
      'a=fmtp:97 profile-level-id=42e01f;packetization-mode=1',
      'a=recvonly',
      'a=rtcp:30002',
      'a=rtcp-mux',
      '',
    ]);
  });

  it('port count kept; stripped codecs lose their attributes; full rtcp attribute; generated mid; no direction', () => {
    const session = parseSdp(crlf([
      'v=0',
      'o=- 5 6 IN IP4 192.0.2.1',
      's=-',
      'c=IN IP4 192.0.2.1',
      't=0 0',
      'm=audio 4000/2 RTP/AVP 8 96',
      'a=rtpmap:96 opus/48000/2',
      'a=fmtp:96 stereo=1',
    ]));
    const base = passthrough(session);
    const media = base.medias[0]!;
    const out = writeSdp({
      ...base,
      medias: [{
        ...media,
        port: 30000,
        codecs: [media.codecs[0]!],
        formats: ['8'],
        connection: { family: 6, address: '2001:db8::5' },
        direction: null,
        rtcpPort: 30001,
        fullRtcp: true,
        mid: '0',
      }],
    });
    expect(out).toBe(crlf([
      'v=0',
      'o=- 5 6 IN IP4 192.0.2.1',
      's=-',
      't=0 0',
      'm=audio 30000/2 RTP/AVP 8',
      'c=IN IP6 2001:db8::5',
      'a=mid:0',
      'a=rtpmap:8 PCMA/8000',
      'a=rtcp:30001 IN IP6 2001:db8::5',
    ]));
  });

  it('a rejected stream: m= with port 0 and a null c= only; ICE attributes are not passed through', () => {
    const session = parseSdp(crlf([
      'v=0',
      'o=- 5 6 IN IP4 192.0.2.1',
      's=-',
      't=0 0',
      'a=ice-lite',
      'm=audio 4000/2 RTP/AVP 0',
      'i=gone',
      'a=ice-ufrag:x',
      'a=end-of-candidates',
      'a=x-foo',
      'm=video 4002 RTP/AVP 96',
      'c=IN IP6 2001:db8::1',
      'a=rtpmap:96 VP8/90000',
    ]));
    const base = passthrough(session);
    const out = writeSdp({ ...base, medias: base.medias.map((m) => ({ ...m, port: 0, direction: 'inactive' as const, rtcpPort: 9 })) });
    expect(out).toBe(crlf([
      'v=0',
      'o=- 5 6 IN IP4 192.0.2.1',
      's=-',
      't=0 0',
      'm=audio 0 RTP/AVP 0',
      'c=IN IP4 0.0.0.0',
      'm=video 0 RTP/AVP 96',
      'c=IN IP6 ::',
    ]));
  });

  it('parse → write → parse is stable', () => {
    const first = writeSdp(passthrough(parseSdp(AUDIO_VIDEO)));
    const second = writeSdp(passthrough(parseSdp(first)));
    expect(second).toBe(first);
  });
});

describe('rtpmapFor', () => {
  const codec = (payloadType: number, rtpmap: string | null = null): SdpCodec => ({
    payloadType,
    encoding: '',
    clockRate: 0,
    channels: null,
    rtpmap,
    fmtp: [],
    rtcpFb: [],
  });

  it.each([
    [0, '0 PCMU/8000'],
    [3, '3 GSM/8000'],
    [4, '4 G723/8000'],
    [8, '8 PCMA/8000'],
    [9, '9 G722/8000'],
    [10, '10 L16/44100/2'],
    [11, '11 L16/44100'],
    [13, '13 CN/8000'],
    [18, '18 G729/8000'],
    [26, '26 JPEG/90000'],
    [31, '31 H261/90000'],
    [34, '34 H263/90000'],
  ])('static payload type %i → %s', (pt, expected) => {
    expect(rtpmapFor(codec(pt))).toBe(expected);
  });

  it('unassigned and dynamic payload types without rtpmap give null', () => {
    expect(rtpmapFor(codec(2))).toBeNull();
    expect(rtpmapFor(codec(19))).toBeNull();
    expect(rtpmapFor(codec(96))).toBeNull();
  });

  it('an explicit rtpmap wins', () => {
    expect(rtpmapFor(codec(0, '0 PCMU/8000/1'))).toBe('0 PCMU/8000/1');
    expect(rtpmapFor(codec(96, '96 opus/48000/2'))).toBe('96 opus/48000/2');
  });
});
