/**
 * The `asyrp` command line. This is an entry module: it alone reads the environment and argv (through
 * loadConfig), then hands a CliContext to the command. Help, usage on error and "did you mean" come from
 * the command specs (src/cli/command-specs.ts); exit codes: 0 done, 1 failed, 2 usage error.
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../config/config-error.js';
import { loadSettings } from '../config/load-config.js';
import type { CliCommand, CliContext } from './cli-context.js';
import { closestMatch } from './closest-match.js';
import { COMMAND_SPECS } from './command-specs.js';
import { EXIT_CODES, renderHelp, renderUsage, resolveSpec, wantsHelp, type CommandSpec } from './help.js';
import { UsageError } from './parse-args.js';

// Commands are loaded lazily so that `asyrp models` (and any --help) does not pay for onnxruntime or sharp start-up.
const COMMANDS: Record<string, { summary?: string; load: () => Promise<CliCommand> }> = {
  edit: { load: async () => (await import('./commands/edit.js')).editCommand },
  models: { load: async () => (await import('./commands/models.js')).modelsCommand },
  directions: { load: async () => (await import('./commands/directions.js')).directionsCommand },
  eval: { load: async () => (await import('./commands/eval.js')).evalCommand },
  generate: { load: async () => (await import('./commands/generate.js')).generateCommand },
  bench: { load: async () => (await import('./commands/bench.js')).benchCommand },
  discord: { load: async () => (await import('./commands/discord.js')).discordCommand },
  slack: { load: async () => (await import('./commands/slack.js')).slackCommand },
  start: { load: async () => (await import('./commands/start.js')).startCommand },
  engine: { load: async () => (await import('./commands/engine.js')).engineCommand },
  db: { load: async () => (await import('./commands/db.js')).dbCommand },
  doctor: { load: async () => (await import('./commands/doctor.js')).doctorCommand },
};

/** A command's spec; one without an entry in command-specs.ts gets a one-line help from its summary. */
function specOf(name: string): CommandSpec {
  return (Object.hasOwn(COMMAND_SPECS, name) ? COMMAND_SPECS[name] : undefined) ?? { summary: COMMANDS[name]?.summary ?? '', usage: '[options]' };
}

/** The package root: config/ and models/ are found relative to it, wherever the command is run from. */
const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

function usage(): string {
  const lines = ['usage: asyrp <command> [options]', '', 'commands:'];
  for (const name of Object.keys(COMMANDS)) lines.push(`  ${name.padEnd(11)} ${specOf(name).summary}`);
  lines.push('', '"asyrp <command> --help" shows a command\'s usage and options.', EXIT_CODES);
  return lines.join('\n') + '\n';
}

export async function run(argv: string[]): Promise<number> {
  const err = { write: (t: string) => void process.stderr.write(t), isTTY: Boolean(process.stderr.isTTY) };
  const out = { write: (t: string) => void process.stdout.write(t), isTTY: Boolean(process.stdout.isTTY) };
  // Help and unknown commands are answered before the config is read, so help works even where
  // config/local.json is broken.
  const answered = answerWithoutRunning(argv, { out, err });
  if (answered !== undefined) return answered;
  let settings: Pick<CliContext, 'config' | 'secrets'>;
  try {
    settings = loadSettings({ root: packageRoot });
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    err.write(`asyrp: ${e.message}\n`);
    return 1;
  }
  return dispatch(argv, { ...settings, out, err, cwd: process.cwd() });
}

/** Runs one command with a ready context (tests call this with their own config and streams). */
export async function dispatch(argv: string[], ctx: CliContext): Promise<number> {
  const answered = answerWithoutRunning(argv, ctx);
  if (answered !== undefined) return answered;
  const [name, ...rest] = argv as [string, ...string[]];
  try {
    return await (await COMMANDS[name]!.load())(rest, ctx);
  } catch (e) {
    if (e instanceof UsageError) {
      const addressed = resolveSpec(name, specOf(name), rest);
      ctx.err.write(`asyrp ${addressed.path}: ${e.message}\n${renderUsage(addressed.path, addressed.spec)}Run "asyrp ${addressed.path} --help" for details.\n`);
      return 2;
    }
    throw e;
  }
}

/**
 * What needs no command to run: the command list, `asyrp help …`, `--help` anywhere before `--`, and an
 * unknown command (with the closest known one suggested). Undefined: run the command.
 */
function answerWithoutRunning(argv: readonly string[], io: Pick<CliContext, 'out' | 'err'>): number | undefined {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h') {
    (name ? io.out : io.err).write(usage());
    return name ? 0 : 2;
  }
  if (name === 'help') {
    const [topic, ...sub] = rest;
    if (!topic) {
      io.out.write(usage());
      return 0;
    }
    if (!Object.hasOwn(COMMANDS, topic)) return unknownCommand(topic, io);
    const addressed = resolveSpec(topic, specOf(topic), sub);
    io.out.write(renderHelp(addressed.path, addressed.spec));
    return 0;
  }
  if (!Object.hasOwn(COMMANDS, name)) return unknownCommand(name, io);
  if (wantsHelp(rest)) {
    const addressed = resolveSpec(name, specOf(name), rest);
    io.out.write(renderHelp(addressed.path, addressed.spec));
    return 0;
  }
  return undefined;
}

function unknownCommand(name: string, io: Pick<CliContext, 'err'>): number {
  const isOption = name.startsWith('-');
  const guess = isOption ? undefined : closestMatch(name, Object.keys(COMMANDS));
  io.err.write(`asyrp: unknown ${isOption ? 'option' : 'command'} "${name}"${guess ? `; did you mean "${guess}"?` : ''}\n\n${usage()}`);
  return 2;
}
