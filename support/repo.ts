/**
 * Where the repository and the built daemon are, for tests (run from source by vitest) and
 * benchmarks (run from dist/): found by walking up to our package.json, so both agree.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

function findRepoRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const pkg = path.join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'rtpengine-ts') return dir;
    if (path.dirname(dir) === dir) throw new Error(`no rtpengine-ts package.json above ${from}`);
  }
}

export const REPO_ROOT = findRepoRoot(path.dirname(fileURLToPath(import.meta.url)));
/** The daemon entry point; RTPENGINE_TS_DAEMON_MAIN overrides it (e.g. to test another build). */
export const DAEMON_MAIN = process.env.RTPENGINE_TS_DAEMON_MAIN ?? path.join(REPO_ROOT, 'dist', 'daemon', 'main.js');
