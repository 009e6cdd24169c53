/**
 * Child processes (daemons, load generators) that never outlive the test or benchmark that
 * started them: each is killed by its own PID when this process exits or is stopped by a
 * signal — never by name.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

const children = new Set<ChildProcess>();
let hooked = false;

/** Sends `signal` to every tracked child still running (by PID). */
export function killTracked(signal: NodeJS.Signals): void {
  for (const c of children) {
    if (c.exitCode !== null || c.signalCode !== null || !c.pid) continue;
    try {
      process.kill(c.pid, signal);
    } catch {
      /* gone already */
    }
  }
}

function installHooks(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => killTracked('SIGKILL'));
  // a process stopped by a signal does not run 'exit' handlers: kill the children, then let the
  // signal do what it would have done (unless someone else handles it, e.g. a benchmark)
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = () => {
      killTracked('SIGKILL');
      process.removeListener(sig, onSignal);
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    };
    process.on(sig, onSignal);
  }
}

/** spawn() whose child is killed (by its PID) when this process goes away. */
export function spawnTracked(cmd: string, args: readonly string[], opts: SpawnOptions = {}): ChildProcess {
  installHooks();
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], ...opts });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}
