/** Every object type the leak registry accounts for, in teardown order. */
export const LEAK_TYPES = [
  'Call',
  'Monologue',
  'Media',
  'PacketStream',
  'StreamFd',
  'SinkHandler',
  'SsrcContext',
  'CodecHandler',
  'TransportHandler',
  'IceAgent',
  'DtlsConnection',
  'PortReservation',
  'Timer',
  'DeferredQueue',
  'NativeSocket',
  'NativeEntry',
] as const;

export type LeakType = (typeof LEAK_TYPES)[number];

export function isLeakType(name: string): name is LeakType {
  return (LEAK_TYPES as readonly string[]).includes(name);
}

/** What the test-only switch RTPENGINE_TS_LEAK_INJECT may ask the daemon to get wrong. */
export type LeakInjection =
  | { kind: 'skip-release'; type: LeakType }
  | { kind: 'double-release'; type: LeakType }
  | { kind: 'keep-listener' };
