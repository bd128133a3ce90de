/**
 * `--help` on every command and subcommand, usage on error, "did you mean" for mistyped flags and
 * commands, and the exit codes README documents (0 done, 1 failed, 2 usage error). Everything runs through
 * the real dispatcher; nothing here loads a model, so a usage mistake must be caught before any work.
 */
import { describe, expect, it } from 'vitest';
import { COMMAND_SPECS } from '../../src/cli/command-specs.js';
import { closestMatch, editDistance } from '../../src/cli/closest-match.js';
import { parseArgs, UsageError } from '../../src/cli/parse-args.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/paths.js';

const cli = (argv: string[]) => runCli(argv, { cwd: tempDir() });

/** Every command and subcommand path the specs declare, e.g. ['db', 'backup']. */
const paths = Object.entries(COMMAND_SPECS).flatMap(([name, spec]) => [name, ...Object.keys(spec.subcommands ?? {}).map((sub) => `${name} ${sub}`)]);

describe('--help', () => {
  it.each(paths)('asyrp %s --help prints its usage and options to stdout, exit 0', async (path) => {
    for (const flag of ['--help', '-h']) {
      const r = await cli([...path.split(' '), flag]);
      expect(r.code).toBe(0);
      expect(r.err).toBe('');
      expect(r.out).toMatch(new RegExp(`^usage: asyrp ${path}`));
      expect(r.out).toContain('-h, --help');
      expect(r.out).toContain('exit codes: 0 done');
    }
  });

  it('lists every flag a command parses, with its value and help text', async () => {
    const r = await cli(['edit', '--help']);
    for (const [name, flag] of Object.entries(COMMAND_SPECS.edit!.flags!)) {
      expect(r.out).toContain(`--${name}`);
      expect(flag.help, name).toBeTruthy();
      expect(r.out).toContain(flag.help!);
    }
    expect(r.out).toContain('-o, --out <file.png>');
  });

  it('shows a subcommand its own flags, and a parent its subcommands', async () => {
    const learn = await cli(['directions', 'learn', '--help']);
    expect(learn.out).toContain('--positive <folder|files>');
    const parent = await cli(['directions', '--help']);
    expect(parent.out).toMatch(/commands:\n\s+learn\s+Learn a direction/);
    expect(parent.out).toContain('usage: asyrp directions [--model <id|dir>] [--json]\n       asyrp directions learn <name>');
    expect(parent.out).not.toContain('images that show the attribute');
  });

  it('answers help even after other arguments, and "asyrp help <command>" says the same', async () => {
    const late = await cli(['edit', 'face.png', 'smile', '--help']);
    const word = await cli(['help', 'edit']);
    expect(late.code).toBe(0);
    expect(word.out).toBe(late.out);
  });

  it('treats --help after -- as an argument, not a request for help', async () => {
    const r = await cli(['db', '--', '--help']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown command "--help"/);
  });

  it('lists the commands with asyrp --help (stdout, 0) and with no command (stderr, 2)', async () => {
    const asked = await cli(['--help']);
    expect(asked.code).toBe(0);
    for (const name of Object.keys(COMMAND_SPECS)) expect(asked.out).toMatch(new RegExp(`^  ${name} `, 'm'));
    const bare = await cli([]);
    expect(bare.code).toBe(2);
    expect(bare.err).toBe(asked.out);
  });
});

describe('usage on error', () => {
  it('suggests the closest flag for a typo, then prints the usage', async () => {
    const r = await cli(['generate', '--stepz', '10']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('asyrp generate: unknown option --stepz; did you mean --steps?');
    expect(r.err).toContain('usage: asyrp generate [options]');
    expect(r.err).toContain('Run "asyrp generate --help" for details.');
    expect(r.out).toBe('');
  });

  it('prints the subcommand usage for a subcommand mistake', async () => {
    const r = await cli(['db', 'backup']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('asyrp db backup: give the file');
    expect(r.err).toContain('usage: asyrp db backup <file> [--force]');
  });

  it('suggests the closest subcommand and command', async () => {
    const sub = await cli(['db', 'chekc']);
    expect(sub.code).toBe(2);
    expect(sub.err).toContain('unknown command "chekc"; did you mean "check"?');
    const top = await cli(['edti', 'x.png']);
    expect(top.code).toBe(2);
    expect(top.err).toContain('asyrp: unknown command "edti"; did you mean "edit"?');
  });

  it('names a missing value and a required flag', async () => {
    const value = await cli(['eval', '--direction']);
    expect(value.err).toContain('asyrp eval: --direction needs a value (<name|recipe>)');
    const required = await cli(['eval']);
    expect(required.code).toBe(2);
    expect(required.err).toContain('asyrp eval: --direction is required');
    expect(required.err).toContain('usage: asyrp eval --direction <name|recipe> [options]');
  });

  it('does not mistake an inherited object key for a command', async () => {
    const r = await cli(['constructor']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('unknown command "constructor"');
  });
});

describe('closest match', () => {
  it('counts an adjacent swap as one edit', () => {
    expect(editDistance('mdoel', 'model')).toBe(1);
    expect(editDistance('stepz', 'steps')).toBe(1);
    expect(editDistance('', 'abc')).toBe(3);
  });

  it('suggests a unique prefix and nothing for an unrelated word', () => {
    expect(closestMatch('comp', ['compare', 'model'])).toBe('compare');
    expect(closestMatch('frobnicate', ['model', 'out', 'compare'])).toBeUndefined();
    // One letter is too short to guess from.
    expect(closestMatch('q', ['n', 'seed'])).toBe('n');
    expect(closestMatch('x', ['seed', 'steps'])).toBeUndefined();
  });

  it('lists the known flags when nothing is close', () => {
    expect(() => parseArgs(['--frobnicate'], { model: { type: 'string' }, json: { type: 'boolean' } })).toThrow(
      new UsageError('unknown option --frobnicate; known: --model, --json'),
    );
  });
});
