/**
 * The daemon's exit codes, defined once: main.ts exits with them, tests and benchmarks expect
 * them. 2 is left to Node itself (bad command-line flags for node).
 */
/** A clean stop (SIGTERM/SIGINT), or --help / --version. */
export const EXIT_OK = 0;
/** Start-up failed: an invalid option or config file, a port that cannot be bound, no fast path with --no-fallback. */
export const EXIT_STARTUP = 1;
/** --leak-check=fatal and the leak audit found something (leaked, double-released or still reachable objects). */
export const EXIT_LEAKS = 3;
