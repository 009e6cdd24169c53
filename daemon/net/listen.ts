/**
 * Binding a control listener (ng UDP, CLI TCP, legacy UDP): a bind error must reject start-up
 * with its cause, and once listening, later errors are the listener's own business.
 */
import type { EventEmitter } from 'node:events';

export function whenListening(emitter: EventEmitter, start: (onListening: () => void) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    emitter.once('error', reject);
    start(() => {
      emitter.off('error', reject);
      resolve();
    });
  });
}
