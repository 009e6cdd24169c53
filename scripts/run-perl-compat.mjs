#!/usr/bin/env node
// Runs the Perl compatibility layer's tests (called by `npm test` after vitest):
//   1. the modules' own unit tests (perl-compat/t/unit/*.t) — no daemon, no privileges;
//   2. the daemon suite (perl-compat/t/*.t) inside a private network namespace via
//      perl-compat/run — needs root. Without root it is skipped with a clear message.
// Exit status: non-zero if any suite that ran failed. The daemon suite being unable to run
// counts as a failure when we are root (something is broken), and as a skip otherwise.
import { spawnSync } from 'node:child_process';
import { readdirSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const pc = join(repo, 'perl-compat');

function listTests(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.t'))
    .sort()
    .map((f) => join(dir, f));
}

function run(cmd, args, env = {}) {
  const r = spawnSync(cmd, args, { cwd: repo, stdio: 'inherit', env: { ...process.env, ...env } });
  if (r.error) {
    console.error(`run-perl-compat: cannot run ${cmd}: ${r.error.message}`);
    return 127;
  }
  if (r.signal) return 128 + 1;
  return r.status ?? 1;
}

let failed = false;

const unit = listTests(join(pc, 't', 'unit'));
console.log(`run-perl-compat: unit tests of the Perl modules (${unit.length} scripts)`);
const unitRc = run('prove', ['-I', pc, ...unit]);
if (unitRc !== 0) {
  console.error(`run-perl-compat: Perl module unit tests FAILED (exit ${unitRc})`);
  failed = true;
}

const daemonTests = listTests(join(pc, 't'));
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
if (!isRoot) {
  const uid = typeof process.getuid === 'function' ? process.getuid() : 'unknown';
  console.log(
    `run-perl-compat: SKIPPED the Perl daemon suite (${daemonTests.length} scripts): not running as root ` +
      `(uid ${uid}). It needs root to create a private network namespace holding rtpengine's test ` +
      `addresses (203.0.113.x, 198.51.100.x, 2001:db8:...). Run 'sudo perl-compat/run perl-compat/t/*.t' to run it.`,
  );
} else {
  const bin = process.env.RTPE_BIN ?? join(repo, 'dist', 'daemon', 'main.js');
  console.log(`run-perl-compat: Perl daemon suite (${daemonTests.length} scripts) against ${bin}`);
  const rc = run(join(pc, 'run'), ['--bin', bin, ...daemonTests]);
  if (rc !== 0) {
    console.error(
      rc === 77
        ? 'run-perl-compat: the Perl daemon suite could not run although we are root (see the message above)'
        : `run-perl-compat: Perl daemon suite FAILED (exit ${rc})`,
    );
    failed = true;
  }
}

process.exit(failed ? 1 : 0);
