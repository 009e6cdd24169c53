/**
 * The transport handler factories, asked in order for each stream's input handler and each
 * sink's output handler; when all decline, the handler is PLAIN. The SRTP room adds its
 * factory here (after the one that blocks media while DTLS keys are pending).
 */
import { dtlsPendingFactory } from './dtls-pending.js';
import { PLAIN } from './plain.js';
import { srtpHandlerFactory } from './srtp-handler.js';
import type { InputHandler, OutputHandler, TransportHandlerFactory, TransportSpec } from './transport-handler.js';

export const transportHandlerFactories: readonly TransportHandlerFactory[] = [dtlsPendingFactory, srtpHandlerFactory];

export function inputHandlerFor(spec: TransportSpec, factories = transportHandlerFactories): InputHandler {
  for (const f of factories) {
    const h = f.input(spec);
    if (h) return h;
  }
  return PLAIN;
}

export function outputHandlerFor(spec: TransportSpec, factories = transportHandlerFactories): OutputHandler {
  for (const f of factories) {
    const h = f.output(spec);
    if (h) return h;
  }
  return PLAIN;
}
