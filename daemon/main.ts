#!/usr/bin/env node
/**
 * rtpengine-ts entry point (rtpengine's main.c): options, the Daemon, signals, exit code.
 * SIGINT/SIGTERM shut down in order; SIGUSR1/SIGUSR2 lower/raise the log level. Exit codes are
 * those of exit-codes.ts.
 */
// first: V8 settings that must be in place before the command path is compiled
import './v8-tuning.js';
import { writeFileSync, unlinkSync } from 'node:fs';
import { loadConfig } from './config/config.js';
import { helpText } from './config/options.js';
import { Daemon, VERSION } from './daemon.js';
import { ConfigError } from './errors.js';
import { EXIT_LEAKS, EXIT_OK, EXIT_STARTUP } from './exit-codes.js';
import { initLogger, log, shiftLogLevel } from './log/logger.js';

async function main(argv: string[]): Promise<void> {
  let config;
  try {
    config = loadConfig(argv);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`rtpengine-ts: ${err.message}\n`);
      process.exit(EXIT_STARTUP);
    }
    throw err;
  }
  if (config.help) {
    process.stdout.write(`${helpText()}\n`);
    return;
  }
  if (config.version) {
    process.stdout.write(`rtpengine-ts ${VERSION}\n`);
    return;
  }
  initLogger(config.logLevel, config.logFormat);
  for (const name of config.ignoredOptions) log().warn(`option --${name} is not implemented by rtpengine-ts yet and is ignored`);
  for (const name of config.unknownOptions) log().warn(`unknown option --${name} ignored (not an rtpengine-ts option, nor an rtpengine option we know of)`);

  const daemon = new Daemon(config);
  try {
    await daemon.start();
  } catch (err) {
    log().fatal({ err: err instanceof Error ? err.message : String(err) }, 'Start-up failed');
    await daemon.shutdown().catch(() => undefined);
    process.exit(EXIT_STARTUP);
  }
  if (config.pidfile) writeFileSync(config.pidfile, `${process.pid}\n`);
  log().info({ version: VERSION, interfaces: config.interfaces, interfaceAliases: config.interfaceAliases, ng: config.listenNg }, 'Startup complete');

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    // the listeners close first; this keeps the process alive until the audit has finished
    const keepAlive = setInterval(() => undefined, 1000);
    log().info({ signal }, 'Shutting down');
    const clean = await daemon.shutdown();
    if (config.pidfile) {
      try {
        unlinkSync(config.pidfile);
      } catch {
        // already gone
      }
    }
    const fatal = config.leakCheck === 'fatal' && !clean;
    if (fatal) log().error('Leak check failed (--leak-check=fatal)');
    clearInterval(keepAlive);
    process.exit(fatal ? EXIT_LEAKS : EXIT_OK);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  // a closed terminal must not kill a relay carrying calls (Node's default for SIGHUP is to exit)
  process.on('SIGHUP', () => log().warn('SIGHUP ignored (use SIGTERM to shut down)'));
  process.on('SIGUSR1', () => log().warn({ logLevel: shiftLogLevel(-1) }, 'Log level lowered'));
  process.on('SIGUSR2', () => log().warn({ logLevel: shiftLogLevel(1) }, 'Log level raised'));
  // Input must never crash the daemon; a bug that escapes is logged and the daemon goes on.
  process.on('uncaughtException', (err) => log().error({ err: { message: err.message, stack: err.stack } }, 'Uncaught exception'));
  process.on('unhandledRejection', (err) => log().error({ err: String(err) }, 'Unhandled rejection'));
}

void main(process.argv.slice(2));
