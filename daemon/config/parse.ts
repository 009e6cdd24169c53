/**
 * Command line and ini file → raw option values (long name → list of strings). Parsing follows
 * getopt/glib conventions as rtpengine's command lines use them: `--opt=val`, `--opt val`,
 * `-x val`, `-xval`, bundled boolean letters (`-fE`), repeatable list options.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import { OPTIONS_BY_LONG, OPTIONS_BY_SHORT, type OptionSpec } from './options.js';

export type RawOptions = Map<string, string[]>;

/** Long options that are neither ours nor in our list of rtpengine's, keyed `?name`. */
export const UNKNOWN_PREFIX = '?';

export function parseArgv(argv: readonly string[]): RawOptions {
  const raw: RawOptions = new Map();
  const unknown: RawOptions = new Map();
  const add = (spec: OptionSpec, value: string) => {
    const list = raw.get(spec.long) ?? [];
    if (spec.kind === 'list') list.push(value);
    else list.splice(0, list.length, value);
    raw.set(spec.long, list);
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
      const spec = OPTIONS_BY_LONG.get(name);
      if (!spec) {
        // rtpengine has options we do not list; its command lines must keep working, so an
        // unknown long option is kept aside (and warned about at start-up) with its value
        const value = eq >= 0 ? arg.slice(eq + 1) : argv[i + 1] !== undefined && !(argv[i + 1] as string).startsWith('-') ? (argv[++i] as string) : 'true';
        unknown.set(name, [value]);
        continue;
      }
      if (spec.kind === 'bool') {
        add(spec, eq >= 0 ? arg.slice(eq + 1) : 'true');
      } else if (eq >= 0) {
        add(spec, arg.slice(eq + 1));
      } else {
        const value = argv[++i];
        if (value === undefined) throw new ConfigError(`Option --${name} needs a value`);
        add(spec, value);
      }
    } else if (arg.startsWith('-') && arg.length > 1) {
      for (let j = 1; j < arg.length; j++) {
        const letter = arg[j] as string;
        const spec = OPTIONS_BY_SHORT.get(letter);
        if (!spec) throw new ConfigError(`Unknown option -${letter}`);
        if (spec.kind === 'bool') {
          add(spec, 'true');
          continue;
        }
        const rest = arg.slice(j + 1);
        const value = rest.length > 0 ? rest.replace(/^=/, '') : argv[++i];
        if (value === undefined) throw new ConfigError(`Option -${letter} needs a value`);
        add(spec, value);
        break;
      }
    } else {
      throw new ConfigError(`Unexpected argument "${arg}"`);
    }
  }
  for (const [name, value] of unknown) raw.set(`${UNKNOWN_PREFIX}${name}`, value);
  return raw;
}

/** Reads `[section]` of an ini file; `;` separates repeated values of one key. */
export function parseIni(text: string, section: string, source: string): RawOptions {
  const raw: RawOptions = new Map();
  let current = '';
  text.split(/\r?\n/).forEach((line, index) => {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const header = /^\[(.+)\]$/.exec(trimmed);
    if (header) {
      current = (header[1] as string).trim();
      return;
    }
    if (current !== section) return;
    const eq = trimmed.indexOf('=');
    if (eq < 0) throw new ConfigError(`${source}:${index + 1}: expected key = value`);
    const key = trimmed.slice(0, eq).trim();
    const value = trimmed.slice(eq + 1).trim();
    const spec = OPTIONS_BY_LONG.get(key);
    if (!spec) {
      raw.set(`${UNKNOWN_PREFIX}${key}`, [value]);
      return;
    }
    const values = spec.kind === 'list' ? value.split(';').map((v) => v.trim()).filter((v) => v !== '') : [value];
    raw.set(key, values);
  });
  return raw;
}

export function loadIniFile(path: string, section: string): RawOptions {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`Cannot read config file ${path}: ${(err as Error).message}`);
  }
  return parseIni(text, section, path);
}

/** The command line wins: its keys replace the file's. */
export function mergeRaw(file: RawOptions, cli: RawOptions): RawOptions {
  const merged = new Map(file);
  for (const [key, values] of cli) merged.set(key, values);
  return merged;
}
