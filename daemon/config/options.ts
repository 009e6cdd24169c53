/**
 * The one option table: it drives the command-line parser, `--help`, the ini loader and the
 * documentation in README. Letters and defaults follow rtpengine's code (main.c), not its man
 * page, where the two differ. Options marked `implemented: false` are rtpengine options we
 * accept so existing command lines keep working; using one prints a one-line warning.
 */
export type OptionKind = 'int' | 'float' | 'string' | 'bool' | 'list';

export interface OptionSpec {
  readonly long: string;
  readonly short?: string;
  readonly kind: OptionKind;
  readonly implemented: boolean;
  readonly help: string;
  readonly arg?: string;
}

const o = (long: string, short: string | undefined, kind: OptionKind, help: string, arg?: string): OptionSpec =>
  ({ long, short, kind, implemented: true, help, arg });
const later = (long: string, short: string | undefined, kind: OptionKind): OptionSpec =>
  ({ long, short, kind, implemented: false, help: 'rtpengine option, accepted and ignored (not implemented yet)' });

export const OPTIONS: readonly OptionSpec[] = [
  o('config-file', undefined, 'string', 'ini config file to load; "none" loads none', 'FILE'),
  o('config-section', undefined, 'string', 'section of the config file to read (default rtpengine)', 'NAME'),
  o('interface', 'i', 'list', 'local media interface: [NAME/]ADDR[!ADVERTISED] (ADDR: IP, system interface or any) or ALIAS=NAME; repeatable', 'IFACE'),
  o('listen-ng', 'n', 'list', 'UDP ng control listener: [ADDR:]PORT; repeatable', '[ADDR:]PORT'),
  o('listen-cli', 'c', 'list', 'TCP CLI for rtpengine-ctl: list numsessions|sessions|callid|totals|maxsessions|leaks, terminate, set maxsessions|loglevel', '[ADDR:]PORT'),
  o('listen-udp', 'u', 'string', 'legacy rtpproxy UDP control listener (commands U, L, D, Q, V, I)', '[ADDR:]PORT'),
  o('listen-tcp-ng', 'N', 'list', 'TCP ng control listener (`COOKIE BENCODE` messages back to back); repeatable', '[ADDR:]PORT'),
  o('listen-http', undefined, 'list', 'HTTP and WebSocket listener: POST /ng, /ng-plain, /cli; GET /ping, /metrics, /cli/CMD; repeatable', '[ADDR:]PORT'),
  o('listen-https', undefined, 'list', 'the same over TLS (needs --https-cert); repeatable', '[ADDR:]PORT'),
  o('https-cert', undefined, 'string', 'PEM certificate (chain) for --listen-https', 'FILE'),
  o('https-key', undefined, 'string', 'PEM private key for --listen-https (default: read from --https-cert)', 'FILE'),
  o('control-idle-timeout', undefined, 'int', 'seconds a TCP, HTTP or WebSocket control connection may stay idle or take to send one request (default 60)', 'SECS'),
  o('port-min', 'm', 'int', 'lowest media port (default 30000)', 'INT'),
  o('port-max', 'M', 'int', 'highest media port (default 39999)', 'INT'),
  o('log-level', 'L', 'int', 'syslog log level 0-7 (default 6); SIGUSR1 lowers, SIGUSR2 raises', 'INT'),
  o('log-stderr', 'E', 'bool', 'log to stderr (always the case here)'),
  o('log-format', undefined, 'string', 'log line format: json (default) or pretty', 'FORMAT'),
  o('foreground', 'f', 'bool', "don't daemonise (this daemon never daemonises)"),
  o('pidfile', 'p', 'string', 'write the process id to this file', 'FILE'),
  o('tos', 'T', 'int', 'TOS byte of outgoing media packets (0-255; set on the addon\'s sockets, Node dgram cannot set it)', 'INT'),
  o('table', 't', 'int', 'fast path: N >= 0 enables the native forwarding table, negative disables (default -1; the embedded config enables it)', 'INT'),
  o('no-fallback', 'F', 'bool', 'fail start-up if the fast path cannot be used'),
  o('fast-path-threads', undefined, 'int', 'threads of the native addon that read the media sockets and forward (default 1)', 'INT'),
  o('media-sockets', undefined, 'string', 'JS-path media I/O: auto (default: the addon\'s sockets, packets to and from JS in batches, also with -t -1), native (fail start-up without the addon), dgram (Node\'s dgram sockets)', 'MODE'),
  o('delete-delay', 'd', 'int', 'seconds between delete and teardown (default 30; 0 = immediate)', 'SECS'),
  o('dtmf-log-dest', undefined, 'string', 'send every DTMF event as rtpengine\'s JSON over UDP to this address (ng `DTMF-log-dest` overrides per call)', 'ADDR:PORT'),
  o('dtmf-no-log-injects', undefined, 'bool', 'do not log (or send) the DTMF digits `play DTMF` generates'),
  o('silence-detect', undefined, 'float', 'transcoded frames within this percent of full scale leave as CN toward a receiver that offered CN (0 = off)', 'PERCENT'),
  o('cn-payload', undefined, 'list', 'CN payload of those packets: noise level (-dBov) then optional coefficients, 0-254 each; repeatable (default 32)', 'INT'),
  o('audio-player', undefined, 'string', 'when a receiver gets one mixed stream (the audio player): on-demand (only when a message asks), play-media (while play media plays), transcoding, always', 'on-demand|play-media|transcoding|always'),
  o('audio-buffer-length', undefined, 'int', 'audio player mix buffer in ms (default 500)', 'MS'),
  o('audio-buffer-delay', undefined, 'int', 'audio player: initial delay of a new source in ms (default 5)', 'MS'),
  o('rtcp-interval', undefined, 'int', 'ms between RTCP reports the relay generates (`generate RTCP`; default 5000)', 'MS'),
  o('max-sessions', undefined, 'int', 'refuse new calls beyond this many (-1 = unlimited)', 'INT'),
  o('timeout', 'o', 'int', 'seconds without media before a call is torn down (default 60)', 'SECS'),
  o('silent-timeout', 's', 'int', 'same for on-hold / one-sided calls (default 3600)', 'SECS'),
  o('final-timeout', 'a', 'int', 'hard cap on call lifetime (default 0 = off)', 'SECS'),
  o('offer-timeout', undefined, 'int', 'calls never answered are torn down after this (default 3600)', 'SECS'),
  o('sip-source', undefined, 'bool', 'endpoint address from `received from` instead of the SDP by default (ng flag trust-address overrides)'),
  o('endpoint-learning', undefined, 'string', 'delayed (default), immediate, off, heuristic', 'MODE'),
  o('leak-check', undefined, 'string', 'off, summary (default), full (forced GC reachability), fatal (full + non-zero exit on leaks)', 'MODE'),
  o('leak-stacks', undefined, 'string', 'comma-separated object types whose allocation stacks are recorded', 'TYPES'),
  o('leak-sample-interval', undefined, 'int', 'seconds between growth samples (default 10)', 'SECS'),
  o('dtls-cert-cipher', undefined, 'string', 'key type of the DTLS certificate made at start-up: prime256v1 (default) or rsa', 'CIPHER'),
  o('dtls-rsa-key-size', undefined, 'int', 'RSA key size of the DTLS certificate with --dtls-cert-cipher=rsa (default 2048)', 'BITS'),
  o('dtls-signature', undefined, 'string', 'signature hash of the DTLS certificate: SHA-256 (default) or SHA-1', 'HASH'),
  o('dtls-passive', undefined, 'bool', 'prefer the passive (server) DTLS role: a=setup:passive in offers, passive toward actpass'),
  o('dtls-mtu', undefined, 'int', 'largest DTLS datagram the handshake sends (default 1200)', 'BYTES'),
  o('help', 'h', 'bool', 'print this help and exit'),
  o('version', 'v', 'bool', 'print the version and exit'),
  later('listen-tcp', 'l', 'string'),
  later('control-tos', undefined, 'int'), later('control-pmtu', undefined, 'string'), later('redis', 'r', 'string'),
  later('redis-write', 'w', 'string'), later('redis-subscribe', undefined, 'string'), later('subscribe-keyspace', 'k', 'list'),
  later('redis-num-threads', undefined, 'int'), later('redis-expires', undefined, 'int'), later('no-redis-required', 'q', 'bool'),
  later('redis-format', undefined, 'string'), later('redis-allowed-errors', undefined, 'int'), later('redis-disable-time', undefined, 'int'),
  later('redis-cmd-timeout', undefined, 'int'), later('redis-connect-timeout', undefined, 'int'), later('active-switchover', undefined, 'bool'),
  later('max-load', undefined, 'float'), later('max-cpu', undefined, 'float'), later('max-bandwidth', undefined, 'int'),
  later('graphite', 'g', 'string'), later('graphite-interval', 'G', 'int'), later('graphite-prefix', undefined, 'string'),
  later('num-threads', undefined, 'int'), later('media-num-threads', undefined, 'int'), later('codec-num-threads', undefined, 'int'),
  later('poller-size', undefined, 'int'), later('poller-per-thread', undefined, 'bool'), later('io-uring', undefined, 'bool'),
  later('jitter-buffer', undefined, 'int'),
  later('mos', undefined, 'string'), later('recording-dir', undefined, 'string'), later('recording-method', undefined, 'string'),
  later('recording-format', undefined, 'string'), later('record-egress', undefined, 'bool'), later('homer', undefined, 'string'),
  later('homer-protocol', undefined, 'string'), later('homer-id', undefined, 'int'), later('templates', undefined, 'string'),
  later('save-interface-ports', 'S', 'bool'), 
  later('log-facility', undefined, 'string'), later('log-facility-cdr', undefined, 'string'), later('log-facility-rtcp', undefined, 'string'),
  later('log-facility-dtmf', undefined, 'string'), later('log-name', undefined, 'string'), later('log-mark-prefix', undefined, 'string'),
  later('log-mark-suffix', undefined, 'string'), later('log-srtp-keys', undefined, 'bool'), later('b2b-url', 'b', 'string'),
  later('xmlrpc-format', 'x', 'int'), later('dtx-delay', undefined, 'int'), later('max-dtx', undefined, 'int'),
  later('dtx-buffer', undefined, 'int'), later('dtx-lag', undefined, 'int'), later('dtx-shift', undefined, 'int'),
  later('amr-dtx', undefined, 'string'), later('dtx-cn-params', undefined, 'list'), later('reject-invalid-sdp', undefined, 'bool'),
  later('dtmf-no-suppress', undefined, 'bool'), later('dtmf-digit-delay', undefined, 'int'),
  later('media-player-cache', undefined, 'bool'), later('preload-media-files', undefined, 'list'), later('mqtt-host', undefined, 'string'),
  later('mqtt-port', undefined, 'int'), later('janus-secret', undefined, 'string'), later('nftables-chain', undefined, 'string'),
  later('nftables-base-chain', undefined, 'string'), later('nftables-append', undefined, 'bool'), later('nftables-family', undefined, 'string'),
  later('nftables-start', undefined, 'bool'), later('nftables-stop', undefined, 'bool'), later('iptables-chain', undefined, 'string'),
  later('ssrc-reporting', undefined, 'string'), later('kernel-player', undefined, 'int'), later('kernel-player-media', undefined, 'int'),
  later('timer-accuracy', undefined, 'int'), later('socket-cpu-affinity', undefined, 'int'), later('cpu-affinity', undefined, 'int'),
  later('evs-lib-path', undefined, 'string'), later('dtls-ciphers', undefined, 'string'),
  later('max-recv-iters', undefined, 'int'), later('vsc-start-rec', undefined, 'string'), later('vsc-stop-rec', undefined, 'string'),
  later('moh-max-duration', undefined, 'int'), later('moh-max-repeats', undefined, 'int'), later('moh-attr-name', undefined, 'string'),
  later('legacy-sdp', undefined, 'bool'), later('priority', undefined, 'int'), later('idle-priority', undefined, 'int'),
  later('interfaces-config', undefined, 'string'), later('http-threads', undefined, 'int'), later('scheduling', undefined, 'string'),
  later('reorder-codecs', undefined, 'bool'), later('allow-asymmetric-codecs', undefined, 'bool'), later('endpoint-learning-heuristic-disable-early-return', undefined, 'bool'),
  later('mysql-host', undefined, 'string'), later('mysql-port', undefined, 'int'), later('mysql-user', undefined, 'string'),
  later('mysql-pass', undefined, 'string'), later('mysql-query', undefined, 'string'), later('jb-clock-drift', undefined, 'bool'),
  later('jb-adaptive', undefined, 'bool'), later('dtmf-log-ng-tcp', undefined, 'bool'),
  later('mqtt-tls-alpn', undefined, 'string'), later('mqtt-publish-interval', undefined, 'int'), later('mqtt-publish-scope', undefined, 'string'),
  later('player-cache', undefined, 'bool'), later('measure-rtp', undefined, 'bool'),
];

const LOG_LEVEL_SUBSYSTEMS = ['core', 'spandsp', 'ffmpeg', 'transcoding', 'codec', 'rtcp', 'ice', 'crypto', 'srtp', 'internals', 'http', 'control', 'dtx'];
/** rtpengine's per-subsystem log levels (`--log-level-SUBSYS`), accepted and not yet honoured. */
export const EXTRA_OPTIONS: readonly OptionSpec[] = LOG_LEVEL_SUBSYSTEMS.map((s) => later(`log-level-${s}`, undefined, 'int'));

export const ALL_OPTIONS: readonly OptionSpec[] = [...OPTIONS, ...EXTRA_OPTIONS];
export const OPTIONS_BY_LONG = new Map(ALL_OPTIONS.map((spec) => [spec.long, spec]));
export const OPTIONS_BY_SHORT = new Map(ALL_OPTIONS.filter((s) => s.short).map((spec) => [spec.short as string, spec]));

export function helpText(): string {
  const lines = ['Usage: rtpengine-ts [OPTION...]', ''];
  for (const spec of OPTIONS.filter((s) => s.implemented)) {
    const flag = `${spec.short ? `-${spec.short}, ` : '    '}--${spec.long}${spec.arg ? `=${spec.arg}` : ''}`;
    lines.push(`  ${flag.padEnd(40)} ${spec.help}`);
  }
  lines.push('', 'Other rtpengine options are accepted with a warning and ignored.');
  return lines.join('\n');
}
