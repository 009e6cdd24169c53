#!/usr/bin/env node
// Runs the whole daemon with the native fast path under valgrind's memcheck for a short call
// workload and prints valgrind's leak summary (issue: "clean under memcheck: no definitely-lost
// blocks from the addon"). Slow (a minute or two): a maintainer's check, not part of npm test.
//   node scripts/valgrind-daemon.mjs        (needs: npm run build, the addon built, valgrind)
// Traffic stays on 127.0.0.1; the daemon is stopped with SIGTERM by its PID.
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bencodeDecode, bencodeEncode, bencodeToPlain } from '../dist/daemon/control/bencode.js';

const NG_PORT = 2399;
const log = join(mkdtempSync(join(tmpdir(), 'rtpe-vg-')), 'valgrind.log');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const daemon = spawn('valgrind', ['--leak-check=full', '--show-leak-kinds=definite,possible', '--errors-for-leak-kinds=definite', `--log-file=${log}`, process.execPath,
  new URL('../dist/daemon/main.js', import.meta.url).pathname, '--config-file=none', '-i', '127.0.0.1', '-n', `127.0.0.1:${NG_PORT}`,
  '-m', '51000', '-M', '51100', '-t', '0', '-d', '0', '-L', '4'], { stdio: ['ignore', 'inherit', 'inherit'] });
const exited = new Promise((resolve) => daemon.once('exit', (code) => resolve(code)));
process.on('exit', () => daemon.exitCode === null && daemon.kill('SIGKILL'));

const ng = dgram.createSocket('udp4');
let seq = 0;
const req = (msg, timeoutMs = 2000) => new Promise((resolve) => {
  const cookie = `vg${seq++}`;
  const t = setTimeout(() => { ng.off('message', on); resolve(null); }, timeoutMs);
  function on(m) {
    if (m.toString('latin1', 0, m.indexOf(32)) !== cookie) return;
    clearTimeout(t); ng.off('message', on);
    resolve(bencodeToPlain(bencodeDecode(m.subarray(m.indexOf(32) + 1))));
  }
  ng.on('message', on);
  ng.send(Buffer.concat([Buffer.from(`${cookie} `), bencodeEncode(msg)]), NG_PORT, '127.0.0.1');
});
for (let i = 0; i < 120 && !(await req({ command: 'ping' }, 1000)); i++) await sleep(1000);

const open = () => new Promise((resolve) => { const s = dgram.createSocket('udp4'); s.bind(0, '127.0.0.1', () => resolve(s)); });
const a = await open();
const b = await open();
let received = 0;
a.on('message', () => received++);
b.on('message', () => received++);
const sdp = (port) => `v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=t\r\nt=0 0\r\nm=audio ${port} RTP/AVP 0\r\nc=IN IP4 127.0.0.1\r\na=sendrecv\r\n`;
const rtp = (i) => { const x = Buffer.alloc(172); x[0] = 0x80; x.writeUInt16BE(i, 2); return x; };
for (let k = 0; k < 3; k++) {
  const offer = await req({ command: 'offer', 'call-id': `vg${k}`, 'from-tag': 'a', sdp: sdp(a.address().port) });
  const answer = await req({ command: 'answer', 'call-id': `vg${k}`, 'from-tag': 'a', 'to-tag': 'b', sdp: sdp(b.address().port) });
  const toB = Number(/m=audio (\d+)/.exec(offer.sdp)[1]);
  const toA = Number(/m=audio (\d+)/.exec(answer.sdp)[1]);
  a.send(rtp(0), toA); await sleep(300); b.send(rtp(0), toB); await sleep(300);
  for (let i = 1; i < 500; i++) { a.send(rtp(i), toA); b.send(rtp(i), toB); if (i % 50 === 0) await sleep(10); }
  await sleep(500);
  if (k < 2) await req({ command: 'delete', 'call-id': `vg${k}` }); // the last call is torn down by SIGTERM
}
const stats = await req({ command: 'statistics' });
console.log(`relayed ${received} of 3000 packets, ${stats.fastPath.packets} by the fast path`);
a.close(); b.close(); ng.close();
daemon.kill('SIGTERM');
console.log(`daemon exit code ${await exited}`);
const summary = readFileSync(log, 'utf8').split('\n').filter((l) => /lost:|ERROR SUMMARY/.test(l));
console.log(summary.join('\n'));
console.log(`full valgrind log: ${log}`);
