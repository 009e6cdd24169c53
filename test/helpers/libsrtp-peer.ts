/**
 * libsrtp2 as a test peer: test/helpers/srtp-peer.c compiled against the system's libsrtp2
 * (Debian package libsrtp2-dev), driven line by line. Tests use it to protect what they send
 * to the daemon and to unprotect what the daemon sends them, so our SRTP is checked against an
 * implementation nobody here wrote.
 */
import { spawn, execFileSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

const SOURCE = join(dirname(fileURLToPath(import.meta.url)), 'srtp-peer.c');

let binary: string | null = null;

/** Compiles the peer once per process; throws (failing the test) if libsrtp2 is missing. */
function build(): string {
  if (binary && existsSync(binary)) return binary;
  const dir = mkdtempSync(join(tmpdir(), 'srtp-peer-'));
  const out = join(dir, 'srtp-peer');
  execFileSync('cc', ['-O1', '-o', out, SOURCE, '-lsrtp2'], { stdio: 'pipe' });
  binary = out;
  return out;
}

export interface PeerSessionOpts {
  unencryptedSrtp?: boolean;
  unencryptedSrtcp?: boolean;
  unauthenticatedSrtp?: boolean;
  mki?: Buffer;
}

export class LibSrtpPeer {
  private readonly proc: ChildProcessWithoutNullStreams;
  private readonly pending: Array<(line: string) => void> = [];
  private nextId = 0;

  constructor() {
    this.proc = spawn(build(), [], { stdio: 'pipe' });
    const rl = createInterface({ input: this.proc.stdout });
    rl.on('line', (line) => this.pending.shift()?.(line));
  }

  private ask(line: string): Promise<string> {
    return new Promise((resolve) => {
      this.pending.push(resolve);
      this.proc.stdin.write(`${line}\n`);
    });
  }

  /** A libsrtp session: `out` protects, `in` unprotects. Returns its id. */
  async session(suite: string, dir: 'in' | 'out', keySalt: Buffer, opts: PeerSessionOpts = {}): Promise<number> {
    const id = this.nextId++;
    const flags = (opts.unencryptedSrtp ? 1 : 0) | (opts.unencryptedSrtcp ? 2 : 0) | (opts.unauthenticatedSrtp ? 4 : 0);
    const reply = await this.ask(`init ${id} ${suite} ${dir} ${keySalt.toString('hex')} ${flags}${opts.mki ? ` ${opts.mki.toString('hex')}` : ''}`);
    if (reply !== 'ok') throw new Error(`libsrtp init ${suite}: ${reply}`);
    return id;
  }

  /** New master key for a session; libsrtp keeps each SSRC's rollover counter (srtp_update). */
  async update(id: number, keySalt: Buffer): Promise<void> {
    const reply = await this.ask(`update ${id} ${keySalt.toString('hex')}`);
    if (reply !== 'ok') throw new Error(`libsrtp update: ${reply}`);
  }

  /** Protects or unprotects (by the session's direction); a string is libsrtp's error code. */
  async rtp(id: number, pkt: Buffer): Promise<Buffer | string> {
    return this.result(await this.ask(`rtp ${id} ${pkt.toString('hex')}`));
  }

  async rtcp(id: number, pkt: Buffer): Promise<Buffer | string> {
    return this.result(await this.ask(`rtcp ${id} ${pkt.toString('hex')}`));
  }

  private result(line: string): Buffer | string {
    return line.startsWith('ok ') ? Buffer.from(line.slice(3), 'hex') : line;
  }

  close(): void {
    this.proc.stdin.end();
    this.proc.kill();
  }
}
