import { describe, expect, it } from 'vitest';
import type { BencodeDict, BencodeValue } from '../../../daemon/control/bencode.js';
import { normalizeKey, parseNgFlags, type NgFlags } from '../../../daemon/control/call-flags.js';
import { NgCommandError } from '../../../daemon/errors.js';

type Plain = string | number | Plain[] | { [k: string]: Plain };

/** Builds a BencodeDict as the decoder produces it: strings become Buffers. */
function toBencode(v: Plain): BencodeValue {
  if (typeof v === 'string') return Buffer.from(v, 'utf8');
  if (typeof v === 'number') return v;
  if (Array.isArray(v)) return v.map(toBencode);
  const out: BencodeDict = Object.create(null) as BencodeDict;
  for (const [k, x] of Object.entries(v)) out[k] = toBencode(x);
  return out;
}

const parse = (msg: Record<string, Plain>): NgFlags => parseNgFlags(toBencode(msg) as BencodeDict);

describe('normalizeKey', () => {
  it.each([
    ['call-id', 'call-id'],
    ['call id', 'call-id'],
    ['call ID', 'call-id'],
    ['Call_ID', 'call-id'],
    ['call-ID', 'call-id'],
    ['  from tag  ', 'from-tag'],
    ['rtpp_flags', 'rtpp-flags'],
    ['delete_delay', 'delete-delay'],
    ['SDP-attr', 'sdp-attr'],
    ['address family', 'address-family'],
  ])('%j → %s', (input, expected) => {
    expect(normalizeKey(input)).toBe(expected);
  });
});

describe('parseNgFlags', () => {
  it('gives empty defaults for a bare command', () => {
    const f = parse({ command: 'ping' });
    expect(f.command).toBe('ping');
    expect(f.callId).toBeUndefined();
    expect(f.direction).toEqual([]);
    expect(f.flags.size).toBe(0);
    expect(f.replace.size).toBe(0);
    expect(f.rtcpMux.size).toBe(0);
    expect(f.codec).toEqual({ strip: [], offer: [], mask: [], except: [], transcode: [], accept: [], consume: [], ignore: [], set: [] });
  });

  it.each(['call-id', 'call id', 'call ID', 'Call_ID', 'call-ID'])('call-id spelled %j', (key) => {
    expect(parse({ command: 'query', [key]: 'abc@host' }).callId).toBe('abc@host');
  });

  it('identity keys and their spellings', () => {
    const f = parse({
      command: 'offer',
      'from tag': 'ft1',
      'to_tag': 'tt1',
      'via-branch': 'z9hG4bK1',
      sdp: 'v=0\r\n',
      label: 'caller',
      'set-label': 'x',
      'to-label': 'callee',
      'media address': '192.0.2.9',
      'from-interface': 'priv',
      'to interface': 'pub',
      'transport protocol': 'RTP/SAVP',
    });
    expect(f).toMatchObject({
      fromTag: 'ft1',
      toTag: 'tt1',
      viaBranch: 'z9hG4bK1',
      sdp: 'v=0\r\n',
      label: 'caller',
      setLabel: 'x',
      toLabel: 'callee',
      mediaAddress: '192.0.2.9',
      fromInterface: 'priv',
      toInterface: 'pub',
      transportProtocol: 'RTP/SAVP',
    });
  });

  it('string values keep their case and bytes', () => {
    expect(parse({ command: 'offer', 'call-id': 'AbC xyz', 'from-tag': 'Tag_1' })).toMatchObject({ callId: 'AbC xyz', fromTag: 'Tag_1' });
  });

  it('integers as numbers or numeric strings', () => {
    expect(parse({ command: 'delete', 'delete-delay': 0 }).deleteDelay).toBe(0);
    expect(parse({ command: 'delete', 'delete-delay': 5 }).deleteDelay).toBe(5);
    expect(parse({ command: 'delete', 'delete-delay': '5' }).deleteDelay).toBe(5);
    expect(parse({ command: 'delete', 'delete delay': '12' }).deleteDelay).toBe(12);
    expect(parse({ command: 'delete', delete_delay: 7 }).deleteDelay).toBe(7);
    expect(parse({ command: 'offer', TOS: '184' }).tos).toBe(184);
    expect(parse({ command: 'offer', TOS: 184 }).tos).toBe(184);
    expect(parse({ command: 'list', limit: '-1' }).limit).toBe(-1);
  });

  it.each(['abc', '5s', '1.5', '0x10'])('invalid integer %j → NgCommandError', (v) => {
    expect(() => parse({ command: 'delete', 'delete-delay': v })).toThrow(NgCommandError);
  });

  it('invalid integer as a list → NgCommandError', () => {
    expect(() => parse({ command: 'list', limit: ['1'] })).toThrow(NgCommandError);
  });

  it('received-from', () => {
    expect(parse({ command: 'offer', 'received-from': ['IP4', '198.51.100.1'] }).receivedFrom).toEqual({ family: 4, address: '198.51.100.1' });
    expect(parse({ command: 'offer', 'received from': ['IP6', '2001:db8::1'] }).receivedFrom).toEqual({ family: 6, address: '2001:db8::1' });
  });

  it('received-from with a mismatched family or address is an NgCommandError', () => {
    expect(() => parse({ command: 'offer', 'received-from': ['IP4', '2001:db8::1'] })).toThrow(NgCommandError);
    expect(() => parse({ command: 'offer', 'received-from': ['IP4'] })).toThrow(NgCommandError);
  });

  it('address family', () => {
    expect(parse({ command: 'offer', 'address family': 'IP6' }).addressFamily).toBe(6);
    expect(parse({ command: 'offer', 'address-family': 'IP4' }).addressFamily).toBe(4);
    expect(parse({ command: 'offer', 'address-family': 'ip6' }).addressFamily).toBe(6);
    expect(parse({ command: 'offer', 'address-family': 'IPX' }).addressFamily).toBeUndefined();
  });

  it('direction list', () => {
    expect(parse({ command: 'offer', direction: ['priv', 'pub'] }).direction).toEqual(['priv', 'pub']);
  });

  it('replace list and replace-origin flag form', () => {
    expect([...parse({ command: 'offer', replace: ['origin', 'session-connection'] }).replace].sort()).toEqual(['origin', 'session-connection']);
    expect([...parse({ command: 'offer', replace: ['session connection'] }).replace]).toEqual(['session-connection']);
    expect([...parse({ command: 'offer', flags: ['replace-origin'] }).replace]).toEqual(['origin']);
    expect([...parse({ command: 'offer', flags: ['replace-session-connection'] }).replace]).toEqual(['session-connection']);
    expect([...parse({ command: 'offer', replace: ['bogus'] }).replace]).toEqual([]);
  });

  it('rtcp-mux list and rtcp-mux-demux flag form', () => {
    expect([...parse({ command: 'offer', 'rtcp-mux': ['demux', 'offer'] }).rtcpMux].sort()).toEqual(['demux', 'offer']);
    expect([...parse({ command: 'offer', flags: ['rtcp-mux-demux'] }).rtcpMux]).toEqual(['demux']);
    expect([...parse({ command: 'offer', 'rtcp-mux': 'require' }).rtcpMux]).toEqual(['require']);
    expect([...parse({ command: 'offer', 'rtcp-mux': ['nonsense'] }).rtcpMux]).toEqual([]);
  });

  it('ICE as string, list and unknown value', () => {
    expect(parse({ command: 'offer', ICE: 'remove' }).ice).toBe('remove');
    expect(parse({ command: 'offer', ice: ['force'] }).ice).toBe('force');
    expect(parse({ command: 'offer', ICE: 'force-relay' }).ice).toBe('force-relay');
    expect(parse({ command: 'offer', ICE: 'foo' }).ice).toBeUndefined();
  });

  it('endpoint-learning key and flag form', () => {
    expect(parse({ command: 'offer', 'endpoint-learning': 'heuristic' }).endpointLearning).toBe('heuristic');
    expect(parse({ command: 'offer', flags: ['endpoint-learning-immediate'] }).endpointLearning).toBe('immediate');
    expect(parse({ command: 'offer', 'endpoint-learning': 'nope' }).endpointLearning).toBeUndefined();
  });

  it('codec dictionary; codec names keep their case', () => {
    const f = parse({
      command: 'offer',
      codec: { strip: ['all'], transcode: ['PCMA', 'opus/48000/2/32000'], mask: ['G722'], offer: ['PCMU'], except: ['telephone-event'] },
    });
    expect(f.codec.strip).toEqual(['all']);
    expect(f.codec.transcode).toEqual(['PCMA', 'opus/48000/2/32000']);
    expect(f.codec.mask).toEqual(['G722']);
    expect(f.codec.offer).toEqual(['PCMU']);
    expect(f.codec.except).toEqual(['telephone-event']);
  });

  it('codec dictionary entry given as a single string', () => {
    expect(parse({ command: 'offer', codec: { strip: 'PCMA' } }).codec.strip).toEqual(['PCMA']);
  });

  it('codec-strip-PCMA flag form keeps the codec name case', () => {
    const f = parse({ command: 'offer', flags: ['codec-strip-PCMA', 'codec-offer-opus', 'codec-mask-G722', 'CODEC-EXCEPT-iLBC', 'codec_transcode_AMR-WB'] });
    expect(f.codec.strip).toEqual(['PCMA']);
    expect(f.codec.offer).toEqual(['opus']);
    expect(f.codec.mask).toEqual(['G722']);
    expect(f.codec.except).toEqual(['iLBC']);
    expect(f.codec.transcode).toEqual(['AMR-WB']);
    expect(f.flags.size).toBe(0);
  });

  it('flag spellings normalise', () => {
    const f = parse({ command: 'offer', flags: ['trust address', 'STRICT_SOURCE', 'media-handover', 'fatal', 'fast'] });
    expect([...f.flags].sort()).toEqual(['fast', 'fatal', 'media-handover', 'strict-source', 'trust-address']);
  });

  it('a single flags string is accepted', () => {
    expect([...parse({ command: 'offer', flags: 'trust-address' }).flags]).toEqual(['trust-address']);
  });

  it('supports list', () => {
    expect([...parse({ command: 'offer', supports: ['load limit'] }).supports]).toEqual(['load-limit']);
  });

  it('unknown keys and unknown flags are ignored, not errors', () => {
    const f = parse({
      command: 'offer',
      'call-id': 'c',
      'x-custom-key': 'whatever',
      'some nested': { a: ['b'] },
      flags: ['no-such-flag', 'trust-address'],
    });
    expect(f.callId).toBe('c');
    expect(f.flags.has('trust-address')).toBe(true);
  });

  it('rtpp-flags string gives the same NgFlags as the dictionary form', () => {
    const dictForm = parse({
      command: 'offer',
      'call-id': 'c1',
      'from-tag': 'ft',
      'via-branch': 'auto-next',
      label: 'callee',
      'address-family': 'IP4',
      direction: ['priv', 'pub'],
      replace: ['origin', 'session-connection'],
      'rtcp-mux': ['demux'],
      ICE: 'remove',
      'transport-protocol': 'RTP/AVP',
      flags: ['trust-address', 'strict-source'],
    });
    const rtppForm = parse({
      command: 'offer',
      'call-id': 'c1',
      'from-tag': 'ft',
      rtpp_flags:
        'trust-address via-branch=auto-next label=callee address-family=IP4 direction=[priv pub] replace=[origin session-connection] rtcp-mux=[demux] ICE=remove RTP/AVP strict-source',
    });
    expect(rtppForm).toEqual(dictForm);
  });

  it('rtpp-flags with flag forms and prefixes', () => {
    const a = parse({ command: 'offer', 'rtpp-flags': 'replace-origin rtcp-mux-demux codec-strip-PCMA trust-address' });
    const b = parse({ command: 'offer', replace: ['origin'], 'rtcp-mux': ['demux'], codec: { strip: ['PCMA'] }, flags: ['trust-address'] });
    expect(a).toEqual(b);
  });

  it('rtpp-flags nested codec dictionary equals the codec dictionary form', () => {
    const a = parse({ command: 'offer', 'rtpp flags': 'codec=[transcode=[PCMA PCMU] strip=[EVS]]' });
    const b = parse({ command: 'offer', codec: { transcode: ['PCMA', 'PCMU'], strip: ['EVS'] } });
    expect(a.codec).toEqual(b.codec);
  });

  it('rtpp-flags invalid integer is an NgCommandError', () => {
    expect(() => parse({ command: 'delete', rtpp_flags: 'delete-delay=abc' })).toThrow(NgCommandError);
    expect(parse({ command: 'delete', rtpp_flags: 'delete-delay=3' }).deleteDelay).toBe(3);
  });

  it('types list for leak-stacks', () => {
    expect(parse({ command: 'leak-stacks', types: ['Call,Monologue', ' StreamFd '] }).types).toEqual(['Call', 'Monologue', 'StreamFd']);
  });

  it('a boolean flag may be given as a dictionary key; a false-ish value leaves it off', () => {
    const f = parse({ command: 'offer', 'strict-source': 'yes', 'trust address': 1, 'media-handover': 'no', asymmetric: 'off' });
    expect(f.flags.has('strict-source')).toBe(true);
    expect(f.flags.has('trust-address')).toBe(true);
    expect(f.flags.has('media-handover')).toBe(false);
    expect(f.flags.has('asymmetric')).toBe(false);
  });
});

describe('flags rtpengine documents that are not implemented yet', () => {
  it('are recorded by their table name, whatever the spelling or form', () => {
    const f = parse({
      command: 'offer',
      flags: ['record call', 'pierce_NAT', 'trust-address', 'SDES-off', 'no-such-flag'],
      ICE: 'force-relay',
      'transport protocol': 'RTP/SAVP',
      codec: { strip: ['G722'] },
      DTLS: 'passive',
    });
    // SDES, transport-protocol, ICE=force-relay and DTLS are implemented: not in the list
    expect([...(f.unsupported ?? [])].sort()).toEqual(['pierce-NAT', 'record-call']);
    expect(f.dtls).toBe('passive');
    expect(f.sdes.off).toBe(true);
    expect(f.transportProtocol).toBe('RTP/SAVP');
    // the implemented ones are not in the list, and values still reach the model
    expect(f.flags.has('trust-address')).toBe(true);
    expect(f.codec.strip).toEqual(['G722']);
  });

  it('ICE=remove and empty codec lists are not reported; a boolean key set to "no" is not either', () => {
    const f = parse({ command: 'offer', ICE: 'remove', codec: { transcode: [] }, 'record call': 'no', 'pierce-NAT': 'off', flags: ['single-codec'] });
    expect([...(f.unsupported ?? [])]).toEqual([]);
  });

  it('rtpp-flags words and keys are reported too', () => {
    const f = parse({ command: 'offer', 'rtpp-flags': 'record-call ICE=force-relay codec-set-opus/48000/2/32000' });
    expect([...(f.unsupported ?? [])].sort()).toEqual(['record-call']);
  });

  it('interface, TOS and to-label are parsed', () => {
    const f = parse({ command: 'publish', interface: 'pub', TOS: 184, 'to-label': 'x' });
    expect(f).toMatchObject({ interface: 'pub', tos: 184, toLabel: 'x' });
    expect([...(f.unsupported ?? [])]).toEqual([]);
  });
});

describe('DTLS flags', () => {
  it('DTLS off/no/disable/passive/active, DTLS-reverse, DTLS-fingerprint in any spelling', () => {
    expect(parse({ command: 'offer', DTLS: 'no' }).dtls).toBe('off');
    expect(parse({ command: 'offer', DTLS: 'disable' }).dtls).toBe('off');
    expect(parse({ command: 'offer', DTLS: 'off' }).dtls).toBe('off');
    expect(parse({ command: 'offer', DTLS: 'active' }).dtls).toBe('active');
    expect(parse({ command: 'offer', DTLS: 'bogus' }).dtls).toBeUndefined();
    expect(parse({ command: 'offer', 'DTLS-reverse': 'passive' }).dtlsReverse).toBe('passive');
    expect(parse({ command: 'offer', 'DTLS-fingerprint': 'SHA-1' }).dtlsFingerprint).toBe('sha-1');
    expect(parse({ command: 'offer', 'DTLS fingerprint': 'sha512' }).dtlsFingerprint).toBe('sha-512');
    // an unknown hash is ignored (as rtpengine: warned, the default stays)
    expect(parse({ command: 'offer', 'DTLS-fingerprint': 'md5' }).dtlsFingerprint).toBeUndefined();
    expect(parse({ command: 'offer', flags: ['no-tls-id'] }).flags.has('no-tls-id')).toBe(true);
    expect([...(parse({ command: 'offer', flags: ['no-tls-id'] }).unsupported ?? [])]).toEqual([]);
  });
});
