/**
 * Start-up as an operator sees it: rtpengine's command lines (unimplemented options warn),
 * the ini config file (command line wins), invalid values (clear error, non-zero exit), the
 * pidfile, -c/-u bound, the fast-path switches (-t, -F) and their fallback, SIGUSR1/SIGUSR2.
 */
import { spawn, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DAEMON_MAIN, freeUdpPort, nextPortRange, startDaemon } from '../helpers/daemon.js';
import { expectNoLeaks } from '../helpers/leaks.js';
import { NgClient } from '../helpers/ng-client.js';
import { EXIT_OK, EXIT_STARTUP } from '../../daemon/exit-codes.js';

import { sleep } from '../../support/sleep.js';
const tmp = mkdtempSync(path.join(tmpdir(), 'rtpe-ts-startup-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function runToExit(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [DAEMON_MAIN, ...args], { encoding: 'utf8', timeout: 10_000, env: { ...process.env, ...env } });
}

async function freeTcpPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** Starts the daemon with exactly `args`, waits for ping; returns a handle that stops it. */
async function launch(args: string[], ngPort: number, env: Record<string, string> = {}) {
  const child = spawn(process.execPath, ['--expose-gc', DAEMON_MAIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  child.stdout.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ng = new NgClient(ngPort);
  const deadline = Date.now() + 10_000;
  for (;;) {
    const pong = await ng.request({ command: 'ping' }, { timeoutMs: 300 }).catch(() => null);
    if (pong?.result === 'pong') break;
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`daemon did not start:\n${err}`);
    await sleep(100);
  }
  return {
    ng,
    pid: child.pid as number,
    output: () => err,
    stop: async () => {
      child.kill('SIGTERM');
      const code = await exited;
      ng.close();
      return code;
    },
  };
}

describe('start-up', () => {
  it('rejects invalid values of known options and unknown options with a clear message and exit 1', () => {
    const cases: Array<[string[], RegExp]> = [
      [['--config-file=none', '-i', '127.0.0.1', '-L', '9'], /log-level.*between 0 and 7/],
      [['--config-file=none', '-i', '127.0.0.1', '-m', 'abc'], /port-min.*integer/],
      [['--config-file=none', '-i', '127.0.0.1', '--endpoint-learning=sometimes'], /endpoint-learning/],
      [['--config-file=none', '-i', 'not-an-address'], /interface/],
      [['--config-file=none', '-i', '127.0.0.1', '-Z'], /Unknown option -Z/],
      [['--config-file=none'], /At least one interface/],
      [['--config-file=/nonexistent/rtpengine.conf', '-i', '127.0.0.1'], /Cannot read config file/],
    ];
    for (const [args, message] of cases) {
      const r = runToExit(args);
      expect(r.status, args.join(' ')).toBe(EXIT_STARTUP);
      expect(r.stderr, args.join(' ')).toMatch(message);
    }
  });

  it("accepts rtpengine's own test command line: unimplemented options warn, -c and -u are bound", async () => {
    const ngPort = await freeUdpPort();
    const cliPort = await freeTcpPort();
    const udpPort = await freeUdpPort();
    const [min, max] = nextPortRange();
    const d = await launch(['--config-file=none', '-t', '-1', '-i', '127.0.0.1', '-i', '::1', '-n', String(ngPort), '-c', String(cliPort),
      '-f', '-L', '7', '-E', '-u', String(udpPort), '--silence-detect=1', '--log-level-internals=7', '--endpoint-learning=delayed',
      '--some-future-rtpengine-option=3', '-m', String(min), '-M', String(max), '--leak-check=fatal'], ngPort);
    try {
      expect(d.output()).not.toMatch(/--silence-detect/); // implemented (comfort noise)
      expect(d.output()).toMatch(/option --log-level-internals is not implemented/);
      expect(d.output()).toMatch(/unknown option --some-future-rtpengine-option ignored/);
      // -c: the CLI answers
      const answer = await new Promise<string>((resolve, reject) => {
        const c = net.connect(cliPort, '127.0.0.1', () => c.write('list numsessions\n'));
        let text = '';
        c.on('data', (b) => (text += b.toString()));
        c.on('end', () => resolve(text));
        c.on('error', reject);
      });
      expect(answer).toMatch(/Current sessions own: 0/);
      // -u: the UDP port is taken by the daemon
      const probe = dgram.createSocket('udp4');
      const bindError = await new Promise<string | null>((resolve) => {
        probe.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
        probe.bind(udpPort, '127.0.0.1', () => resolve(null));
      });
      probe.close();
      expect(bindError).toBe('EADDRINUSE');
    } finally {
      expect(await d.stop()).toBe(EXIT_OK);
    }
  });

  it('reads the ini file ([rtpengine] or --config-section, ; lists); the command line wins; pidfile', async () => {
    const ngPort = await freeUdpPort();
    const [min, max] = nextPortRange();
    const ini = path.join(tmp, 'rtpengine.conf');
    const pidfile = path.join(tmp, 'rtpengine.pid');
    writeFileSync(ini, [
      '# test config', '[other]', 'interface = 10.9.9.9', '[custom]',
      `interface = internal/127.0.0.1;external/127.0.0.2!203.0.113.9`, `listen-ng = 127.0.0.1:${ngPort}`,
      'port-min = 1000', 'port-max = 1100', 'foreground = true', 'leak-check = fatal', `pidfile = ${pidfile}`, '',
    ].join('\n'));
    const d = await launch([`--config-file=${ini}`, '--config-section=custom', '-m', String(min), '-M', String(max)], ngPort);
    try {
      expect(readFileSync(pidfile, 'utf8').trim()).toBe(String(d.pid));
      const sdp = 'v=0\r\no=- 1 1 IN IP4 198.51.100.1\r\ns=t\r\nt=0 0\r\nm=audio 2000 RTP/AVP 0\r\nc=IN IP4 198.51.100.1\r\na=sendrecv\r\n';
      const offer = await d.ng.request({ command: 'offer', 'call-id': 'ini', 'from-tag': 'a', sdp, direction: ['internal', 'external'] });
      expect(offer.sdp).toMatch(/c=IN IP4 203\.0\.113\.9/); // the advertised address of "external"
      const port = Number(/m=audio (\d+)/.exec(offer.sdp)?.[1]);
      expect(port).toBeGreaterThanOrEqual(min); // -m on the command line beat port-min in the file
      expect(port).toBeLessThanOrEqual(max);
      await d.ng.request({ command: 'delete', 'call-id': 'ini', 'delete-delay': 0 });
      const stats = await d.ng.request({ command: 'statistics' });
      expect(stats.leaks.leaked).toBe(0);
      expect(Object.values(stats.leaks.live as Record<string, number>).every((n) => n === 0)).toBe(true);
    } finally {
      expect(await d.stop()).toBe(EXIT_OK);
    }
    expect(existsSync(pidfile), `pidfile removed at exit\n${d.output()}`).toBe(false);
  });

  it('SIGUSR2 raises and SIGUSR1 lowers the log level at run time', async () => {
    const d = await startDaemon(['-L', '5']);
    process.kill(d.pid, 'SIGUSR2');
    await sleep(200);
    process.kill(d.pid, 'SIGUSR1');
    await sleep(200); // signals of one kind do not queue: one at a time
    process.kill(d.pid, 'SIGUSR1');
    await sleep(200);
    expect(d.stderr()).toMatch(/"logLevel":6,"msg":"Log level raised"/);
    expect(d.stderr()).toMatch(/"logLevel":4,"msg":"Log level lowered"/);
    process.kill(d.pid, 'SIGHUP');
    await sleep(200);
    expect((await d.ng.request({ command: 'ping' })).result, 'SIGHUP does not stop the daemon').toBe('pong');
    await expectNoLeaks(d);
  });

  it('-t N >= 0 enables the fast path; without the addon it falls back and says why, -F makes that fatal', async () => {
    const on = await startDaemon([], { fastPath: true });
    const status = (await on.ng.request({ command: 'statistics' })).fastPath;
    expect(status).toMatchObject({ available: 1, enabled: 1, threads: 1 });
    await expectNoLeaks(on);

    const env = { RTPENGINE_FASTPATH_ADDON: path.join(tmp, 'missing.node') };
    const off = await startDaemon([], { fastPath: true, env });
    const fallback = (await off.ng.request({ command: 'statistics' })).fastPath;
    expect(fallback.available).toBe(0);
    expect(fallback.reason).toMatch(/missing\.node|not built|cannot/i);
    expect(off.stderr()).toMatch(/Fast path unavailable, forwarding on the JS path/);
    await expectNoLeaks(off);

    const fatal = runToExit(['--config-file=none', '-i', '127.0.0.1', '-n', String(await freeUdpPort()), '-t', '0', '-F'], env);
    expect(fatal.status).toBe(EXIT_STARTUP);
    expect(fatal.stderr).toMatch(/no-fallback/);
  });
});
