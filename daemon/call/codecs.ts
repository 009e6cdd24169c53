/**
 * Codec manipulation of an offer without transcoding (rtpengine's `codec` dictionary):
 * strip, mask (the same without a transcoder), except (protect from strip/mask all), offer
 * (keep only these, in this order). Codecs are matched by payload type number, encoding name
 * (case-insensitive), or `name/rate[/channels]`.
 */
import type { CodecFlags } from './flags.js';
import { STATIC_PAYLOAD_TYPES, type SdpCodec } from '../sdp/sdp-model.js';

function codecName(c: SdpCodec): { name: string; rate: number; channels: number } {
  const fallback = STATIC_PAYLOAD_TYPES[c.payloadType];
  return {
    name: (c.encoding || fallback?.encoding || '').toLowerCase(),
    rate: c.clockRate || fallback?.clockRate || 0,
    channels: c.channels ?? fallback?.channels ?? 1,
  };
}

export function codecMatches(c: SdpCodec, spec: string): boolean {
  if (/^\d+$/.test(spec)) return c.payloadType === Number(spec);
  const [name, rate, channels] = spec.toLowerCase().split('/');
  const info = codecName(c);
  if (info.name !== name) return false;
  if (rate && Number(rate) !== info.rate) return false;
  if (channels && Number(channels) !== info.channels) return false;
  return true;
}

const isAll = (list: string[]) => list.some((s) => /^(all|full)$/i.test(s));

/** Returns the codecs to offer onward; stripping everything restores the original list. */
export function applyCodecFlags(codecs: readonly SdpCodec[], flags: CodecFlags): SdpCodec[] {
  const remove = [...flags.strip, ...flags.mask];
  const protectedBy = (c: SdpCodec) => flags.except.some((s) => codecMatches(c, s)) || flags.offer.some((s) => codecMatches(c, s));
  let out = codecs.filter((c) => {
    if (protectedBy(c)) return true;
    if (isAll(remove)) return false;
    return !remove.some((s) => codecMatches(c, s));
  });
  if (flags.offer.length > 0) {
    const ordered: SdpCodec[] = [];
    for (const spec of flags.offer) {
      for (const c of out) if (codecMatches(c, spec) && !ordered.includes(c)) ordered.push(c);
    }
    out = ordered;
  }
  return out.length > 0 ? out : [...codecs];
}
