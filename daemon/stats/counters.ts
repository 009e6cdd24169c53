/**
 * Daemon-wide event counters (the storage). What is reported, under which names, is written
 * once in stats/metrics.ts; per-command counters come from the ng command table.
 */
export const GLOBAL_COUNTERS = [
  'managedSessions',
  'rejectedSessions',
  'timeoutSessions',
  'silentTimeoutSessions',
  'finalTimeoutSessions',
  'offerTimeoutSessions',
  'regularTerminatedSessions',
  'forcedTerminatedSessions',
  'relayedPackets',
  'relayedBytes',
  'relayedErrors',
  // the RTCP share of the three above (RTP = total - RTCP), for the per-protocol metrics
  'relayedRtcpPackets',
  'relayedRtcpBytes',
  'relayedRtcpErrors',
  'droppedInvalidPackets',
  'droppedStrictSource',
  'droppedNoSink',
  'droppedDeferredOverflow',
  'deferredPackets',
  'sendErrors',
  'ngGarbage',
  'ngDuplicates',
  'ngErrors',
  /** Internal errors: something tried to add objects to a call already torn down (refused). */
  'refusedDestroyedCallAdds',
  /** DTLS-SRTP handshakes that failed (wrong fingerprint, timeout, alert). */
  'dtlsFailures',
] as const;

export type GlobalCounter = (typeof GLOBAL_COUNTERS)[number];

export class Counters {
  private readonly values = new Map<GlobalCounter, number>(GLOBAL_COUNTERS.map((c) => [c, 0]));
  /** Calls that used an rtpengine flag this daemon does not implement yet, per flag name. */
  private readonly unsupported = new Map<string, number>();

  addUnsupported(name: string): void {
    this.unsupported.set(name, (this.unsupported.get(name) ?? 0) + 1);
  }

  unsupportedSnapshot(): Record<string, number> {
    return Object.fromEntries([...this.unsupported].sort(([a], [b]) => a.localeCompare(b)));
  }

  add(counter: GlobalCounter, n = 1): void {
    this.values.set(counter, (this.values.get(counter) ?? 0) + n);
  }

  get(counter: GlobalCounter): number {
    return this.values.get(counter) ?? 0;
  }

  snapshot(): Record<GlobalCounter, number> {
    return Object.fromEntries(this.values) as Record<GlobalCounter, number>;
  }
}
