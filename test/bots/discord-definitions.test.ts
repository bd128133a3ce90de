/** Command definitions within Discord's limits, and custom_id round trips (state by id, < 100 chars). */
import { describe, expect, it } from 'vitest';
import { buildCommands, directionSubcommands } from '../../src/bots/discord/command-definitions.js';
import { parseCustomId, pickStrengthId, resultButtonId, saveModalId } from '../../src/bots/discord/custom-ids.js';
import type { ModelInfo } from '../../src/engine/client/api-types.js';

const model = (names: string[]): ModelInfo => ({
  id: 'toy',
  title: 'Toy',
  domain: null,
  resolution: 32,
  isDefault: true,
  directions: names.map((name) => ({ name, description: `make it ${name}`.repeat(20), defaultStrength: 0.7 })),
});

interface Opt {
  name: string;
  description: string;
  options?: Opt[];
}

describe('command definitions', () => {
  it('keeps to 25 top-level options, 100-character descriptions, and skips direction names the bot uses', () => {
    const names = ['smile', 'edit', 'help', 'Bad Name', ...Array.from({ length: 30 }, (_, k) => `d${k}`)];
    const dirs = directionSubcommands(model(names)).map((d) => d.name);
    expect(dirs).not.toContain('edit');
    expect(dirs).not.toContain('help');
    expect(dirs).not.toContain('Bad Name');
    expect(dirs[0]).toBe('smile');
    const [slash] = buildCommands(model(names)) as unknown as Opt[];
    expect(slash!.options!.length).toBeLessThanOrEqual(25);
    const walk = (o: Opt): void => {
      expect(o.description.length).toBeLessThanOrEqual(100);
      o.options?.forEach(walk);
    };
    walk(slash!);
    const smile = slash!.options!.find((o) => o.name === 'smile')!;
    expect(smile.options!.map((o) => o.name)).toEqual(['strength', 'image']);
  });
});

describe('custom ids', () => {
  it('round-trip and stay under 100 characters', () => {
    expect(parseCustomId(resultButtonId('stronger', 42))).toEqual({ kind: 'result', action: 'stronger', editId: 42 });
    expect(parseCustomId(saveModalId(7))).toEqual({ kind: 'save', editId: 7 });
    const longest = pickStrengthId('1234567890123456789', '@a-very-long-handle-name/abcdefghijklmnopqrstuvwxyz012345', -1.5);
    expect(longest.length).toBeLessThanOrEqual(100);
    expect(parseCustomId(longest)).toMatchObject({ kind: 'pick-strength', strength: -1.5 });
    expect(parseCustomId('asyrp:r:explode:1')).toBeUndefined();
    expect(parseCustomId('other:r:undo:1')).toBeUndefined();
  });
});

describe('error formatting', () => {
  it('puts the recipe pointer lines in a code block so the caret lines up', async () => {
    const { fenceIndented } = await import('../../src/bots/core/fence-indented.js');
    const text = 'Unknown direction "smiel".\n  smiel:0.8\n  ^^^^^^^^^\nDirections: smile.';
    expect(fenceIndented(text)).toBe('Unknown direction "smiel".\n```\nsmiel:0.8\n^^^^^^^^^\n```\nDirections: smile.');
  });
});
