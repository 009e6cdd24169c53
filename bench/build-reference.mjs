#!/usr/bin/env node
// Compiles bench/reference-forwarder.c (the C ceiling for forwarding benchmarks) into
// bench/out/reference-forwarder with `cc -O2`. Prints the binary's path on success.
// Usage: node bench/build-reference.mjs [--cc=<compiler>]
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const src = join(here, 'reference-forwarder.c');
const outDir = join(here, 'out');
const out = join(outDir, 'reference-forwarder');
const cc = process.argv.find((a) => a.startsWith('--cc='))?.slice(5) ?? process.env.CC ?? 'cc';

mkdirSync(outDir, { recursive: true });
const args = ['-O2', '-std=gnu11', '-Wall', '-Wextra', '-pthread', '-o', out, src];
const res = spawnSync(cc, args, { stdio: 'inherit' });
if (res.error || res.status !== 0) {
  console.error(`build-reference: ${cc} ${args.join(' ')} failed${res.error ? `: ${res.error.message}` : ` (status ${res.status})`}`);
  process.exit(1);
}
console.log(out);
