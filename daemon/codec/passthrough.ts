/**
 * The built-in codec handlers: pass-through (the packet leaves as it came) and payload-type
 * renumbering (the sink numbers the same codec differently, e.g. telephone-event 101 on one
 * side and 96 on the other: the packet leaves as a copy with the sink's number). Both are
 * stateless and both can be done by the native fast path.
 */
import type { CodecHandler, CodecOutput, NativeCodecAction } from './codec-handler.js';
import type { SsrcContext } from './ssrc.js';
import { withPayloadType } from './rtp-header.js';

export class PassthroughHandler implements CodecHandler {
  readonly kind = 'passthrough';
  readonly stateless = true;
  readonly native: NativeCodecAction;

  constructor(
    private readonly output: CodecOutput,
    pt: number,
  ) {
    this.native = { from: pt, to: pt };
  }

  process(packet: Buffer, _input: SsrcContext): void {
    this.output.sendRtp(packet);
  }

  close(): void {}
}

export class RenumberHandler implements CodecHandler {
  readonly kind = 'renumber';
  readonly stateless = true;
  readonly native: NativeCodecAction;

  constructor(
    private readonly output: CodecOutput,
    from: number,
    readonly to: number,
  ) {
    this.native = { from, to };
  }

  process(packet: Buffer, _input: SsrcContext): void {
    // a copy: the same buffer may be going unchanged to other sinks
    this.output.sendRtp(withPayloadType(packet, this.to));
  }

  close(): void {}
}
