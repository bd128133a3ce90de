/**
 * `--help` for every command and subcommand, rendered from data (src/cli/command-specs.ts), so a new
 * command gets help, usage-on-error and flag suggestions by adding a spec, without code here.
 */
import type { FlagSpec } from './parse-args.js';

export interface CommandSpec {
  /** One line for the command list. */
  readonly summary: string;
  /** What follows the command words, e.g. `<image> <recipe...> [options]`; absent: only its subcommands run. */
  readonly usage?: string;
  /** A paragraph or two for `--help`. */
  readonly description?: string;
  /** The flags the command parses (help text included). */
  readonly flags?: FlagSpec;
  readonly subcommands?: Readonly<Record<string, CommandSpec>>;
  readonly examples?: readonly string[];
}

export const EXIT_CODES = 'exit codes: 0 done; 1 failed (the message says why); 2 usage error (a wrong command, option or value)';

/**
 * The spec that `argv` addresses: a subcommand is the first argument, as each command reads it
 * (`asyrp db backup …`, `asyrp directions learn …`).
 */
export function resolveSpec(name: string, spec: CommandSpec, argv: readonly string[]): { path: string; spec: CommandSpec } {
  const sub = argv[0];
  const child = sub !== undefined && spec.subcommands && Object.hasOwn(spec.subcommands, sub) ? spec.subcommands[sub] : undefined;
  return child ? { path: `${name} ${sub}`, spec: child } : { path: name, spec };
}

/** True when the arguments ask for help (before a `--`, which ends the options). */
export function wantsHelp(argv: readonly string[]): boolean {
  for (const a of argv) {
    if (a === '--') return false;
    if (a === '--help' || a === '-h') return true;
  }
  return false;
}

/** The usage lines of a command: its own form and each subcommand's. */
export function usageLines(path: string, spec: CommandSpec): string[] {
  const lines = spec.usage !== undefined ? [`asyrp ${path}${spec.usage ? ` ${spec.usage}` : ''}`] : [];
  for (const [sub, s] of Object.entries(spec.subcommands ?? {})) lines.push(...usageLines(`${path} ${sub}`, s));
  return lines;
}

export function renderUsage(path: string, spec: CommandSpec): string {
  const [first, ...rest] = usageLines(path, spec);
  return [`usage: ${first ?? `asyrp ${path}`}`, ...rest.map((l) => `       ${l}`)].join('\n') + '\n';
}

export function renderHelp(path: string, spec: CommandSpec): string {
  const out = [renderUsage(path, spec), `${spec.summary}`];
  if (spec.description) out.push('', spec.description);
  const flags = Object.entries(spec.flags ?? {}).map(([name, f]) => {
    const left = `${f.short ? `-${f.short}, ` : '    '}--${name}${f.type === 'string' ? ` ${f.value ?? '<value>'}` : ''}`;
    return [left, f.help ?? ''] as const;
  });
  flags.push(['-h, --help', 'show this help']);
  out.push('', 'options:', ...table(flags));
  const subs = Object.entries(spec.subcommands ?? {}).map(([sub, s]) => [sub, s.summary] as const);
  if (subs.length) out.push('', 'commands:', ...table(subs), '', `"asyrp ${path} <command> --help" shows a command's options.`);
  if (spec.examples?.length) out.push('', 'examples:', ...spec.examples.map((e) => `  ${e}`));
  out.push('', EXIT_CODES);
  return out.join('\n') + '\n';
}

function table(rows: readonly (readonly [string, string])[]): string[] {
  const width = Math.min(28, Math.max(...rows.map(([l]) => l.length)));
  return rows.map(([l, r]) => (r ? `  ${l.padEnd(width)}  ${r}` : `  ${l}`));
}
