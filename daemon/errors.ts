/**
 * Typed errors with stable machine codes. Handlers throw these; the ng dispatcher
 * (control/ng-dispatcher.ts) is the one place that turns them into `error-reason` replies,
 * using rtpengine's exact strings from NG_ERROR_REASONS.
 */
export const NG_ERROR_REASONS = {
  NO_PAYLOAD: 'Invalid data (no payload)',
  INVALID_FORMAT: 'Invalid NG data format',
  BENCODE_DECODE: 'Could not decode bencode dictionary',
  JSON_PARSE: 'Failed to parse JSON document',
  JSON_DICT: 'Could not decode JSON dictionary',
  NO_COMMAND: 'Dictionary contains no key "command"',
  UNKNOWN_COMMAND: 'Unrecognized command',
  NOT_IMPLEMENTED: 'Command not implemented by rtpengine-ts yet',
  NO_SDP: 'No SDP body in message',
  NO_CALL_ID: 'No call-id in message',
  NO_FROM_TAG: 'No from-tag in message',
  NO_TO_TAG: 'No to-tag in message',
  UNKNOWN_CALL: 'Unknown call-id',
  SDP_PARSE: 'Failed to parse SDP',
  SDP_INCOMPLETE: 'Incomplete SDP specification',
  SDP_REWRITE: 'Error rewriting SDP',
  NO_PORTS: 'Ran out of ports',
  DELETE_NOT_FOUND: "Call-ID not found or tags didn't match",
  SESSION_LIMIT: 'Parallel session limit reached',
  DIALOGUE: 'Invalid dialogue association',
  INVALID_LIMIT: 'invalid limit, must be >= 0',
  TAG_NOT_FOUND: 'From-tag not found',
  TO_TAG_NOT_FOUND: 'To-tag not found',
  INVALID_VALUE: 'Invalid value',
  CONNECT_SELF: 'Cannot connect a participant to itself',
  CALL_TEARING_DOWN: 'Call is being torn down',
  TAG_COLLISION: 'Both calls have a participant with the same tag',
  NO_COMMON_CODEC: 'No codec in common and no transcoding possible',
  NO_CALLS: 'No calls given',
  NO_DTLS: 'DTLS-SRTP unavailable',
  PLAYBACK: 'Failed to start media playback',
  PLAYBACK_FILE: 'Failed to start media playback from file',
  PLAYBACK_BLOB: 'Failed to start media playback from blob',
  NO_MEDIA_SOURCE: 'No media file specified',
  NO_PARTY: 'No participant party specified',
  NOT_PLAYING: 'Not currently playing media',
  INTERNAL: 'Internal error',
} as const;

export type NgErrorCode = keyof typeof NG_ERROR_REASONS;

export class RtpengineError extends Error {
  constructor(readonly code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Codes whose reply names the problem after rtpengine's string (ours, or where the cause matters to the user). */
const DETAILED = new Set<string>(['INVALID_VALUE', 'NOT_IMPLEMENTED', 'PLAYBACK', 'PLAYBACK_FILE', 'PLAYBACK_BLOB', 'NO_DTLS']);

/** A command failed; `reason` is what the ng reply's `error-reason` says. */
export class NgCommandError extends RtpengineError {
  readonly reason: string;
  constructor(code: NgErrorCode, detail?: string, options?: { cause?: unknown }) {
    const reason = NG_ERROR_REASONS[code];
    super(code, detail ? `${reason}: ${detail}` : reason, options);
    // rtpengine's strings stay exact; our own codes may carry the detail
    this.reason = detail && DETAILED.has(code) ? `${reason}: ${detail}` : reason;
  }
}

/** A known option got a value it cannot take: a clear start-up error, non-zero exit. */
export class ConfigError extends RtpengineError {
  constructor(message: string) {
    super('CONFIG', message);
  }
}

export class PortsExhaustedError extends NgCommandError {
  /** `pool`: this address's port range is used up (another address may have ports); `resources`: out of fds/buffers. */
  constructor(detail: string, readonly scope: 'pool' | 'resources' = 'pool') {
    super('NO_PORTS', detail);
  }
}

export class SdpParseError extends NgCommandError {
  constructor(detail: string, options?: { cause?: unknown }) {
    super('SDP_PARSE', detail, options);
  }
}

/**
 * Internal error: something tried to add an object to a call that is already torn down. Never
 * expected (every teardown runs under the call's write lock and commands check after each await);
 * logged and counted where it is raised. The command still gets rtpengine's "Unknown call-id".
 */
export class CallDestroyedError extends NgCommandError {
  constructor(readonly callId: string, readonly what: string) {
    super('UNKNOWN_CALL', `internal: ${what} refused, call ${callId} is already torn down`);
  }
}

/** Internal error: a call was about to be torn down without holding its write lock. */
export class LockRuleError extends RtpengineError {
  constructor(callId: string) {
    super('LOCK_RULE', `call ${callId}: teardown outside the call's write lock`);
  }
}
