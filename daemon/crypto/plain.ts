/** The plain transport handlers: packets pass as they are (RTP/AVP, RTP/AVPF, and SRTP relayed end to end). */
import type { InputHandler, OutputHandler } from './transport-handler.js';

class PlainHandler implements InputHandler, OutputHandler {
  readonly kind = 'plain';
  readonly native = true;
  readonly stateless = true;
  rtp(packet: Buffer): Buffer {
    return packet;
  }
  rtcp(packet: Buffer): Buffer {
    return packet;
  }
  close(): void {}
}

/** One shared instance: the packet path recognises it and skips the call altogether. */
export const PLAIN: InputHandler & OutputHandler = new PlainHandler();
