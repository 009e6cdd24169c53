/**
 * The typed Config every room reads. Built once at start-up from the ini file and the command
 * line; invalid values of known options are ConfigErrors (clear message, non-zero exit).
 */
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { ConfigError } from '../errors.js';
import { LEARNING_MODES, type LearningMode } from '../net/endpoint.js';
import { OPTIONS_BY_LONG } from './options.js';
import { parseDtmfLogDest, type DtmfLogDest } from '../log/dtmf-log.js';
import type { ComfortNoiseConfig } from '../codec/comfort-noise.js';
import { loadIniFile, mergeRaw, parseArgv, UNKNOWN_PREFIX, type RawOptions } from './parse.js';

export type LeakCheckMode = 'off' | 'summary' | 'full' | 'fatal';

export interface InterfaceSpec {
  name: string;
  address: string;
  advertised: string;
  family: 4 | 6;
}

/** `-i ALIAS=NAME`: another name for an interface configured before it. */
export interface InterfaceAlias {
  alias: string;
  target: string;
}

export interface ListenSpec {
  address: string;
  port: number;
}

export interface Config {
  interfaces: InterfaceSpec[];
  interfaceAliases: InterfaceAlias[];
  listenNg: ListenSpec[];
  listenCli: ListenSpec[];
  listenUdp: ListenSpec | null;
  listenTcpNg: ListenSpec[];
  listenHttp: ListenSpec[];
  listenHttps: ListenSpec[];
  httpsCert: string | null;
  httpsKey: string | null;
  /** Seconds a TCP/HTTP/WebSocket control connection may idle or take for one request. */
  controlIdleTimeout: number;
  portMin: number;
  portMax: number;
  logLevel: number;
  logFormat: 'json' | 'pretty';
  pidfile: string | null;
  tos: number | null;
  table: number;
  noFallback: boolean;
  fastPathThreads: number;
  /** JS-path media I/O: the addon's batched sockets (auto/native) or Node's dgram. */
  mediaSockets: 'auto' | 'native' | 'dgram';
  deleteDelay: number;
  /** ms between generated RTCP reports (`generate RTCP`). */
  rtcpInterval: number;
  /** --dtmf-log-dest: where DTMF events go as JSON over UDP (null: only logged). */
  dtmfLogDest: DtmfLogDest | null;
  /** --silence-detect / --cn-payload. */
  comfortNoise: ComfortNoiseConfig;
  /** --dtmf-no-log-injects. */
  dtmfNoLogInjects: boolean;
  /** --audio-player: when receivers get one mixed stream (call/audio-player.ts). */
  audioPlayer: 'on-demand' | 'play-media' | 'transcoding' | 'always';
  /** --audio-buffer-length / --audio-buffer-delay, in ms. */
  audioBufferLength: number;
  audioBufferDelay: number;
  maxSessions: number;
  timeout: number;
  silentTimeout: number;
  finalTimeout: number;
  offerTimeout: number;
  endpointLearning: LearningMode;
  /** --sip-source: use `received from` rather than SDP addresses unless `trust address` is given. */
  sipSource: boolean;
  /** DTLS certificate (daemon/crypto/dtls-cert.ts) and role preference. */
  dtlsCertCipher: 'prime256v1' | 'rsa';
  dtlsRsaKeySize: number;
  dtlsSignature: 'sha-256' | 'sha-1';
  dtlsPassive: boolean;
  dtlsMtu: number;
  leakCheck: LeakCheckMode;
  leakStacks: string[];
  leakSampleInterval: number;
  /** rtpengine options given that this daemon does not implement (warned about at start-up). */
  ignoredOptions: string[];
  /** Long options nobody here knows (warned about at start-up: a typo, or a newer rtpengine option). */
  unknownOptions: string[];
  help: boolean;
  version: boolean;
}

function intValue(raw: RawOptions, key: string, fallback: number, min = -Infinity, max = Infinity): number {
  const value = raw.get(key)?.[0];
  if (value === undefined) return fallback;
  if (!/^-?\d+$/.test(value.trim())) throw new ConfigError(`Invalid value "${value}" for --${key}: expected an integer`);
  const n = Number(value);
  if (n < min || n > max) throw new ConfigError(`Invalid value ${n} for --${key}: must be between ${min} and ${max}`);
  return n;
}

function boolValue(raw: RawOptions, key: string): boolean {
  const value = raw.get(key)?.[0];
  if (value === undefined) return false;
  if (/^(true|yes|on|1)$/i.test(value)) return true;
  if (/^(false|no|off|0)$/i.test(value)) return false;
  throw new ConfigError(`Invalid value "${value}" for --${key}: expected true or false`);
}

function enumValue<T extends string>(raw: RawOptions, key: string, allowed: readonly T[], fallback: T): T {
  const value = raw.get(key)?.[0];
  if (value === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new ConfigError(`Invalid value "${value}" for --${key}: expected one of ${allowed.join(', ')}`);
  }
  return value as T;
}

/** As enumValue, but rtpengine's spellings of these are case-insensitive (`RSA`, `SHA-256`). */
function lowerEnum<T extends string>(raw: RawOptions, key: string, allowed: readonly T[], fallback: T): T {
  const value = raw.get(key)?.[0]?.trim().toLowerCase();
  if (value === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new ConfigError(`Invalid value "${value}" for --${key}: expected one of ${allowed.join(', ')}`);
  }
  return value as T;
}

const NAME_RE = /^[A-Za-z0-9_.:-]+$/;

/** Addresses of a system network interface (`eth0`), or of every non-loopback one (`any`). */
function systemAddresses(device: string): Array<{ address: string; family: 4 | 6 }> {
  const all = networkInterfaces();
  const wanted = (device === 'any' ? Object.values(all).flat() : all[device] ?? [])
    .filter((a): a is NonNullable<typeof a> => a !== undefined && (device !== 'any' || !a.internal));
  // link-local IPv6 needs a scope id to bind: left out
  return wanted
    .filter((a) => !(a.family === 'IPv6' && a.scopeid !== undefined && a.scopeid !== 0))
    .map((a) => ({ address: a.address, family: a.family === 'IPv6' ? 6 : 4 }));
}

/**
 * One `-i` value, rtpengine's syntax: `[NAME/]ADDR[!ADVERTISED]` where ADDR is an IP address, a
 * system network interface (all its addresses) or `any` (every non-loopback address). NAME
 * may be `BASE:SUFFIX` (round-robin under BASE). `ALIAS=NAME` is parsed by parseInterfaceArg.
 */
export function parseInterfaces(spec: string): InterfaceSpec[] {
  let rest = spec.trim();
  let name = 'default';
  const slash = rest.indexOf('/');
  if (slash >= 0) {
    name = rest.slice(0, slash);
    rest = rest.slice(slash + 1);
    if (!NAME_RE.test(name)) throw new ConfigError(`Invalid interface name in "${spec}"`);
  }
  let advertised: string | undefined;
  const bang = rest.indexOf('!');
  if (bang >= 0) {
    advertised = rest.slice(bang + 1);
    rest = rest.slice(0, bang);
  }
  if (advertised !== undefined && isIP(advertised) === 0) {
    throw new ConfigError(`Invalid interface "${spec}": advertised address "${advertised}" is not an IP address`);
  }
  const address = rest.replace(/^\[(.*)\]$/, '$1');
  const family = isIP(address);
  if (family !== 0) return [{ name, address, advertised: advertised ?? address, family: family as 4 | 6 }];
  if (!/^[A-Za-z0-9_.@-]+$/.test(address)) throw new ConfigError(`Invalid interface "${spec}": "${address}" is not an IP address`);
  const found = systemAddresses(address);
  if (found.length === 0) {
    throw new ConfigError(`Invalid interface "${spec}": "${address}" is neither an IP address nor a network interface with addresses (host names are not supported)`);
  }
  // an advertised address applies to the addresses of its own family only
  return found.map((a) => ({
    name,
    address: a.address,
    advertised: advertised !== undefined && isIP(advertised) === a.family ? advertised : a.address,
    family: a.family,
  }));
}

/** The first address a `-i` value names (kept for callers that configure a single address). */
export function parseInterface(spec: string): InterfaceSpec {
  return parseInterfaces(spec)[0] as InterfaceSpec;
}

/** All `-i` values in order: addresses and aliases (an alias must follow the interface it names). */
export function parseInterfaceArgs(specs: readonly string[]): { interfaces: InterfaceSpec[]; aliases: InterfaceAlias[] } {
  const interfaces: InterfaceSpec[] = [];
  const aliases: InterfaceAlias[] = [];
  for (const spec of specs) {
    const alias = /^([^/!=\s]+)=([^/!=\s]+)$/.exec(spec.trim());
    if (!alias) {
      interfaces.push(...parseInterfaces(spec));
      continue;
    }
    const [, name, target] = alias as unknown as [string, string, string];
    if (!NAME_RE.test(name) || !NAME_RE.test(target)) throw new ConfigError(`Invalid interface alias "${spec}"`);
    if (interfaces.some((i) => i.name === name) || aliases.some((a) => a.alias === name)) {
      throw new ConfigError(`Invalid interface alias "${spec}": "${name}" is already an interface name`);
    }
    // an alias of an alias names the same interface
    const resolved = aliases.find((a) => a.alias === target)?.target ?? target;
    if (!interfaces.some((i) => i.name === resolved)) {
      throw new ConfigError(`Invalid interface alias "${spec}": interface "${target}" must be configured before its alias`);
    }
    aliases.push({ alias: name, target: resolved });
  }
  return { interfaces, aliases };
}

export function parseListen(spec: string, option: string, defaultAddress = '127.0.0.1'): ListenSpec {
  const text = spec.trim();
  let address = defaultAddress;
  let portText = text;
  const v6 = /^\[(.+)\]:(\d+)$/.exec(text);
  if (v6) {
    address = v6[1] as string;
    portText = v6[2] as string;
  } else if (text.includes(':')) {
    const colon = text.lastIndexOf(':');
    address = text.slice(0, colon);
    portText = text.slice(colon + 1);
  }
  if (address === 'localhost') address = '127.0.0.1';
  if (address === '*' || address === '') address = '0.0.0.0';
  if (isIP(address) === 0) throw new ConfigError(`Invalid address "${address}" for --${option}`);
  if (!/^\d+$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
    throw new ConfigError(`Invalid port "${portText}" for --${option}`);
  }
  return { address, port: Number(portText) };
}

export function buildConfig(raw: RawOptions): Config {
  const ignoredOptions = [...raw.keys()].filter((key) => OPTIONS_BY_LONG.get(key)?.implemented === false);
  const unknownOptions = [...raw.keys()].filter((key) => key.startsWith(UNKNOWN_PREFIX)).map((key) => key.slice(UNKNOWN_PREFIX.length));
  // accepted for rtpengine compatibility (we always log to stderr and never daemonise), but
  // a value that is not a boolean is still an error
  boolValue(raw, 'foreground');
  boolValue(raw, 'log-stderr');
  const help = boolValue(raw, 'help');
  const version = boolValue(raw, 'version');
  // ini files separate values with `;`, rtpengine's own examples also with spaces
  const { interfaces, aliases } = parseInterfaceArgs((raw.get('interface') ?? []).flatMap((v) => v.split(/\s+/)).filter((v) => v !== ''));
  if (interfaces.length === 0 && !help && !version) throw new ConfigError('At least one interface must be given (-i/--interface)');
  const portMin = intValue(raw, 'port-min', 30000, 1, 65535);
  const portMax = intValue(raw, 'port-max', 39999, 1, 65535);
  if (portMax <= portMin) throw new ConfigError(`--port-max (${portMax}) must be above --port-min (${portMin})`);
  const tosRaw = raw.get('tos')?.[0];
  const leakStacks = (raw.get('leak-stacks')?.[0] ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  const maxSessions = intValue(raw, 'max-sessions', -1, -1);
  const udp = raw.get('listen-udp')?.[0];
  const listenHttps = (raw.get('listen-https') ?? []).map((s) => parseListen(s, 'listen-https'));
  const httpsCert = raw.get('https-cert')?.[0] ?? null;
  if (listenHttps.length > 0 && !httpsCert) throw new ConfigError('HTTPS/WSS listener requested, but no certificate given (--https-cert)');
  return {
    interfaces,
    interfaceAliases: aliases,
    listenNg: (raw.get('listen-ng') ?? []).map((s) => parseListen(s, 'listen-ng')),
    listenCli: (raw.get('listen-cli') ?? []).map((s) => parseListen(s, 'listen-cli')),
    listenUdp: udp === undefined ? null : parseListen(udp, 'listen-udp'),
    listenTcpNg: (raw.get('listen-tcp-ng') ?? []).map((s) => parseListen(s, 'listen-tcp-ng')),
    listenHttp: (raw.get('listen-http') ?? []).map((s) => parseListen(s, 'listen-http')),
    listenHttps,
    httpsCert,
    httpsKey: raw.get('https-key')?.[0] ?? null,
    controlIdleTimeout: intValue(raw, 'control-idle-timeout', 60, 1),
    portMin,
    portMax,
    logLevel: intValue(raw, 'log-level', 6, 0, 7),
    logFormat: enumValue(raw, 'log-format', ['json', 'pretty'] as const, 'json'),
    pidfile: raw.get('pidfile')?.[0] ?? null,
    tos: tosRaw === undefined ? null : intValue(raw, 'tos', 0, 0, 255),
    table: intValue(raw, 'table', -1),
    noFallback: boolValue(raw, 'no-fallback'),
    fastPathThreads: intValue(raw, 'fast-path-threads', 1, 1, 64),
    mediaSockets: enumValue(raw, 'media-sockets', ['auto', 'native', 'dgram'] as const, 'auto'),
    deleteDelay: intValue(raw, 'delete-delay', 30, 0),
    rtcpInterval: intValue(raw, 'rtcp-interval', 5000, 100),
    dtmfLogDest: dtmfLogDestValue(raw.get('dtmf-log-dest')?.[0]),
    dtmfNoLogInjects: boolValue(raw, 'dtmf-no-log-injects'),
    comfortNoise: comfortNoiseValue(raw),
    audioPlayer: enumValue(raw, 'audio-player', ['on-demand', 'play-media', 'transcoding', 'always'] as const, 'on-demand'),
    audioBufferLength: intValue(raw, 'audio-buffer-length', 500, 40, 10_000),
    audioBufferDelay: intValue(raw, 'audio-buffer-delay', 5, 0, 1000),
    maxSessions,
    timeout: intValue(raw, 'timeout', 60, 0),
    silentTimeout: intValue(raw, 'silent-timeout', 3600, 0),
    finalTimeout: intValue(raw, 'final-timeout', 0, 0),
    offerTimeout: intValue(raw, 'offer-timeout', 3600, 0),
    sipSource: boolValue(raw, 'sip-source'),
    endpointLearning: enumValue(raw, 'endpoint-learning', LEARNING_MODES, 'delayed'),
    dtlsCertCipher: lowerEnum(raw, 'dtls-cert-cipher', ['prime256v1', 'rsa'] as const, 'prime256v1'),
    dtlsRsaKeySize: intValue(raw, 'dtls-rsa-key-size', 2048, 1024, 8192),
    dtlsSignature: lowerEnum(raw, 'dtls-signature', ['sha-256', 'sha-1'] as const, 'sha-256'),
    dtlsPassive: boolValue(raw, 'dtls-passive'),
    dtlsMtu: intValue(raw, 'dtls-mtu', 1200, 256, 65535),
    leakCheck: enumValue(raw, 'leak-check', ['off', 'summary', 'full', 'fatal'] as const, 'summary'),
    leakStacks,
    leakSampleInterval: intValue(raw, 'leak-sample-interval', 10, 1),
    ignoredOptions,
    unknownOptions,
    help,
    version,
  };
}

function comfortNoiseValue(raw: RawOptions): ComfortNoiseConfig {
  const sd = raw.get('silence-detect')?.[0];
  const silenceDetect = sd === undefined ? 0 : Number(sd);
  if (!Number.isFinite(silenceDetect) || silenceDetect < 0 || silenceDetect > 100) throw new ConfigError(`Invalid value "${sd}" for --silence-detect: expected a percentage 0-100`);
  const items = (raw.get('cn-payload') ?? []).flatMap((v) => v.split(';')).map((v) => v.trim()).filter((v) => v !== '');
  const cnPayload = items.map((v, i) => {
    const n = Number(v);
    if (!/^\d+$/.test(v) || n > (i === 0 ? 127 : 254)) throw new ConfigError(`Invalid value "${v}" for --cn-payload: expected 0-${i === 0 ? 127 : 254}`);
    return n;
  });
  return { silenceDetect, cnPayload: cnPayload.length > 0 ? cnPayload : [32] };
}

function dtmfLogDestValue(v: string | undefined): DtmfLogDest | null {
  if (v === undefined || v === '') return null;
  const dest = parseDtmfLogDest(v);
  if (!dest) throw new ConfigError(`--dtmf-log-dest: '${v}' is not ADDRESS:PORT`);
  return dest;
}

const DEFAULT_CONFIG_FILE = '/etc/rtpengine/rtpengine.conf';

/** Command line first (to find --config-file), then the file, then the command line again on top. */
export function loadConfig(argv: readonly string[]): Config {
  const cli = parseArgv(argv);
  const fileArg = cli.get('config-file')?.[0];
  const section = cli.get('config-section')?.[0] ?? 'rtpengine';
  let raw = cli;
  if (fileArg !== 'none') {
    const path = fileArg ?? DEFAULT_CONFIG_FILE;
    // A missing default file is fine (rtpengine's rule); a missing named file is fatal.
    let fileRaw: RawOptions | null = null;
    try {
      fileRaw = loadIniFile(path, section);
    } catch (err) {
      if (fileArg !== undefined) throw err;
    }
    if (fileRaw) raw = mergeRaw(fileRaw, cli);
  }
  return buildConfig(raw);
}
