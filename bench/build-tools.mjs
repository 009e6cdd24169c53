#!/usr/bin/env node
// Compiles the C tools of the benchmarks into bench/out/ with `cc -O2`:
//   bench/out/blaster               load generator + sink of bench/forward (bench/blaster.c)
//   bench/out/reference-forwarder   the C ceiling (via bench/build-reference.mjs)
// Usage: node bench/build-tools.mjs [--cc=<compiler>]   (the benches run it when a binary is missing)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const outDir = join(here, 'out');
const ccArg = process.argv.find((a) => a.startsWith('--cc='));
const cc = ccArg?.slice(5) ?? process.env.CC ?? 'cc';

mkdirSync(outDir, { recursive: true });
// with libsrtp2 (Debian libsrtp2-dev) the blaster can speak SRTP (-k) for the js-srtp relay
const srtp = existsSync('/usr/include/srtp2/srtp.h') ? ['-DBLASTER_SRTP'] : [];
const args = ['-O2', '-std=gnu11', '-Wall', '-Wextra', '-pthread', ...srtp, '-o', join(outDir, 'blaster'), join(here, 'blaster.c'), ...(srtp.length ? ['-lsrtp2'] : [])];
let res = spawnSync(cc, args, { stdio: 'inherit' });
if (res.error || res.status !== 0) {
  console.error(`build-tools: ${cc} ${args.join(' ')} failed${res.error ? `: ${res.error.message}` : ` (status ${res.status})`}`);
  process.exit(1);
}
console.log(join(outDir, 'blaster'));
res = spawnSync(process.execPath, [join(here, 'build-reference.mjs'), ...(ccArg ? [ccArg] : [])], { stdio: 'inherit' });
if (res.error || res.status !== 0) process.exit(1);
