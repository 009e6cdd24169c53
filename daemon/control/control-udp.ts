/**
 * The legacy rtpproxy control protocol over UDP (`-u/--listen-udp`, rtpengine's control_udp.c),
 * what Kamailio's old `rtpproxy` module speaks. One datagram, one `COOKIE SP COMMAND` line:
 *   U[flags] CALLID[;VIA] ADDR PORT FROMTAG;N [TOTAG;N]   offer one media stream → `COOKIE PORT ADDR 4|6`
 *   L[flags] CALLID[;VIA] ADDR PORT FROMTAG;N TOTAG;N     the answerer's stream  → same; `0 0.0.0.0` for an unknown call
 *   D[flags] CALLID[;VIA] FROMTAG [TOTAG]                  delete                 → `COOKIE 0`
 *   Q[flags] CALLID[;VIA] FROMTAG [TOTAG]                  query → `COOKIE TTL FROM-RTP FROM-RTCP TO-RTP TO-RTCP` (packets)
 *   V / VF DATE                                            version / capability   → `20040107` / `1` or `0`
 *   I                                                      info (rtpproxy's; rtpengine answers E8)
 * Anything else, or a failure, is `COOKIE E8`.
 *
 * The commands are translated into the ng call logic: each U/L becomes an ng offer/answer whose
 * SDP is synthesised from the streams this side has announced so far (one m= line per stream
 * number), and the relay port is read back from the SDP the call logic wrote. Replies go
 * through the dispatcher's cookie cache (under their own key space), so a retransmit is
 * answered without running the command again.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import type { ListenSpec } from '../config/config.js';
import type { NgFlags } from '../call/flags.js';
import type { Reply } from '../call/reply.js';
import { log } from '../log/logger.js';
import { whenListening } from '../net/listen.js';
import { parseNgFlags } from './call-flags.js';
import type { BencodeDict, BencodeValue } from './bencode.js';
import type { CookieCache } from './cookie-cache.js';

export interface LegacyCallLogic {
  offer(flags: NgFlags): Promise<Reply> | Reply;
  answer(flags: NgFlags): Promise<Reply> | Reply;
  delete(flags: NgFlags): Promise<Reply> | Reply;
  query(flags: NgFlags): Promise<Reply> | Reply;
  callExists(callId: string): boolean;
  /** Calls created since start and running now, for `I`. */
  info(): { created: number; active: number };
  silentTimeoutSeconds(): number;
}

/** Protocol versions rtpengine reports as supported to `VF`. */
const CAPABILITIES = new Set(['20040107', '20050322', '20060704']);
const BASE_VERSION = '20040107';
const SWEEP_MS = 30_000;

interface Stream { address: string; port: number }
/** What one side (tag) of a legacy call has announced: its streams by number, its SDP version. */
interface SideState { streams: Map<number, Stream>; version: number; codecs: string[] }

export type LegacyCommand =
  | { kind: 'update' | 'lookup'; callId: string; viaBranch?: string; flags: string; address: string; port: number; fromTag: string; index: number; toTag?: string }
  | { kind: 'delete'; callId: string; viaBranch?: string; flags: string; fromTag: string; toTag?: string }
  | { kind: 'query'; callId: string; viaBranch?: string; flags: string; fromTag: string; toTag?: string }
  | { kind: 'version'; flags: string; arg?: string }
  | { kind: 'info'; flags: string };

const UL_RE = /^([ul])(\S*)\s+([^;\s]+)(?:;(\S+))?\s+(\S+)\s+(\d+)\s+([^;\s]+);(\d+)(?:\s+([^;\s]+)(?:;\d+)?(?:\s+.*)?)?\s*$/is;
const DQ_RE = /^([dq])(\S*)\s+([^;\s]+)(?:;(\S+))?\s+([^;\s]+)(?:;\d+)?(?:\s+([^;\s]+)(?:;\d+)?)?\s*$/is;
const V_RE = /^(v)(\S*)(?:\s+(\S+))?\s*$/is;
const I_RE = /^(i)(\S*)\s*$/is;

/** Parses the command after the cookie; null if it is none of the commands above. */
export function parseLegacyCommand(text: string): LegacyCommand | null {
  let m = UL_RE.exec(text);
  if (m) {
    const address = m[5] as string;
    if (isIP(address) === 0) return null;
    return {
      kind: (m[1] as string).toLowerCase() === 'u' ? 'update' : 'lookup',
      flags: m[2] as string, callId: m[3] as string, viaBranch: m[4], address, port: Number(m[6]),
      fromTag: m[7] as string, index: Math.max(1, Number(m[8])), toTag: m[9],
    };
  }
  m = DQ_RE.exec(text);
  if (m) {
    const fields = { flags: m[2] as string, callId: m[3] as string, viaBranch: m[4], fromTag: m[5] as string, toTag: m[6] };
    return (m[1] as string).toLowerCase() === 'd' ? { kind: 'delete', ...fields } : { kind: 'query', ...fields };
  }
  m = V_RE.exec(text);
  if (m) return { kind: 'version', flags: m[2] as string, arg: m[3] };
  m = I_RE.exec(text);
  if (m) return { kind: 'info', flags: m[2] as string };
  return null;
}

function ngFlags(dict: Record<string, string | string[] | number>): NgFlags {
  const out: BencodeDict = Object.create(null) as BencodeDict;
  for (const [k, v] of Object.entries(dict)) {
    out[k] = (Array.isArray(v) ? v.map((x) => Buffer.from(x)) : typeof v === 'number' ? v : Buffer.from(v)) as BencodeValue;
  }
  return parseNgFlags(out);
}

/** `E`/`I` in U/L flags are rtpengine's external/internal directions. */
function directions(flags: string): string[] {
  const out: string[] = [];
  for (const ch of flags.toUpperCase()) {
    if (out.length === 2) break;
    if (ch === 'E') out.push('external');
    else if (ch === 'I') out.push('internal');
  }
  return out;
}

/** Kamailio passes the codec list as `c0,8,101` inside the flags. */
function codecList(flags: string): string[] {
  const m = /c([\d,]+)/i.exec(flags);
  const list = m ? (m[1] as string).split(',').filter((x) => /^\d{1,3}$/.test(x) && Number(x) < 128) : [];
  return list.length > 0 ? list : ['0', '8'];
}

/**
 * One m= line per stream number up to `count` (at least this side's highest). An answer may
 * have to name a stream before its L arrives (Kamailio sends one L per stream, in order): it is
 * assumed to follow the last known one at +2 ports, so it is not rejected in between; the
 * stream's own L then corrects it without moving the relay port the other side was given.
 */
function synthesiseSdp(side: SideState, count: number): string {
  const max = Math.max(count, ...side.streams.keys());
  const first = side.streams.get(1) ?? [...side.streams.values()][0] as Stream;
  const ip = (a: string) => (isIP(a) === 6 ? 'IP6' : 'IP4');
  const lines = ['v=0', `o=- 1 ${side.version} IN ${ip(first.address)} ${first.address}`, 's=-', 't=0 0'];
  let last: Stream = first;
  let lastIndex = side.streams.has(1) ? 1 : 0;
  for (let i = 1; i <= max; i++) {
    let s = side.streams.get(i);
    if (s) {
      last = s;
      lastIndex = i;
    } else s = { address: last.address, port: Math.min(65534, last.port + 2 * (i - lastIndex)) };
    lines.push(`m=audio ${s.port} RTP/AVP ${side.codecs.join(' ')}`);
    lines.push(`c=IN ${ip(s.address)} ${s.address}`);
  }
  return `${lines.join('\r\n')}\r\n`;
}

/** The relay address and port the call logic wrote for m= line `index` (1-based). */
function relayOf(sdp: string, index: number): { address: string; port: number } | null {
  const sessionC = /^c=IN IP[46] (\S+)/m.exec(sdp.split(/^m=/m)[0] as string)?.[1];
  const medias = sdp.split(/\r?\n(?=m=)/).slice(1);
  const media = medias[index - 1];
  if (!media) return null;
  const port = Number(/^m=\S+ (\d+)/.exec(media)?.[1]);
  const address = /^c=IN IP[46] (\S+)/m.exec(media)?.[1] ?? sessionC;
  if (!address || !Number.isInteger(port)) return null;
  return { address, port };
}

export class LegacyUdpControl {
  private socket: Socket | null = null;
  /** Per call-id, per tag: the streams announced so far. Swept when the call is gone. */
  private readonly state = new Map<string, Map<string, SideState>>();
  private sweepTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly logic: LegacyCallLogic,
    private readonly cache: CookieCache,
  ) {}

  async listen(spec: ListenSpec): Promise<void> {
    const socket = createSocket(spec.address.includes(':') ? 'udp6' : 'udp4');
    await whenListening(socket, (done) => socket.bind(spec.port, spec.address, done));
    socket.on('error', (err) => log().warn({ err: err.message }, 'legacy UDP control socket error'));
    socket.on('message', (msg, rinfo) => void this.onDatagram(msg, rinfo));
    this.socket = socket;
    this.sweepTimer = setInterval(() => this.sweep(), SWEEP_MS);
    this.sweepTimer.unref();
    log().info({ address: spec.address, port: spec.port }, 'Listening for legacy rtpproxy commands (UDP)');
  }

  get trackedCalls(): number {
    return this.state.size;
  }

  private async onDatagram(msg: Buffer, rinfo: RemoteInfo): Promise<void> {
    const from = `${rinfo.address}:${rinfo.port}`;
    const reply = await this.handle(msg.toString('utf8'), from);
    if (reply !== null) this.socket?.send(reply, rinfo.port, rinfo.address);
  }

  /** One datagram in, the reply line out (null: nothing to answer). Never throws. */
  async handle(text: string, from: string): Promise<string | null> {
    const m = /^(\S+)\s+([\s\S]*)$/.exec(text.replace(/\r?\n$/, ''));
    if (!m) {
      log().warn({ from, text: text.slice(0, 200) }, 'Unable to parse legacy UDP command line');
      return null;
    }
    const cookie = m[1] as string;
    const key = `rtpp ${cookie}`;
    const cached = this.cache.lookup(key);
    if (cached) {
      log().info({ from, cookie }, 'Detected legacy UDP command as a duplicate');
      return (await cached).toString('utf8');
    }
    const reply = await this.cache.run(key, async () => Buffer.from(await this.execute(cookie, m[2] as string, from), 'utf8'));
    return reply.toString('utf8');
  }

  private async execute(cookie: string, text: string, from: string): Promise<string> {
    const cmd = parseLegacyCommand(text);
    if (!cmd) {
      log().warn({ from, text: text.slice(0, 200) }, 'Failed to parse legacy UDP command line');
      return `${cookie} E8\n`;
    }
    log().info({ from, command: cmd.kind, callId: 'callId' in cmd ? cmd.callId : undefined }, 'Got valid legacy UDP command');
    try {
      switch (cmd.kind) {
        case 'update':
        case 'lookup':
          return `${cookie} ${await this.updateLookup(cmd)}\n`;
        case 'delete':
          return `${cookie} ${await this.delete(cmd)}\n`;
        case 'query':
          return `${cookie} ${await this.query(cmd)}\n`;
        case 'version':
          if (cmd.flags.toUpperCase().startsWith('F')) return `${cookie} ${cmd.arg && CAPABILITIES.has(cmd.arg) ? 1 : 0}\n`;
          return `${cookie} ${BASE_VERSION}\n`;
        case 'info': {
          const i = this.logic.info();
          return `${cookie} sessions created: ${i.created}\nactive sessions: ${i.active}\nactive streams: ${this.activeStreams()}\n`;
        }
      }
    } catch (err) {
      log().warn({ from, command: cmd.kind, err: err instanceof Error ? err.message : String(err) }, 'Legacy UDP command failed');
      return `${cookie} E8\n`;
    }
  }

  private async updateLookup(cmd: Extract<LegacyCommand, { kind: 'update' | 'lookup' }>): Promise<string> {
    if (cmd.kind === 'lookup' && !this.logic.callExists(cmd.callId)) {
      log().warn({ callId: cmd.callId }, 'Got UDP LOOKUP for unknown call-id');
      return '0 0.0.0.0';
    }
    if (cmd.kind === 'lookup' && !cmd.toTag) throw new Error('no to-tag in lookup');
    if (!this.logic.callExists(cmd.callId)) this.state.delete(cmd.callId);
    // U is sent by the side announcing its stream (from-tag); L by the answerer (to-tag)
    const senderTag = cmd.kind === 'update' ? cmd.fromTag : (cmd.toTag as string);
    let call = this.state.get(cmd.callId);
    if (!call) {
      call = new Map();
      this.state.set(cmd.callId, call);
    }
    let side = call.get(senderTag);
    if (!side) {
      side = { streams: new Map(), version: 0, codecs: codecList(cmd.flags) };
      call.set(senderTag, side);
    }
    side.streams.set(cmd.index, { address: cmd.address, port: cmd.port });
    side.version++;
    // an answer has as many m= lines as the offer it answers, even before L named them all
    const offerer = cmd.kind === 'lookup' ? call.get(cmd.fromTag) : undefined;
    const count = offerer ? Math.max(...offerer.streams.keys()) : 0;
    const dict: Record<string, string | string[]> = { command: cmd.kind === 'update' ? 'offer' : 'answer', 'call-id': cmd.callId, 'from-tag': cmd.fromTag, sdp: synthesiseSdp(side, count) };
    if (cmd.toTag) dict['to-tag'] = cmd.toTag;
    if (cmd.viaBranch) dict['via-branch'] = cmd.viaBranch;
    const dirs = directions(cmd.flags);
    if (dirs.length > 0) dict.direction = dirs;
    const flags = ngFlags(dict);
    const reply = cmd.kind === 'update' ? await this.logic.offer(flags) : await this.logic.answer(flags);
    const relay = relayOf(String(reply.sdp ?? ''), cmd.index);
    if (!relay) throw new Error(`no relay for stream ${cmd.index}`);
    return `${relay.port} ${relay.address} ${isIP(relay.address) === 6 ? 6 : 4}`;
  }

  private async delete(cmd: Extract<LegacyCommand, { kind: 'delete' }>): Promise<string> {
    const dict: Record<string, string> = { command: 'delete', 'call-id': cmd.callId, 'from-tag': cmd.fromTag };
    if (cmd.toTag) dict['to-tag'] = cmd.toTag;
    if (cmd.viaBranch) dict['via-branch'] = cmd.viaBranch;
    const reply = await this.logic.delete(ngFlags(dict));
    if (reply.warning !== undefined) throw new Error(String(reply.warning));
    this.state.delete(cmd.callId);
    return '0';
  }

  private async query(cmd: Extract<LegacyCommand, { kind: 'query' }>): Promise<string> {
    const reply = await this.logic.query(ngFlags({ command: 'query', 'call-id': cmd.callId, 'from-tag': cmd.fromTag }));
    const tags = (reply.tags ?? {}) as Record<string, { medias?: Array<{ streams?: Array<{ flags?: string[]; stats?: { packets?: number }; 'last packet'?: number }> }> }>;
    const count = (tag: string | undefined, rtcp: boolean) => {
      let n = 0;
      for (const media of (tag ? tags[tag]?.medias : undefined) ?? []) {
        for (const s of media.streams ?? []) if ((s.flags ?? []).includes('RTCP') === rtcp) n += s.stats?.packets ?? 0;
      }
      return n;
    };
    let last = Number(reply.created ?? 0);
    for (const t of Object.values(tags)) for (const media of t.medias ?? []) for (const s of media.streams ?? []) last = Math.max(last, s['last packet'] ?? 0);
    const ttl = this.logic.silentTimeoutSeconds() - (Math.floor(Date.now() / 1000) - last);
    return `${ttl} ${count(cmd.fromTag, false)} ${count(cmd.fromTag, true)} ${count(cmd.toTag, false)} ${count(cmd.toTag, true)}`;
  }

  private activeStreams(): number {
    let n = 0;
    for (const call of this.state.values()) for (const side of call.values()) n += side.streams.size;
    return n;
  }

  /** Forgets the streams of calls that ended without a D (timeouts, ng deletes, CLI). */
  private sweep(): void {
    for (const callId of [...this.state.keys()]) if (!this.logic.callExists(callId)) this.state.delete(callId);
  }

  close(): void {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = null;
    this.socket?.close();
    this.socket = null;
    this.state.clear();
  }
}
