import { describe, expect, it } from 'vitest';
import { parseArgs, UsageError, type FlagSpec } from '../../src/cli/parse-args.js';

const spec: FlagSpec = {
  model: { type: 'string', value: '<id>' },
  json: { type: 'boolean' },
  out: { type: 'string', short: 'o' },
  'face-crop': { type: 'boolean' },
  strength: { type: 'string' },
};

describe('parseArgs (on commander)', () => {
  it('reads values, =values, booleans, short aliases, kebab-case names and positionals', () => {
    expect(parseArgs(['a', '--model', 'm', '--json', '-o', 'x.png', 'b'], spec)).toEqual({ positionals: ['a', 'b'], flags: { model: 'm', json: true, out: 'x.png' } });
    expect(parseArgs(['--model=m', 'p', '--face-crop'], spec)).toEqual({ positionals: ['p'], flags: { model: 'm', 'face-crop': true } });
  });

  it('takes negative numbers as values and positionals, and everything after -- as positionals', () => {
    expect(parseArgs(['--strength', '-0.5', '-1', 'smile:-1'], spec)).toEqual({ positionals: ['-1', 'smile:-1'], flags: { strength: '-0.5' } });
    expect(parseArgs(['--', '--json', '-o'], spec)).toEqual({ positionals: ['--json', '-o'], flags: {} });
  });

  it('answers mistakes with UsageErrors in the CLI\'s words', () => {
    const message = (argv: string[]) => {
      try {
        parseArgs(argv, spec);
      } catch (e) {
        expect(e).toBeInstanceOf(UsageError);
        return (e as Error).message;
      }
      throw new Error(`no error for ${argv.join(' ')}`);
    };
    expect(message(['--modl', 'x'])).toBe('unknown option --modl; did you mean --model?');
    expect(message(['--zzzzzz'])).toBe('unknown option --zzzzzz; known: --model, --json, --out, --face-crop, --strength');
    expect(message(['-x'])).toMatch(/^unknown option -x; known: --model/);
    expect(message(['--json=1'])).toBe('--json takes no value');
    expect(message(['--model'])).toBe('--model needs a value (<id>)');
    expect(message(['-o'])).toBe('--out needs a value');
  });
});
