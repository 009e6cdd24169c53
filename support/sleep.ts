/** Waits `ms` milliseconds (every wait in tests and benchmarks is bounded by one of these or a timeout). */
export const sleep = (ms: number): Promise<void> => new Promise<void>((resolve) => setTimeout(resolve, ms));
