/**
 * A small, strict argument parser for the CLI: `--flag value`, `--flag=value`, boolean flags, `-o` short
 * aliases, and positionals. Unknown flags are errors (a typo must not be silently ignored), with the
 * closest known flag suggested. `--help` never reaches a command: dispatch answers it from the
 * command's spec (src/cli/command-specs.ts), which also supplies the flags parsed here.
 */
import { closestMatch } from './closest-match.js';

export interface FlagDef {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  /** What the value is, for help: `--model <id|dir>`. */
  readonly value?: string;
  /** One line for `--help`. */
  readonly help?: string;
}

export interface FlagSpec {
  readonly [name: string]: FlagDef;
}

export interface ParsedArgs {
  readonly positionals: string[];
  readonly flags: Record<string, string | boolean | undefined>;
}

/** A mistake in how the command was called: dispatch prints it with the command's usage and exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export function parseArgs(argv: readonly string[], spec: FlagSpec): ParsedArgs {
  const positionals: string[] = [];
  const flags: Record<string, string | boolean | undefined> = {};
  const byShort = new Map(Object.entries(spec).flatMap(([name, s]) => (s.short ? [[s.short, name] as const] : [])));
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    let name: string | undefined;
    let inline: string | undefined;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
      inline = eq >= 0 ? arg.slice(eq + 1) : undefined;
    } else if (/^-[a-zA-Z]$/.test(arg)) {
      name = byShort.get(arg.slice(1));
      if (!name) throw new UsageError(`unknown option ${arg}${knownFlags(spec)}`);
    } else {
      positionals.push(arg);
      continue;
    }
    const s = spec[name];
    if (!s) throw new UsageError(unknownFlag(name, spec));
    if (s.type === 'boolean') {
      if (inline !== undefined) throw new UsageError(`--${name} takes no value`);
      flags[name] = true;
    } else {
      const value = inline ?? argv[++i];
      if (value === undefined) throw new UsageError(`--${name} needs a value${s.value ? ` (${s.value})` : ''}`);
      flags[name] = value;
    }
  }
  return { positionals, flags };
}

function unknownFlag(name: string, spec: FlagSpec): string {
  const guess = closestMatch(name, Object.keys(spec));
  return guess ? `unknown option --${name}; did you mean --${guess}?` : `unknown option --${name}${knownFlags(spec)}`;
}

function knownFlags(spec: FlagSpec): string {
  const names = Object.keys(spec);
  return `; known: ${names.length ? names.map((k) => `--${k}`).join(', ') : '(none)'}`;
}
