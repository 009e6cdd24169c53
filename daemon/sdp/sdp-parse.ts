/**
 * SDP text → SdpSession. Structure and order come from the raw lines; typed attribute values
 * (rtpmap, fmtp, rtcp-fb, rtcp, connection) are read with sdp-transform. Anything that is not
 * an SDP a signalling peer could mean is an SdpParseError ("Failed to parse SDP").
 */
import { isIP } from 'node:net';
import * as sdpTransform from 'sdp-transform';
import { SdpParseError } from '../errors.js';
import {
  DIRECTIONS,
  ICE_ATTRIBUTES,
  type Direction,
  type SdpAttribute,
  type SdpCodec,
  type SdpConnection,
  type SdpMedia,
  type SdpOrigin,
  type SdpSession,
} from './sdp-model.js';

const LINE = /^([a-z])=(.*)$/;

function parseAttribute(text: string): SdpAttribute {
  const colon = text.indexOf(':');
  return colon < 0 ? { name: text, value: null } : { name: text.slice(0, colon), value: text.slice(colon + 1) };
}

function parseConnection(value: string): SdpConnection {
  const parts = value.trim().split(/\s+/);
  if (parts.length < 3 || parts[0] !== 'IN' || (parts[1] !== 'IP4' && parts[1] !== 'IP6')) {
    throw new SdpParseError(`invalid c= line "${value}"`);
  }
  const address = (parts[2] as string).split('/')[0] as string;
  const family = parts[1] === 'IP4' ? 4 : 6;
  if (isIP(address) !== family) throw new SdpParseError(`invalid address in c= line "${value}"`);
  return { family, address };
}

function parseOrigin(value: string): SdpOrigin {
  const parts = value.trim().split(/\s+/);
  if (parts.length !== 6) throw new SdpParseError(`invalid o= line "${value}"`);
  const [username, sessionId, sessionVersion, netType, addrType, address] = parts as [string, string, string, string, string, string];
  return { username, sessionId, sessionVersion, netType, addrType, address };
}

function directionOf(attributes: SdpAttribute[]): Direction | null {
  let found: Direction | null = null;
  for (const a of attributes) if ((DIRECTIONS as readonly string[]).includes(a.name) && a.value === null) found = a.name as Direction;
  return found;
}

interface RawSection {
  mLine: string | null;
  lines: Array<{ type: string; value: string }>;
}

export function parseSdp(text: string): SdpSession {
  if (typeof text !== 'string' || text.trim() === '') throw new SdpParseError('empty SDP');
  const lines = text.split(/\r?\n/).filter((l, i, all) => !(l === '' && i === all.length - 1));
  const sections: RawSection[] = [{ mLine: null, lines: [] }];
  lines.forEach((line, index) => {
    const match = LINE.exec(line);
    if (!match) throw new SdpParseError(`line ${index + 1} is not an SDP line: "${line.slice(0, 60)}"`);
    const [, type, value] = match as unknown as [string, string, string];
    if (type === 'm') sections.push({ mLine: value, lines: [] });
    else (sections[sections.length - 1] as RawSection).lines.push({ type, value });
  });
  const session = sections[0] as RawSection;
  if (session.lines[0]?.type !== 'v' || session.lines[0].value.trim() !== '0') throw new SdpParseError('SDP must start with v=0');

  let parsed: sdpTransform.SessionDescription;
  try {
    parsed = sdpTransform.parse(text);
  } catch (err) {
    throw new SdpParseError('sdp-transform could not parse the SDP', { cause: err });
  }

  let origin: SdpOrigin | null = null;
  let sessionName = '';
  const infoLines: string[] = [];
  const timing: string[] = [];
  const bandwidth: string[] = [];
  const attributes: SdpAttribute[] = [];
  let connection: SdpConnection | null = null;
  for (const { type, value } of session.lines.slice(1)) {
    if (type === 'o') origin = parseOrigin(value);
    else if (type === 's') sessionName = value;
    else if (type === 'c') connection = parseConnection(value);
    else if (type === 'b') bandwidth.push(value);
    else if (type === 't' || type === 'r' || type === 'z') timing.push(`${type}=${value}`);
    else if (type === 'a') attributes.push(parseAttribute(value));
    else infoLines.push(`${type}=${value}`);
  }
  if (!origin) throw new SdpParseError('no o= line');

  const medias = sections.slice(1).map((raw, index) => parseMedia(raw, parsed.media[index]));
  return {
    origin,
    sessionName,
    infoLines,
    connection,
    bandwidth,
    timing: timing.length > 0 ? timing : ['t=0 0'],
    attributes: attributes.filter((a) => !(DIRECTIONS as readonly string[]).includes(a.name)),
    direction: directionOf(attributes),
    hasIce: attributes.some((a) => ICE_ATTRIBUTES.has(a.name)),
    bundleGroups: attributes
      .filter((a) => a.name === 'group' && a.value !== null && /^BUNDLE(\s|$)/.test(a.value))
      .map((a) => (a.value as string).split(/\s+/).slice(1).filter((mid) => mid !== '')),
    medias,
  };
}

type ParsedMedia = sdpTransform.SessionDescription['media'][number];

function parseMedia(raw: RawSection, typed: ParsedMedia | undefined): SdpMedia {
  const parts = (raw.mLine as string).trim().split(/\s+/);
  if (parts.length < 3) throw new SdpParseError(`invalid m= line "${raw.mLine}"`);
  const [type, portText, protocol, ...formats] = parts as [string, string, string, ...string[]];
  const portMatch = /^(\d+)(?:\/(\d+))?$/.exec(portText);
  if (!portMatch || Number(portMatch[1]) > 65535) throw new SdpParseError(`invalid port in m= line "${raw.mLine}"`);
  if (!typed) throw new SdpParseError(`m= line "${raw.mLine}" not understood`);

  let connection: SdpConnection | null = null;
  const bandwidth: string[] = [];
  const attributes: SdpAttribute[] = [];
  const otherLines: string[] = [];
  for (const { type: t, value } of raw.lines) {
    if (t === 'c') connection = parseConnection(value);
    else if (t === 'b') bandwidth.push(value);
    else if (t === 'a') attributes.push(parseAttribute(value));
    else otherLines.push(`${t}=${value}`);
  }

  const rtp = typed.rtp ?? [];
  const codecs: SdpCodec[] = [];
  for (const format of formats) {
    if (!/^\d+$/.test(format)) continue;
    const pt = Number(format);
    const map = rtp.find((r) => r.payload === pt);
    codecs.push({
      payloadType: pt,
      encoding: map?.codec ?? '',
      clockRate: map?.rate ?? 0,
      channels: map?.encoding ? Number(map.encoding) : null,
      rtpmap: attributes.find((a) => a.name === 'rtpmap' && a.value?.split(/\s/)[0] === format)?.value ?? null,
      fmtp: attributes.filter((a) => a.name === 'fmtp' && a.value?.split(/\s/)[0] === format).map((a) => a.value as string),
      rtcpFb: attributes.filter((a) => a.name === 'rtcp-fb' && a.value?.split(/\s/)[0] === format).map((a) => a.value as string),
    });
  }
  let rtcpPort: number | null = null;
  let rtcpAddress: SdpConnection | null = null;
  if (typed.rtcp) {
    rtcpPort = typed.rtcp.port;
    if (typed.rtcp.address && typed.rtcp.ipVer) rtcpAddress = { family: typed.rtcp.ipVer === 6 ? 6 : 4, address: typed.rtcp.address };
  }
  return {
    type,
    port: Number(portMatch[1]),
    portCount: portMatch[2] ? Number(portMatch[2]) : null,
    protocol,
    formats,
    codecs,
    connection,
    bandwidth,
    attributes,
    direction: directionOf(attributes),
    rtcpPort,
    rtcpAddress,
    rtcpMux: attributes.some((a) => a.name === 'rtcp-mux'),
    mid: attributes.find((a) => a.name === 'mid')?.value ?? null,
    bundleOnly: attributes.some((a) => a.name === 'bundle-only'),
    hasIce: attributes.some((a) => ICE_ATTRIBUTES.has(a.name)),
    otherLines,
  };
}
