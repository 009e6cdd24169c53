/**
 * V8 settings the daemon applies to itself at start, before the command path runs (imported
 * first by main.ts). Only flags V8 reads at run time can be set here: the GC's thread and heap
 * sizing flags are fixed when the isolate is created (setting `--single-threaded-gc` this way
 * aborts the process at the next GC), so those stay options for `node` itself.
 *
 * `--interrupt-budget=16384` (V8's default: 67584, in bytecode units): functions tier up to
 * optimized code after a quarter of the default work. The ng command path is a long chain of
 * functions that each run a few times per command, so with the default the first few thousand
 * commands ran in the interpreter and baseline code. Measured on one core (docs/benchmarks.md,
 * "Third round"): the daemon's CPU over its first 200 + 4,000 offer/answer/delete cycles went
 * 4.65–4.74 s → 4.20–4.26 s; no measurable change once warm. A `--interrupt-budget` given to
 * node on its command line wins.
 */
import { setFlagsFromString } from 'node:v8';

const INTERRUPT_BUDGET = 16384;

if (!process.execArgv.some((a) => a.startsWith('--interrupt-budget'))) setFlagsFromString(`--interrupt-budget=${INTERRUPT_BUDGET}`);
