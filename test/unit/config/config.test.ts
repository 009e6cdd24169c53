import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildConfig, loadConfig, parseInterface, parseListen } from '../../../daemon/config/config.js';
import { ALL_OPTIONS, OPTIONS_BY_LONG, OPTIONS_BY_SHORT, helpText } from '../../../daemon/config/options.js';
import { mergeRaw, parseArgv, parseIni } from '../../../daemon/config/parse.js';
import { ConfigError } from '../../../daemon/errors.js';

const RTPENGINE_TEST_LINE = [
  '--config-file=none', '-t', '-1', '-i', '203.0.113.1', '-i', '2001:db8:4321::1', '-n', '2223', '-c', '12345',
  '-f', '-L', '7', '-E', '-u', '2222', '--silence-detect=1', '--log-level-internals=7', '--endpoint-learning=delayed',
];

const load = (...args: string[]) => loadConfig(['--config-file=none', ...args]);

describe('options table', () => {
  it('long and short names are unique', () => {
    expect(OPTIONS_BY_LONG.size).toBe(ALL_OPTIONS.length);
    const shorts = ALL_OPTIONS.filter((o) => o.short).map((o) => o.short);
    expect(new Set(shorts).size).toBe(shorts.length);
  });

  it('letters follow rtpengine code, not its man page', () => {
    expect(OPTIONS_BY_SHORT.get('T')?.long).toBe('tos');
    expect(OPTIONS_BY_SHORT.get('t')?.long).toBe('table');
    expect(OPTIONS_BY_SHORT.get('o')?.long).toBe('timeout');
    expect(OPTIONS_BY_SHORT.get('N')?.long).toBe('listen-tcp-ng');
    expect(OPTIONS_BY_SHORT.get('n')?.long).toBe('listen-ng');
    expect(OPTIONS_BY_SHORT.get('m')?.long).toBe('port-min');
    expect(OPTIONS_BY_SHORT.get('M')?.long).toBe('port-max');
    expect(OPTIONS_BY_SHORT.get('d')?.long).toBe('delete-delay');
    expect(OPTIONS_BY_SHORT.get('s')?.long).toBe('silent-timeout');
    expect(OPTIONS_BY_SHORT.get('a')?.long).toBe('final-timeout');
  });

  it('help text lists implemented options', () => {
    const text = helpText();
    expect(text).toContain('--interface');
    expect(text).toContain('-L, --log-level');
  });
});

describe('rtpengine test command line', () => {
  const cfg = loadConfig(RTPENGINE_TEST_LINE);

  it('parses', () => {
    expect(cfg.table).toBe(-1);
    expect(cfg.interfaces).toEqual([
      { name: 'default', address: '203.0.113.1', advertised: '203.0.113.1', family: 4 },
      { name: 'default', address: '2001:db8:4321::1', advertised: '2001:db8:4321::1', family: 6 },
    ]);
    expect(cfg.listenNg).toHaveLength(1);
    expect(cfg.listenNg[0]!.port).toBe(2223);
    expect(cfg.listenCli).toHaveLength(1);
    expect(cfg.listenCli[0]!.port).toBe(12345);
    expect(cfg.listenUdp?.port).toBe(2222);
    expect(cfg.logLevel).toBe(7);
    expect(cfg.endpointLearning).toBe('delayed');
  });

  it('lists the ignored options', () => {
    expect([...cfg.ignoredOptions].sort()).toEqual(['log-level-internals']);
    expect(cfg.comfortNoise).toEqual({ silenceDetect: 1, cnPayload: [32] });
  });
});

describe('defaults (rtpengine code values)', () => {
  const cfg = load('-i', '127.0.0.1');
  it.each([
    ['portMin', 30000],
    ['portMax', 39999],
    ['table', -1],
    ['deleteDelay', 30],
    ['timeout', 60],
    ['silentTimeout', 3600],
    ['offerTimeout', 3600],
    ['finalTimeout', 0],
    ['logLevel', 6],
  ] as const)('%s = %i', (key, value) => {
    expect(cfg[key]).toBe(value);
  });

  it('other defaults', () => {
    expect(cfg.endpointLearning).toBe('delayed');
    expect(cfg.tos).toBeNull();
    expect(cfg.listenNg).toEqual([]);
    expect(cfg.listenUdp).toBeNull();
    expect(cfg.ignoredOptions).toEqual([]);
    expect(cfg.noFallback).toBe(false);
  });
});

describe('command-line syntax', () => {
  it('-i NAME/ADDR!ADV', () => {
    expect(load('-i', 'pub/203.0.113.1!198.51.100.9').interfaces).toEqual([
      { name: 'pub', address: '203.0.113.1', advertised: '198.51.100.9', family: 4 },
    ]);
    expect(load('-i', '10.65.76.2!192.0.2.4').interfaces[0]).toEqual({ name: 'default', address: '10.65.76.2', advertised: '192.0.2.4', family: 4 });
    expect(load('--interface=priv/2001:db8::1').interfaces[0]).toEqual({ name: 'priv', address: '2001:db8::1', advertised: '2001:db8::1', family: 6 });
  });

  it('repeated -i with names keeps order', () => {
    const cfg = load('-i', 'priv/10.0.0.1', '-i', 'pub/203.0.113.1', '--interface', 'pub/2001:db8::9');
    expect(cfg.interfaces.map((i) => `${i.name}/${i.address}`)).toEqual(['priv/10.0.0.1', 'pub/203.0.113.1', 'pub/2001:db8::9']);
  });

  it('-n ADDR:PORT and -n [::1]:2223', () => {
    expect(load('-i', '127.0.0.1', '-n', '127.0.0.1:2223').listenNg).toEqual([{ address: '127.0.0.1', port: 2223 }]);
    expect(load('-i', '127.0.0.1', '-n', '[::1]:2223').listenNg).toEqual([{ address: '::1', port: 2223 }]);
    expect(load('-i', '127.0.0.1', '-n', 'localhost:2223').listenNg).toEqual([{ address: '127.0.0.1', port: 2223 }]);
    expect(load('-i', '127.0.0.1', '-n', '2223', '-n', '127.0.0.2:2224').listenNg.map((l) => l.port)).toEqual([2223, 2224]);
  });

  it('bundled boolean letters -fE and a value letter at the end of a bundle', () => {
    const raw = parseArgv(['-fE']);
    expect(raw.get('foreground')).toEqual(['true']);
    expect(raw.get('log-stderr')).toEqual(['true']);
    const raw2 = parseArgv(['-fEL7']);
    expect(raw2.get('log-level')).toEqual(['7']);
    const raw3 = parseArgv(['-fL', '5']);
    expect(raw3.get('log-level')).toEqual(['5']);
  });

  it('-m30000 attached value, -m=30000 and --port-min 30000', () => {
    expect(load('-i', '127.0.0.1', '-m30000', '-M30099').portMin).toBe(30000);
    expect(load('-i', '127.0.0.1', '-m=30010').portMin).toBe(30010);
    expect(load('-i', '127.0.0.1', '--port-min', '30020', '--port-max=30100')).toMatchObject({ portMin: 30020, portMax: 30100 });
  });

  it('the last value of a single-valued option wins', () => {
    expect(load('-i', '127.0.0.1', '-L', '3', '-L', '5').logLevel).toBe(5);
  });

  it('other values', () => {
    const cfg = load('-i', '127.0.0.1', '-T', '184', '-d', '0', '-o', '10', '-s', '20', '-a', '30', '--offer-timeout=40', '-p', '/tmp/x.pid', '-F');
    expect(cfg).toMatchObject({ tos: 184, deleteDelay: 0, timeout: 10, silentTimeout: 20, finalTimeout: 30, offerTimeout: 40, pidfile: '/tmp/x.pid', noFallback: true });
  });

  it('boolean long options take an optional =value', () => {
    expect(load('-i', '127.0.0.1', '--no-fallback').noFallback).toBe(true);
    expect(load('-i', '127.0.0.1', '--no-fallback=false').noFallback).toBe(false);
  });

  it('--help needs no interface', () => {
    expect(load('-h').help).toBe(true);
    expect(load('--version').version).toBe(true);
  });

  it.each([
    ['-L 9', ['-i', '127.0.0.1', '-L', '9']],
    ['-L -1', ['-i', '127.0.0.1', '-L', '-1']],
    ['-m abc', ['-i', '127.0.0.1', '-m', 'abc']],
    ['-m 70000', ['-i', '127.0.0.1', '-m', '70000']],
    ['--endpoint-learning=foo', ['-i', '127.0.0.1', '--endpoint-learning=foo']],
    ['-i not-an-ip', ['-i', 'not-an-ip']],
    ['-i bad advertised', ['-i', '10.0.0.1!nope']],
    ['-i bad name', ['-i', 'a b/10.0.0.1']],
    ['no interface', []],
    ['port-max == port-min', ['-i', '127.0.0.1', '-m', '40000', '-M', '40000']],
    ['port-max < port-min', ['-i', '127.0.0.1', '-m', '40000', '-M', '30000']],
    ['unknown short option', ['-i', '127.0.0.1', '-Z']],
    ['unknown letter in bundle', ['-i', '127.0.0.1', '-fZ']],
    ['missing value', ['-i']],
    ['missing long value', ['-i', '127.0.0.1', '--port-min']],
    ['positional argument', ['-i', '127.0.0.1', 'extra']],
    ['-T 256', ['-i', '127.0.0.1', '-T', '256']],
    ['-d -1', ['-i', '127.0.0.1', '-d', '-1']],
    ['bad boolean', ['-i', '127.0.0.1', '--no-fallback=maybe']],
    ['-n bad port', ['-i', '127.0.0.1', '-n', '127.0.0.1:0']],
    ['-n port too big', ['-i', '127.0.0.1', '-n', '70000']],
    ['-n bad address', ['-i', '127.0.0.1', '-n', 'nowhere:2223']],
    ['--leak-check=bogus', ['-i', '127.0.0.1', '--leak-check=bogus']],
  ])('%s throws ConfigError', (_name, args) => {
    expect(() => load(...args)).toThrow(ConfigError);
  });

  it('keeps unknown long options aside (rtpengine command lines must keep working), with their values', () => {
    const c = load('-i', '127.0.0.1', '--no-such-option', '--reorder-codecs', '--future-thing=5', '--other', 'value', '-f');
    expect(c.unknownOptions).toEqual(['no-such-option', 'future-thing', 'other']);
    expect(c.ignoredOptions).toContain('reorder-codecs');
  });
});

describe('parseInterface / parseListen', () => {
  it('parseInterface', () => {
    expect(parseInterface('[2001:db8::1]')).toEqual({ name: 'default', address: '2001:db8::1', advertised: '2001:db8::1', family: 6 });
    expect(parseInterface('ext/10.0.0.1!2001:db8::5')).toEqual({ name: 'ext', address: '10.0.0.1', advertised: '2001:db8::5', family: 4 });
  });

  it('parseListen', () => {
    expect(parseListen('*:2223', 'listen-ng')).toEqual({ address: '0.0.0.0', port: 2223 });
    expect(parseListen('2223', 'listen-ng', '::1')).toEqual({ address: '::1', port: 2223 });
    expect(() => parseListen('[::1]:x', 'listen-ng')).toThrow(ConfigError);
  });
});

describe('ini file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rtpengine-ts-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  let n = 0;
  const file = (text: string) => {
    const path = join(dir, `conf${n++}.ini`);
    writeFileSync(path, text);
    return path;
  };

  const INI = [
    '# rtpengine config',
    '[other]',
    'interface = 10.9.9.9',
    'port-min = 1',
    '',
    '[rtpengine]',
    '# comment inside the section',
    'table = -1',
    'interface = int/10.0.0.1;ext/203.0.113.1!198.51.100.9 ; ext/2001:db8::1',
    'listen-ng = 127.0.0.1:2223',
    'port-min = 40000',
    'port-max = 40999',
    'log-level = 5',
    'foreground = true',
    'log-stderr = false',
    'delete-delay = 10',
    'endpoint-learning = heuristic',
    'silence-detect = 1',
    'cn-payload = 20;40;60',
    'dtx-delay = 50',
    '',
    '[later]',
    'bogus-key-in-other-section = 1',
  ].join('\n');

  it('reads the [rtpengine] section; ; separates list values; # comments; other sections ignored', () => {
    const cfg = loadConfig([`--config-file=${file(INI)}`]);
    expect(cfg.interfaces).toEqual([
      { name: 'int', address: '10.0.0.1', advertised: '10.0.0.1', family: 4 },
      { name: 'ext', address: '203.0.113.1', advertised: '198.51.100.9', family: 4 },
      { name: 'ext', address: '2001:db8::1', advertised: '2001:db8::1', family: 6 },
    ]);
    expect(cfg.listenNg).toEqual([{ address: '127.0.0.1', port: 2223 }]);
    expect(cfg).toMatchObject({ portMin: 40000, portMax: 40999, logLevel: 5, deleteDelay: 10, endpointLearning: 'heuristic', table: -1 });
    expect(cfg.ignoredOptions).toEqual(['dtx-delay']);
    expect(cfg.comfortNoise).toEqual({ silenceDetect: 1, cnPayload: [20, 40, 60] });
  });

  it('CRLF line endings', () => {
    const cfg = loadConfig([`--config-file=${file(INI.replace(/\n/g, '\r\n'))}`]);
    expect(cfg.portMin).toBe(40000);
  });

  it('the command line wins', () => {
    const cfg = loadConfig([`--config-file=${file(INI)}`, '-m', '40500', '-i', '127.0.0.1', '-L', '7']);
    expect(cfg.portMin).toBe(40500);
    expect(cfg.portMax).toBe(40999);
    expect(cfg.logLevel).toBe(7);
    expect(cfg.interfaces.map((i) => i.address)).toEqual(['127.0.0.1']);
  });

  it('--config-section picks another section', () => {
    const cfg = loadConfig([`--config-file=${file(INI)}`, '--config-section=other', '-m', '30000']);
    expect(cfg.interfaces.map((i) => i.address)).toEqual(['10.9.9.9']);
  });

  it('a missing named file is a ConfigError', () => {
    expect(() => loadConfig([`--config-file=${join(dir, 'does-not-exist.conf')}`, '-i', '127.0.0.1'])).toThrow(ConfigError);
  });

  it('invalid values in the file are ConfigErrors', () => {
    expect(() => loadConfig([`--config-file=${file('[rtpengine]\ninterface = 127.0.0.1\nlog-level = 9\n')}`])).toThrow(ConfigError);
    expect(() => loadConfig([`--config-file=${file('[rtpengine]\ninterface = 127.0.0.1\nno-fallback = yes please\n')}`])).toThrow(ConfigError);
    expect(() => loadConfig([`--config-file=${file('[rtpengine]\ninterface = 127.0.0.1\nthis line has no equals\n')}`])).toThrow(ConfigError);
  });

  it('parseIni and mergeRaw directly', () => {
    const fileRaw = parseIni('[rtpengine]\ninterface = a;b\nport-min = 1\nlog-level = 3\n', 'rtpengine', 'x.conf');
    expect(fileRaw.get('interface')).toEqual(['a', 'b']);
    const cli = parseArgv(['-i', 'c', '-m', '2']);
    const merged = mergeRaw(fileRaw, cli);
    expect(merged.get('interface')).toEqual(['c']);
    expect(merged.get('port-min')).toEqual(['2']);
    expect(merged.get('log-level')).toEqual(['3']);
    // inputs untouched
    expect(fileRaw.get('port-min')).toEqual(['1']);
  });

  it('buildConfig on raw values', () => {
    const raw = new Map([['interface', ['192.0.2.1']], ['port-min', ['31000']]]);
    expect(buildConfig(raw)).toMatchObject({ portMin: 31000, portMax: 39999 });
  });
});

describe('interfaces as rtpengine configures them', () => {
  it('-i ALIAS=NAME after the interface it names', () => {
    const cfg = load('-i', 'pub1/203.0.113.1', '-i', 'pub=pub1', '-i', 'blah=pub');
    expect(cfg.interfaces.map((i) => `${i.name}/${i.address}`)).toEqual(['pub1/203.0.113.1']);
    // an alias of an alias names the interface itself
    expect(cfg.interfaceAliases).toEqual([{ alias: 'pub', target: 'pub1' }, { alias: 'blah', target: 'pub1' }]);
  });

  it('an alias before its interface, of an unknown name, or shadowing a name is a ConfigError', () => {
    expect(() => load('-i', 'blah=foo')).toThrow(/interface "foo" must be configured before its alias/);
    expect(() => load('-i', 'pub=pub1', '-i', 'pub1/203.0.113.1')).toThrow(ConfigError);
    expect(() => load('-i', 'a/10.0.0.1', '-i', 'b/10.0.0.2', '-i', 'a=b')).toThrow(/already an interface name/);
  });

  it('several addresses under one name, and BASE:SUFFIX names', () => {
    const cfg = load('-i', 'pub/203.0.113.1', '-i', 'pub/203.0.113.2', '-i', 'rr:1/10.0.0.1', '-i', 'rr:2/10.0.0.2');
    expect(cfg.interfaces.map((i) => `${i.name}/${i.address}`)).toEqual(['pub/203.0.113.1', 'pub/203.0.113.2', 'rr:1/10.0.0.1', 'rr:2/10.0.0.2']);
  });

  it('a system interface name stands for its addresses; unknown names are refused clearly', () => {
    const lo = load('-i', 'int/lo').interfaces;
    expect(lo.map((i) => i.address)).toContain('127.0.0.1');
    expect(lo.every((i) => i.name === 'int')).toBe(true);
    expect(() => load('-i', 'int/no-such-if0')).toThrow(/neither an IP address nor a network interface/);
  });

  it('the ini file takes interfaces separated by semicolons or spaces', () => {
    const raw = parseIni('[rtpengine]\ninterface = pub1/203.0.113.1 pub=pub1;priv/10.0.0.1\n', 'rtpengine', 'x.conf');
    const cfg = buildConfig(raw);
    expect(cfg.interfaces.map((i) => i.name)).toEqual(['pub1', 'priv']);
    expect(cfg.interfaceAliases).toEqual([{ alias: 'pub', target: 'pub1' }]);
  });

  it('--sip-source', () => {
    expect(load('-i', '127.0.0.1').sipSource).toBe(false);
    expect(load('-i', '127.0.0.1', '--sip-source').sipSource).toBe(true);
  });
});

describe('control transport options', () => {
  it('parses TCP ng, HTTP, HTTPS, certificate, key and idle timeout', () => {
    const cfg = loadConfig(['--config-file=none', '-i', '127.0.0.1', '-N', '2224', '--listen-tcp-ng=127.0.0.1:2225',
      '--listen-http=8080', '--listen-https=[::1]:8443', '--https-cert=/c.pem', '--https-key=/k.pem', '--control-idle-timeout=5']);
    expect(cfg.listenTcpNg).toEqual([{ address: '127.0.0.1', port: 2224 }, { address: '127.0.0.1', port: 2225 }]);
    expect(cfg.listenHttp).toEqual([{ address: '127.0.0.1', port: 8080 }]);
    expect(cfg.listenHttps).toEqual([{ address: '::1', port: 8443 }]);
    expect(cfg.httpsCert).toBe('/c.pem');
    expect(cfg.httpsKey).toBe('/k.pem');
    expect(cfg.controlIdleTimeout).toBe(5);
    expect(cfg.ignoredOptions).toEqual([]);
  });

  it('refuses HTTPS without a certificate and a zero idle timeout', () => {
    expect(() => loadConfig(['--config-file=none', '-i', '127.0.0.1', '--listen-https=8443'])).toThrow(/no certificate given/);
    expect(() => loadConfig(['--config-file=none', '-i', '127.0.0.1', '--control-idle-timeout=0'])).toThrow(ConfigError);
  });
});
