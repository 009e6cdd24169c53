/**
 * The legacy rtpproxy command lines Kamailio's `rtpproxy` module sends, parsed.
 */
import { describe, expect, it } from 'vitest';
import { parseLegacyCommand } from '../../../daemon/control/control-udp.js';

describe('parseLegacyCommand', () => {
  it('U and L with flags, via-branch, IPv4 and IPv6, optional to-tag and trailing notify arguments', () => {
    expect(parseLegacyCommand('Uc0,8,101 abc@host;branch1 192.0.2.1 4000 ftag;1')).toEqual({
      kind: 'update', flags: 'c0,8,101', callId: 'abc@host', viaBranch: 'branch1', address: '192.0.2.1', port: 4000,
      fromTag: 'ftag', index: 1, toTag: undefined,
    });
    expect(parseLegacyCommand('L abc 2001:db8::1 5000 ftag;2 ttag;2 /var/run/notify 42\n')).toMatchObject({
      kind: 'lookup', callId: 'abc', address: '2001:db8::1', port: 5000, fromTag: 'ftag', index: 2, toTag: 'ttag',
    });
    expect(parseLegacyCommand('u abc 192.0.2.1 4000 ftag;1')).toMatchObject({ kind: 'update' });
  });

  it('D, Q, V, VF, I', () => {
    expect(parseLegacyCommand('D abc ftag ttag')).toEqual({ kind: 'delete', flags: '', callId: 'abc', viaBranch: undefined, fromTag: 'ftag', toTag: 'ttag' });
    expect(parseLegacyCommand('Q abc;vb ftag;1')).toMatchObject({ kind: 'query', viaBranch: 'vb', fromTag: 'ftag', toTag: undefined });
    expect(parseLegacyCommand('V')).toEqual({ kind: 'version', flags: '', arg: undefined });
    expect(parseLegacyCommand('VF 20050322')).toEqual({ kind: 'version', flags: 'F', arg: '20050322' });
    expect(parseLegacyCommand('I')).toEqual({ kind: 'info', flags: '' });
  });

  it('refuses what is none of them', () => {
    expect(parseLegacyCommand('U abc notanaddress 4000 ftag;1')).toBeNull();
    expect(parseLegacyCommand('U abc 192.0.2.1 4000 ftag')).toBeNull();
    expect(parseLegacyCommand('X something')).toBeNull();
    expect(parseLegacyCommand('')).toBeNull();
  });
});
