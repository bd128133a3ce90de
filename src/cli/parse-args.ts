/**
 * The CLI's argument parsing on commander: `--flag value`, `--flag=value`, boolean flags, `-o` short
 * aliases, `--` and positionals, from the flags a command declares in src/cli/command-specs.ts. Unknown
 * flags are errors (a typo must not be silently ignored), with the closest known flag suggested. `--help`
 * never reaches a command: dispatch answers it from the same spec (src/cli/help.ts), which is why
 * commander's own help and error output are switched off here (README, Development, says why).
 */
import { Command, CommanderError, Option } from 'commander';
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
  const cmd = new Command()
    .exitOverride()
    .configureOutput({ writeOut: () => undefined, writeErr: () => undefined })
    .helpOption(false)
    .showSuggestionAfterError(false)
    .allowExcessArguments()
    .argument('[args...]');
  const names = new Map<string, string>();
  for (const [name, def] of Object.entries(spec)) {
    const flags = `${def.short ? `-${def.short}, ` : ''}--${name}${def.type === 'string' ? ' <value>' : ''}`;
    const option = new Option(flags);
    names.set(option.attributeName(), name);
    cmd.addOption(option);
  }
  try {
    cmd.parse([...argv], { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) throw new UsageError(usageMessage(e, spec));
    throw e;
  }
  const flags: Record<string, string | boolean | undefined> = {};
  for (const [key, value] of Object.entries(cmd.opts())) flags[names.get(key) ?? key] = value as string | boolean;
  return { positionals: [...(cmd.processedArgs[0] as string[])], flags };
}

/** Commander's error, said the way the rest of the CLI says it. */
function usageMessage(e: CommanderError, spec: FlagSpec): string {
  const written = /'([^']+)'/.exec(e.message)?.[1] ?? '';
  if (e.code === 'commander.optionMissingArgument') {
    const name = written.replace(/^.*--/, '').split(' ')[0]!;
    const s = spec[name];
    return `--${name} needs a value${s?.value ? ` (${s.value})` : ''}`;
  }
  if (e.code === 'commander.unknownOption') {
    if (!written.startsWith('--')) return `unknown option ${written}${knownFlags(spec)}`;
    const [name, inline] = written.slice(2).split('=', 2) as [string, string | undefined];
    // Commander splits --flag=value only for flags that take a value; a boolean flag with one lands here.
    if (inline !== undefined && spec[name]?.type === 'boolean') return `--${name} takes no value`;
    const guess = closestMatch(name, Object.keys(spec));
    return guess ? `unknown option --${name}; did you mean --${guess}?` : `unknown option --${name}${knownFlags(spec)}`;
  }
  return e.message.replace(/^error: /, '');
}

function knownFlags(spec: FlagSpec): string {
  const names = Object.keys(spec);
  return `; known: ${names.length ? names.map((k) => `--${k}`).join(', ') : '(none)'}`;
}
