#!/usr/bin/env node
// Builds the native fast path (kernel/ -> kernel/build/Release/rtpengine_fastpath.node).
// Run by `npm install` and `npm run build:native`. A failed build is not fatal: the daemon
// then runs every packet through JS. We print one line saying why and leave the reason in
// kernel/build-failed.txt (native-addon.ts reports it as the "unavailable" reason).
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const kernelDir = join(root, 'kernel');
const failedFile = join(kernelDir, 'build-failed.txt');
const verbose = process.argv.includes('--verbose') || process.env.RTPENGINE_NATIVE_VERBOSE === '1';

function fail(reason) {
  const oneLine = reason.replace(/\s+/g, ' ').trim();
  try {
    writeFileSync(failedFile, `${oneLine}\n`);
  } catch {
    // kernel/ not writable: the one line below is all we can do
  }
  console.log(`rtpengine-ts: native fast path unavailable (packets will take the JS path): ${oneLine}`);
  process.exit(0);
}

if (process.env.RTPENGINE_SKIP_NATIVE === '1') fail('build skipped (RTPENGINE_SKIP_NATIVE=1)');
if (process.platform !== 'linux') fail(`the fast path needs Linux (epoll, recvmmsg), this is ${process.platform}`);

let gypBin;
try {
  const require = createRequire(join(root, 'package.json'));
  gypBin = require.resolve('node-gyp/bin/node-gyp.js');
} catch {
  fail('node-gyp is not installed');
}

// If node's own headers are installed (e.g. Debian's nodejs-dev in /usr/include/node), use
// them instead of downloading: the build must work offline.
const args = [gypBin, 'rebuild'];
const headerDirs = [process.env.npm_config_nodedir, join(dirname(process.execPath), '..')].filter(Boolean);
for (const dir of headerDirs) {
  if (existsSync(join(dir, 'include', 'node', 'node_api.h')) && existsSync(join(dir, 'include', 'node', 'common.gypi'))) {
    args.push(`--nodedir=${dir}`);
    break;
  }
}

const res = spawnSync(process.execPath, args, {
  cwd: kernelDir,
  encoding: 'utf8',
  stdio: verbose ? 'inherit' : 'pipe',
  env: { ...process.env },
});
if (res.error) fail(`could not run node-gyp: ${res.error.message}`);
if (res.status !== 0) {
  const out = `${res.stderr ?? ''}\n${res.stdout ?? ''}`;
  const lines = out.split('\n').map((l) => l.trim()).filter(Boolean);
  const interesting =
    lines.find((l) => /error:|not found|No such file|command not found|gyp ERR! stack Error/.test(l) && !/gyp ERR! (cwd|node -v|node-gyp -v|not ok|System|command)/.test(l)) ??
    lines.find((l) => l.startsWith('gyp ERR!')) ??
    `node-gyp exited with status ${res.status}`;
  fail(`build failed: ${interesting}`);
}
const built = join(kernelDir, 'build', 'Release', 'rtpengine_fastpath.node');
if (!existsSync(built)) fail(`build reported success but ${built} is missing`);
rmSync(failedFile, { force: true });
if (verbose) console.log(`rtpengine-ts: native fast path built: ${built}`);
