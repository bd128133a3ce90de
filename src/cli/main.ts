/**
 * The `asyrp` command line. This is an entry module: it alone reads the environment and argv (through
 * loadConfig), then hands a CliContext to the command.
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../config/load-config.js';
import type { CliCommand, CliContext } from './cli-context.js';
import { UsageError } from './parse-args.js';

// Commands are loaded lazily so that `asyrp models` does not pay for onnxruntime or sharp start-up.
const COMMANDS: Record<string, { summary: string; load: () => Promise<CliCommand> }> = {
  edit: { summary: 'edit an image with a recipe: asyrp edit <image> <recipe...> [-o out.png]', load: async () => (await import('./commands/edit.js')).editCommand },
  models: { summary: 'list installed models', load: async () => (await import('./commands/models.js')).modelsCommand },
  directions: { summary: 'list directions: asyrp directions [--model <id>]; learn one: asyrp directions learn <name> --positive … --negative …', load: async () => (await import('./commands/directions.js')).directionsCommand },
  eval: { summary: 'measure directions with the model\'s attribute reader: asyrp eval --model <id> --direction <name|recipe> [--n 100]', load: async () => (await import('./commands/eval.js')).evalCommand },
  generate: { summary: 'samples from noise, the share read as faces, a grid: asyrp generate --model <id> [--n 100] [--steps 40] [--seed 0] [--out grid.png] [--json]', load: async () => (await import('./commands/generate.js')).generateCommand },
  bench: { summary: 'benchmark the engine on a model: asyrp bench [--model <id>]', load: async () => (await import('./commands/bench.js')).benchCommand },
  discord: { summary: 'run the Discord bot; asyrp discord deploy-commands [--guild <id>] registers its commands', load: async () => (await import('./commands/discord.js')).discordCommand },
  slack: { summary: 'run the Slack app (HTTP with SLACK_SIGNING_SECRET, or Socket Mode with SLACK_APP_TOKEN)', load: async () => (await import('./commands/slack.js')).slackCommand },
  start: { summary: 'run the engine and every bot whose credentials are configured', load: async () => (await import('./commands/start.js')).startCommand },
  engine: { summary: 'run the engine service (HTTP API + worker) on the configured models', load: async () => (await import('./commands/engine.js')).engineCommand },
  db: { summary: 'database upkeep: asyrp db migrate | backup <file> [--force] | restore <file> --force | check', load: async () => (await import('./commands/db.js')).dbCommand },
};

/** The package root: config/ and models/ are found relative to it, wherever the command is run from. */
const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

function usage(): string {
  const lines = ['usage: asyrp <command> [options]', '', 'commands:'];
  for (const [name, c] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(11)} ${c.summary}`);
  return lines.join('\n') + '\n';
}

export async function run(argv: string[]): Promise<number> {
  const err = { write: (t: string) => void process.stderr.write(t), isTTY: Boolean(process.stderr.isTTY) };
  const out = { write: (t: string) => void process.stdout.write(t), isTTY: Boolean(process.stdout.isTTY) };
  let config: CliContext['config'];
  try {
    config = loadConfig({ root: packageRoot });
  } catch (e) {
    err.write(`asyrp: ${(e as Error).message}\n`);
    return 1;
  }
  return dispatch(argv, { config, out, err, cwd: process.cwd() });
}

/** Runs one command with a ready context (tests call this with their own config and streams). */
export async function dispatch(argv: string[], ctx: CliContext): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    (name ? ctx.out : ctx.err).write(usage());
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    ctx.err.write(`asyrp: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  try {
    return await (await command.load())(rest, ctx);
  } catch (e) {
    if (e instanceof UsageError) {
      ctx.err.write(`asyrp ${name}: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}
