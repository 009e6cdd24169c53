/**
 * ARCHITECTURE's layer rule for the call logic and the packet path's rooms: `call` never
 * imports `control`, and `media` and the rooms it calls (`codec`, `crypto`, `ice`) import only
 * from rooms below them, never upward or sideways:
 * `call → (sdp, media, kernel) → (codec, crypto, ice) → net → (leak, log, stats)`. Read from the
 * import statements of the sources.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const DAEMON = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'daemon');

/** Rooms each checked room may import from (besides itself and the shared errors.ts). */
const ALLOWED: Record<string, readonly string[]> = {
  // the call logic reads its own typed flag model: never control/ (nor main/daemon above it)
  call: ['sdp', 'media', 'kernel', 'codec', 'crypto', 'ice', 'net', 'leak', 'log', 'stats', 'config', 'version'],
  media: ['codec', 'crypto', 'ice', 'net', 'leak', 'log', 'stats'],
  codec: ['net', 'leak', 'log', 'stats'],
  crypto: ['net', 'leak', 'log', 'stats'],
  ice: ['net', 'leak', 'log', 'stats'],
};

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+'([^']+)'/gms)].map((m) => m[1]!);
}

describe('layer rule', () => {
  for (const [room, allowed] of Object.entries(ALLOWED)) {
    it(`${room}/ imports only from ${allowed.join(', ')}`, () => {
      const files = readdirSync(join(DAEMON, room)).filter((f) => f.endsWith('.ts'));
      expect(files.length).toBeGreaterThan(0);
      const wrong: string[] = [];
      for (const f of files) {
        for (const spec of imports(join(DAEMON, room, f))) {
          if (!spec.startsWith('.')) continue; // node: and packages
          const target = join(DAEMON, room, spec);
          const rel = target.slice(DAEMON.length + 1).split('/');
          const targetRoom = rel.length > 1 ? rel[0]! : rel[0]!.replace(/\.js$/, '');
          if (targetRoom === room || targetRoom === 'errors' || allowed.includes(targetRoom)) continue;
          wrong.push(`${room}/${f} → ${spec}`);
        }
      }
      expect(wrong).toEqual([]);
    });
  }
});
