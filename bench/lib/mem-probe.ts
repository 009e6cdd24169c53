/**
 * Preloaded into a daemon by bench/memory (`node --expose-gc --import …/mem-probe.js`), never by
 * the daemon itself: on SIGWINCH it runs two full GCs and writes the process's memory figures
 * (process.memoryUsage, V8 heap and heap-space statistics) as JSON to $RTPE_MEM_PROBE_OUT; with
 * $RTPE_MEM_PROBE_SNAPSHOT set, a heap snapshot to that path as well. The bench reads the file.
 */
import { writeFileSync, renameSync } from 'node:fs';
import v8 from 'node:v8';

const out = process.env.RTPE_MEM_PROBE_OUT;
let seq = 0;
if (out) {
  process.on('SIGWINCH', () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    gc?.();
    seq++;
    const snapshotPath = process.env.RTPE_MEM_PROBE_SNAPSHOT ? `${process.env.RTPE_MEM_PROBE_SNAPSHOT}.${seq}.heapsnapshot` : '';
    if (snapshotPath) v8.writeHeapSnapshot(snapshotPath);
    const figures = {
      seq,
      memoryUsage: process.memoryUsage(),
      heap: v8.getHeapStatistics(),
      spaces: v8.getHeapSpaceStatistics(),
      snapshot: snapshotPath,
    };
    writeFileSync(`${out}.tmp`, JSON.stringify(figures));
    renameSync(`${out}.tmp`, out);
  });
}
