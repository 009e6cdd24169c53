/**
 * Auto-daemon-style SDP tests in TypeScript, the shape of rtpengine's NGCP::Rtpengine::AutoTest:
 *
 *   const [portA, rtcpA] = await t.offer('name', { ICE: 'remove' }, `
 *   v=0
 *   ...input SDP...
 *   ----------------------------------
 *   v=0
 *   ...expected output SDP with placeholders (PORT, ICEUFRAG, ...)...
 *   `);
 *
 * Input lines are sent joined with CRLF. The output must use CRLF line endings throughout and
 * match the expected text exactly, except for the placeholders, which match (and mostly
 * capture) the variable parts. The placeholder set and regexes are those of rtpengine's
 * AutoTest.pm `sdp_match`.
 */
import { expect } from 'vitest';
import type { DaemonHandle } from './daemon.js';
import type { NgReply } from './ng-client.js';

/** Placeholder → regex source; `capture` tells whether it yields a capture (as in AutoTest.pm). */
const PLACEHOLDERS: ReadonlyArray<{ name: string; re: string; capture: boolean }> = [
  // longer names first where one is a prefix of another
  { name: 'CRYPTO128S', re: '[0-9a-zA-Z/+]{38}', capture: true },
  { name: 'CRYPTO128', re: '[0-9a-zA-Z/+]{40}', capture: true },
  { name: 'CRYPTO192', re: '[0-9a-zA-Z/+]{51}', capture: true },
  { name: 'CRYPTO256S', re: '[0-9a-zA-Z/+]{59}', capture: true },
  { name: 'CRYPTO256', re: '[0-9a-zA-Z/+]{62}', capture: true },
  { name: 'FINGERPRINT256', re: '[0-9a-fA-F:]{95}', capture: true },
  { name: 'FINGERPRINT', re: '[0-9a-fA-F:]{59}', capture: true },
  { name: 'ICEBASE', re: '[0-9a-zA-Z]{16}', capture: true },
  { name: 'ICEUFRAG', re: '[0-9a-zA-Z]{8}', capture: true },
  { name: 'ICEPWD', re: '[0-9a-zA-Z]{26}', capture: true },
  { name: 'LOOPER', re: '[0-9a-f]{12}', capture: true },
  { name: 'TLS_ID', re: '[0-9a-f]{32}', capture: true },
  { name: 'SDP_VERSION', re: '\\d+ \\d+', capture: false },
  { name: 'RTPE_VERSION', re: 'rtpengine-\\S+', capture: false },
  { name: 'PORT', re: '\\d{1,5}', capture: true },
];

const TOKEN_RE = new RegExp(`${PLACEHOLDERS.map((p) => p.name).join('|')}|\\?`, 'g');

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/**
 * Converts an expected text with placeholders into a regex source (not anchored): literal text
 * is escaped, placeholders become their (capturing) patterns, `?` matches any one character.
 */
export function placeholderPattern(expected: string): string {
  let out = '';
  let last = 0;
  for (const m of expected.matchAll(TOKEN_RE)) {
    out += escapeRegex(expected.slice(last, m.index));
    if (m[0] === '?') out += '.';
    else {
      const p = PLACEHOLDERS.find((x) => x.name === m[0])!;
      out += p.capture ? `(${p.re})` : p.re;
    }
    last = m.index! + m[0].length;
  }
  return out + escapeRegex(expected.slice(last));
}

/** The whole-text regex of an expected SDP: anchored at both ends. */
export function expectedToRegex(expected: string): RegExp {
  return new RegExp(`^${placeholderPattern(expected)}$`);
}

/** Matches `actual` against `expected`; returns the captures (as strings) or null. */
export function matchPlaceholders(actual: string, expected: string): string[] | null {
  const m = expectedToRegex(expected).exec(actual);
  return m ? m.slice(1).map((c) => c ?? '') : null;
}

/**
 * For a readable diff: the expected text with every line whose placeholders match the actual
 * line at the same position replaced by that actual line. Lines that do not match stay as
 * written, so `expect(actual).toBe(result)` shows exactly the lines that differ.
 */
export function substituteMatchingLines(actual: string, expected: string): string {
  const act = actual.split('\n');
  const exp = expected.split('\n');
  const res = exp.map((line) => new RegExp(`^${placeholderPattern(line)}$`));
  // longest common subsequence where "equal" means the expected line's pattern matches,
  // so a missing or extra line does not misalign everything after it
  const n = exp.length;
  const m = act.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i]![j] = res[i]!.test(act[j]!)
        ? lcs[i + 1]![j + 1]! + 1
        : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const out = [...exp];
  for (let i = 0, j = 0; i < n && j < m;) {
    if (res[i]!.test(act[j]!)) {
      out[i] = act[j]!;
      i++;
      j++;
    } else if (lcs[i + 1]![j]! >= lcs[i]![j + 1]!) i++;
    else j++;
  }
  return out.join('\n');
}

/**
 * Asserts that `actual` matches `expected` (both with \n line ends) and returns the captures.
 * On mismatch it fails with a line diff of expected (placeholders filled in where they match)
 * versus actual.
 */
export function expectPlaceholderMatch(actual: string, expected: string, what = 'text'): string[] {
  const caps = matchPlaceholders(actual, expected);
  if (caps) return caps;
  const substituted = substituteMatchingLines(actual, expected);
  if (substituted !== actual) expect(actual, what).toBe(substituted);
  // substitution made them equal line by line yet the whole did not match: show the regex
  expect(actual, what).toMatch(expectedToRegex(expected));
  throw new Error('unreachable');
}

/** Removes a leading newline (template literal style) and normalises line ends to \n. */
function normaliseTemplate(s: string): string {
  return s.replace(/\r\n/g, '\n').replace(/^\n/, '');
}

/** Splits an AutoTest SDP argument into [input, expected] at the line of dashes (4 or more). */
export function sdpSplit(s: string): [string, string | undefined] {
  const text = normaliseTemplate(s);
  const m = /^-{4,}[ \t]*\n/m.exec(text);
  if (!m) return [text, undefined];
  return [text.slice(0, m.index), text.slice(m.index + m[0].length)];
}

/** Text with \n line ends (as in the test source) → SDP with CRLF after every line. */
export function toCrlf(s: string): string {
  const lines = normaliseTemplate(s).split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.map((l) => `${l}\r\n`).join('');
}

/** Expected text → \n-terminated lines, for matching against an output converted by fromCrlf. */
function expectedLf(s: string): string {
  const lines = normaliseTemplate(s).split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.map((l) => `${l}\n`).join('');
}

/**
 * Checks that every line of an SDP body ends in CRLF and returns it with \n line ends.
 * Fails (naming the offending line) on bare LF, bare CR, or a missing final CRLF.
 */
export function fromCrlf(sdp: string, what = 'SDP'): string {
  const lines = sdp.split('\r\n');
  const last = lines.pop();
  expect(last, `${what}: the body must end with CRLF`).toBe('');
  for (const [i, line] of lines.entries()) {
    expect(line, `${what}: line ${i + 1} contains a bare CR or LF`).not.toMatch(/[\r\n]/);
  }
  return lines.map((l) => `${l}\n`).join('');
}

/** Matches an SDP body from the daemon against an expected template; returns the captures. */
export function expectSdp(actualSdp: unknown, expected: string, what = 'SDP'): string[] {
  expect(typeof actualSdp, `${what}: reply has an 'sdp' string`).toBe('string');
  const actual = fromCrlf(actualSdp as string, what);
  return expectPlaceholderMatch(actual, expectedLf(expected), what);
}

let tagIter = 0;
const tagSuffix = `-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

export class AutoTest {
  callId = '';
  fromTag = '';
  toTag = '';
  /** The last reply of offer/answer/offerError/request. */
  lastReply: NgReply | undefined;
  /** Every call-id used by this instance, for cleanup(). */
  readonly calls = new Set<string>();

  constructor(readonly d: DaemonHandle) {
    this.newCall();
  }

  /** Fresh call-id, from-tag and to-tag. */
  newCall(): void {
    this.callId = `${tagIter++}-test-callID${tagSuffix}`;
    this.fromTag = `${tagIter++}-test-fromtag${tagSuffix}`;
    this.toTag = `${tagIter++}-test-totag${tagSuffix}`;
  }

  newFromTag(): void {
    this.fromTag = `${tagIter++}-test-fromtag${tagSuffix}`;
  }

  newToTag(): void {
    this.toTag = `${tagIter++}-test-totag${tagSuffix}`;
  }

  /** Swaps from-tag and to-tag (for a re-invite from the callee). */
  reverseTags(): void {
    [this.fromTag, this.toTag] = [this.toTag, this.fromTag];
  }

  /** Sends `command` for the current call (call-id filled in unless given) and expects result ok. */
  async request(command: string, name: string, msg: Record<string, unknown> = {}): Promise<NgReply> {
    const req: Record<string, unknown> = { ...msg, command };
    req['call-id'] ??= this.callId;
    this.calls.add(String(req['call-id']));
    const reply = await this.d.ng.request(req);
    this.lastReply = reply;
    expect(reply.result, `${name} - '${command}' status (${String(reply['error-reason'] ?? '')})`).toBe('ok');
    return reply;
  }

  private async offerAnswer(command: 'offer' | 'answer', name: string, flags: Record<string, unknown>,
    sdp: string): Promise<string[]> {
    const [input, expected] = sdpSplit(sdp);
    if (expected === undefined) throw new Error(`${name}: SDP argument has no line of dashes and no expected output`);
    const req: Record<string, unknown> = { ...flags, sdp: toCrlf(input) };
    req['from-tag'] ??= this.fromTag;
    if (command === 'answer') req['to-tag'] ??= this.toTag;
    const reply = await this.request(command, name, req);
    return expectSdp(reply.sdp, expected, `${name} - output '${command}' SDP`);
  }

  offer(name: string, flags: Record<string, unknown>, sdp: string): Promise<string[]> {
    return this.offerAnswer('offer', name, flags, sdp);
  }

  answer(name: string, flags: Record<string, unknown>, sdp: string): Promise<string[]> {
    return this.offerAnswer('answer', name, flags, sdp);
  }

  /** An offer that must fail: returns the error-reason. A dashes line and output are optional. */
  async offerError(name: string, flags: Record<string, unknown>, sdpIn: string): Promise<string> {
    const [input] = sdpSplit(sdpIn);
    const req: Record<string, unknown> = { ...flags, command: 'offer', sdp: toCrlf(input) };
    req['call-id'] ??= this.callId;
    req['from-tag'] ??= this.fromTag;
    this.calls.add(String(req['call-id']));
    const reply = await this.d.ng.request(req);
    this.lastReply = reply;
    expect(reply.result, `${name} - 'offer' must fail`).toBe('error');
    expect(typeof reply['error-reason'], `${name} - error-reason`).toBe('string');
    return reply['error-reason'] as string;
  }

  /** `query` for the current call. */
  query(name = 'query', extra: Record<string, unknown> = {}): Promise<NgReply> {
    return this.request('query', name, extra);
  }

  /** Deletes the current call (immediately: the daemon runs with -d 0). */
  async deleteCall(callId = this.callId): Promise<NgReply> {
    const reply = await this.d.ng.request({ command: 'delete', 'call-id': callId, 'delete-delay': 0 });
    this.calls.delete(callId);
    return reply;
  }

  /** Deletes every call this instance touched; unknown ones answer ok with a warning. */
  async cleanup(): Promise<void> {
    for (const cid of [...this.calls]) {
      await this.d.ng.request({ command: 'delete', 'call-id': cid, 'delete-delay': 0 });
      this.calls.delete(cid);
    }
  }
}
