/**
 * The one SDP output builder: how each output flag and hold shape an m= line, whichever command
 * asked for it. CallMedia objects of a real Call; their port pairs are set by hand (no sockets).
 */
import { describe, expect, it } from 'vitest';
import { Call } from '../../../daemon/call/call.js';
import type { CallMedia } from '../../../daemon/call/call-media.js';
import { outputMedia, renderSdp, type MediaOutput } from '../../../daemon/call/sdp-output.js';
import { parseSdp } from '../../../daemon/sdp/sdp-parse.js';
import { callContext, ngFlags, sdp } from '../../helpers/call-context.js';

const session = parseSdp(sdp(
  'v=0', 'o=- 1545997027 7 IN IP4 198.51.100.1', 's=tester', 't=0 0',
  'm=audio 2000 RTP/AVP 0', 'c=IN IP4 198.51.100.1', 'a=sendrecv',
));

function media(): { sender: CallMedia; relay: CallMedia } {
  const ctx = callContext();
  const call = new Call('out-test', ctx);
  const sender = call.addMedia(call.addMonologue('a', undefined), 1, 'audio');
  const relay = call.addMedia(call.addMonologue('b', undefined), 1, 'audio');
  relay.ports = { local: ctx.interfaces.addresses[0]!, port: 30000, leak: ctx.leaks.register('PortReservation', 'out-test') };
  sender.rtp.setAdvertised({ address: '198.51.100.1', port: 2000, family: 4 });
  return { sender, relay };
}

function line(msg: Record<string, unknown> = {}, over: Partial<MediaOutput> = {}) {
  const { sender, relay } = media();
  const m = session.medias[0]!;
  return outputMedia({ sdp: m, relay, sender, rejected: false, codecs: m.codecs, direction: 'sendrecv', mux: { offer: false, onRtpPort: false }, ...over }, ngFlags(msg));
}

describe('outputMedia', () => {
  it('advertises the relay: its port, its address, a=rtcp on the next port', () => {
    expect(line()).toMatchObject({ port: 30000, connection: { family: 4, address: '127.0.0.1' }, direction: 'sendrecv', rtcpPort: 30001, rtcpMux: false, mid: null });
  });

  it('media-address, no-rtcp-attribute, full-rtcp-attribute, generate-mid', () => {
    expect(line({ 'media-address': '2001:db8::5' }).connection).toEqual({ family: 6, address: '2001:db8::5' });
    expect(line({ flags: ['no-rtcp-attribute'] }).rtcpPort).toBeNull();
    expect(line({ flags: ['full-rtcp-attribute'] }).fullRtcp).toBe(true);
    expect(line({ flags: ['generate-mid'] }).mid).toBe('1');
  });

  it('rtcp-mux as decided: a=rtcp-mux, a=rtcp on the RTP port; never on a rejected line', () => {
    expect(line({}, { mux: { offer: true, onRtpPort: true } })).toMatchObject({ rtcpMux: true, rtcpPort: 30000 });
    expect(line({}, { mux: { offer: true, onRtpPort: true }, rejected: true })).toMatchObject({ port: 0, rtcpMux: false, rtcpPort: null });
  });

  it('a sender on hold: null address, no "recv"; not when the relay answers for itself', () => {
    const { sender, relay } = media();
    sender.rtp.setAdvertised({ address: '0.0.0.0', port: 2000, family: 4 });
    const m = session.medias[0]!;
    const base = { sdp: m, relay, rejected: false, codecs: m.codecs, mux: { offer: false, onRtpPort: false } };
    expect(outputMedia({ ...base, sender, direction: 'sendrecv' }, ngFlags({}))).toMatchObject({ connection: { address: '0.0.0.0' }, direction: 'sendonly' });
    expect(outputMedia({ ...base, sender, direction: 'recvonly' }, ngFlags({})).direction).toBe('inactive');
    expect(outputMedia({ ...base, sender: null, direction: 'recvonly' }, ngFlags({}))).toMatchObject({ connection: { address: '127.0.0.1' }, direction: 'recvonly' });
    // original-sendrecv writes the sender's own direction
    expect(outputMedia({ ...base, sender, direction: 'sendonly' }, ngFlags({ flags: ['original-sendrecv'] })).direction).toBe('sendrecv');
  });
});

describe('renderSdp', () => {
  it('keeps the o= of the input, and with sdp-version bumps it only when the body changed', () => {
    const { sender, relay } = media();
    const m = session.medias[0]!;
    const out = (direction: 'sendrecv' | 'sendonly') => renderSdp(relay.monologue, session,
      [{ sdp: m, relay, sender, rejected: false, codecs: m.codecs, direction, mux: { offer: false, onRtpPort: false } }],
      ngFlags({ replace: ['sdp-version'] }));
    const first = out('sendrecv');
    expect(first).toMatch(/^o=- 1545997027 7 IN IP4 198\.51\.100\.1\r$/m);
    expect(out('sendrecv')).toMatch(/^o=- 1545997027 7 /m);
    expect(out('sendonly')).toMatch(/^o=- 1545997027 8 /m);
  });
});
