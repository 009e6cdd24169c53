/**
 * The TCP CLI (rtpengine's cli.c listener, what `rtpengine-ctl` talks to): one text command per
 * connection, the answer written back, the connection closed. The commands themselves are in
 * cli-commands.ts, shared with HTTP, WebSocket and the ng `cli` command.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { ListenSpec } from '../config/config.js';
import { log } from '../log/logger.js';
import { whenListening } from '../net/listen.js';
import type { CliCommands } from './cli-commands.js';

const MAX_COMMAND = 4096;

export class ControlCli {
  private readonly servers: Server[] = [];

  constructor(private readonly commands: CliCommands) {}

  async listen(specs: readonly ListenSpec[]): Promise<void> {
    for (const spec of specs) {
      // half-open: rtpengine-ctl half-closes after its command and waits for the answer, which
      // may come later (terminate waits for the command holding the call)
      const server = createServer({ allowHalfOpen: true }, (conn) => this.onConnection(conn));
      await whenListening(server, (done) => server.listen(spec.port, spec.address, done));
      server.on('error', (err) => log().warn({ err: err.message }, 'CLI listener error'));
      this.servers.push(server);
      log().info({ address: spec.address, port: spec.port }, 'Listening for CLI commands (TCP)');
    }
  }

  private onConnection(conn: Socket): void {
    let input = '';
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      const line = input.split(/\r?\n/)[0]?.trim() ?? '';
      void this.commands.execute(line).then((answer) => {
        if (!conn.destroyed) conn.end(answer);
      });
    };
    conn.setEncoding('utf8');
    conn.on('data', (chunk: string) => {
      input += chunk;
      if (input.length > MAX_COMMAND) {
        done = true;
        conn.end('Command too long.\n');
      } else if (input.includes('\n')) finish();
    });
    conn.on('end', finish);
    conn.on('error', () => conn.destroy());
    conn.setTimeout(10_000, () => conn.destroy());
  }

  close(): void {
    for (const s of this.servers) s.close();
    this.servers.length = 0;
  }
}
