import { describe, expect, it } from 'vitest';
import { parseRtppFlags } from '../../../daemon/control/rtpp-flags.js';

describe('parseRtppFlags', () => {
  it('empty and whitespace-only strings give nothing', () => {
    expect(parseRtppFlags('')).toEqual({ keys: {}, flags: [] });
    expect(parseRtppFlags('   \t ')).toEqual({ keys: {}, flags: [] });
  });

  it('bare tokens are flags, in order', () => {
    expect(parseRtppFlags('trust-address strict-source')).toEqual({ keys: {}, flags: ['trust-address', 'strict-source'] });
  });

  it('tolerates extra whitespace between tokens', () => {
    expect(parseRtppFlags('  trust-address \t  replace-origin  ')).toEqual({ keys: {}, flags: ['trust-address', 'replace-origin'] });
  });

  it('key=value tokens are dictionary keys', () => {
    expect(parseRtppFlags('via-branch=auto-next label=callee address-family=IP4')).toEqual({
      keys: { 'via-branch': 'auto-next', label: 'callee', 'address-family': 'IP4' },
      flags: [],
    });
  });

  it('only the first = splits key and value', () => {
    expect(parseRtppFlags('sdp-attr-add=a=b').keys).toEqual({ 'sdp-attr-add': 'a=b' });
  });

  it.each(['RTP/AVP', 'RTP/SAVP', 'RTP/AVPF', 'RTP/SAVPF', 'UDP/TLS/RTP/SAVP', 'UDP/TLS/RTP/SAVPF'])(
    'transport protocol %s becomes transport-protocol',
    (proto) => {
      expect(parseRtppFlags(`trust-address ${proto}`)).toEqual({ keys: { 'transport-protocol': proto }, flags: ['trust-address'] });
    },
  );

  it('key=[a b] gives a list', () => {
    expect(parseRtppFlags('replace=[origin session-connection] rtcp-mux=[demux]')).toEqual({
      keys: { replace: ['origin', 'session-connection'], 'rtcp-mux': ['demux'] },
      flags: [],
    });
  });

  it('single-element and empty lists', () => {
    expect(parseRtppFlags('ICE=[remove]').keys).toEqual({ ICE: ['remove'] });
    expect(parseRtppFlags('replace=[] trust-address')).toEqual({ keys: { replace: [] }, flags: ['trust-address'] });
  });

  it('direction=[priv pub] is a two-element list', () => {
    expect(parseRtppFlags('direction=[priv pub] trust-address')).toEqual({
      keys: { direction: ['priv', 'pub'] },
      flags: ['trust-address'],
    });
  });

  it('nested codec=[transcode=[PCMA PCMU] strip=[EVS]] gives a dictionary', () => {
    expect(parseRtppFlags('codec=[transcode=[PCMA PCMU] strip=[EVS]]')).toEqual({
      keys: { codec: { transcode: ['PCMA', 'PCMU'], strip: ['EVS'] } },
      flags: [],
    });
  });

  it('nested dictionary followed by more tokens', () => {
    expect(parseRtppFlags('trust-address codec=[strip=[all] offer=[PCMA opus]] label=caller RTP/SAVPF strict-source')).toEqual({
      keys: { codec: { strip: ['all'], offer: ['PCMA', 'opus'] }, label: 'caller', 'transport-protocol': 'RTP/SAVPF' },
      flags: ['trust-address', 'strict-source'],
    });
  });

  it('nested dictionary with a scalar entry', () => {
    expect(parseRtppFlags('codec=[mask=[G722] set=AMR/8000/1/7400]').keys).toEqual({
      codec: { mask: ['G722'], set: 'AMR/8000/1/7400' },
    });
  });

  it('codec names keep their case', () => {
    expect(parseRtppFlags('codec-strip-PCMA codec=[offer=[opus/48000/2]]')).toEqual({
      keys: { codec: { offer: ['opus/48000/2'] } },
      flags: ['codec-strip-PCMA'],
    });
  });
});
