/**
 * The codec handler factories the chain decision asks, in order, before falling back to the
 * built-in pass-through / renumber choice. A codec room that handles payload types itself
 * (transcoding, DTMF) adds its factory here.
 */
import type { CodecHandlerFactory } from './codec-handler.js';

export const codecHandlerFactories: readonly CodecHandlerFactory[] = [];
