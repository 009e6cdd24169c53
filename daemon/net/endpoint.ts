/**
 * Endpoints: where a participant's packets come from and where we send them. The one
 * definition every room uses (sockets report a packet's source as one, streams learn and send
 * to one, SDP addresses become one), with the two questions asked about them everywhere.
 */
export type AddressFamily = 4 | 6;

export interface Endpoint {
  address: string;
  port: number;
  family: AddressFamily;
}

/**
 * How a stream learns its peer's endpoint from packets (rtpengine's --endpoint-learning; `off`
 * is also what `asymmetric` asks for).
 */
export type LearningMode = 'delayed' | 'immediate' | 'off' | 'heuristic';
export const LEARNING_MODES: readonly LearningMode[] = ['delayed', 'immediate', 'off', 'heuristic'];

/**
 * The unspecified address, which an SDP c= line uses for old-style hold (RFC 2543): the
 * participant will not receive, so nothing is sent there and the call counts as silent.
 */
export function isHoldAddress(address: string | undefined | null): boolean {
  return address === '0.0.0.0' || address === '::';
}

/** The unspecified address of a family, as SDP writes it for hold and for rejected m= lines. */
export function holdAddress(family: AddressFamily): string {
  return family === 6 ? '::' : '0.0.0.0';
}
