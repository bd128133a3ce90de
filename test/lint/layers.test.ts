/**
 * The layer graph of docs/architecture.md is enforced by eslint.config.js. These cases run the project's
 * real ESLint config on small import-only sources placed (virtually) in each layer, so a rule that
 * silently stops matching, or starts blocking an allowed edge, fails here rather than in review.
 */
import { ESLint } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { repoRoot } from '../helpers/paths.js';

let eslint: ESLint;

beforeAll(() => {
  eslint = new ESLint({ cwd: repoRoot });
});

/** The no-restricted-imports messages for one import written in a file at `file` (relative to the repo). */
async function restricted(file: string, importPath: string): Promise<string[]> {
  const [result] = await eslint.lintText(`import { x } from '${importPath}';\nexport const y = x;\n`, { filePath: join(repoRoot, file) });
  return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('forbidden imports fail lint', () => {
  const cases: [string, string, RegExp][] = [
    ['src/bots/core/probe.ts', '../../engine/onnx/unet-session.js', /public entry/],
    ['src/bots/discord/probe.ts', '../../engine/pipeline/run-edit.js', /public entry/],
    ['src/bots/slack/probe.ts', '../../storage/repos/presets-repo.js', /storage\/index\.js/],
    ['src/bots/core/probe.ts', 'onnxruntime-node', /Only src\/engine\/onnx/],
    ['src/cli/commands/db.ts', '../../engine/pipeline/edit-image.js', /public entry/],
    ['src/storage/probe.ts', '../engine/errors.js', /Storage imports no engine/],
    ['src/storage/probe.ts', '../engine/pipeline/edit-plan.js', /Storage imports no engine/],
    ['src/engine/pipeline/probe.ts', '../service/job.js', /never imports the engine service/],
    ['src/engine/diffusion/probe.ts', '../../storage/index.js', /never imports storage/],
    ['src/engine/eval/probe.ts', '../../config/load-config.js', /not the app config/],
    ['src/engine/directions/probe.ts', '../client/api-types.js', /HTTP client/],
    ['src/engine/recipe/probe.ts', '../model/model-json.js', /recipe grammar depends on engine\/errors only/],
    ['src/engine/service/probe.ts', '../../bots/core/types.js', /Only the CLI/],
    ['src/storage/probe.ts', '../cli/main.js', /Nothing imports the CLI/],
    ['src/config/probe.ts', '../engine/errors.js', /Config is read first/],
    ['src/bots/core/probe.ts', 'pino', /Only src\/log may import pino/],
    ['src/engine/service/probe.ts', 'prom-client', /Only src\/engine\/service\/metrics\.ts/],
    ['src/log/probe.ts', '../config/load-config.js', /src\/log depends on nothing else/],
    ['src/cli/commands/edit.ts', 'commander', /Only src\/cli\/parse-args\.ts/],
    ['src/engine/service/probe.ts', 'bullmq', /Only src\/engine\/cluster may import bullmq/],
    ['src/cli/commands/engine.ts', 'ioredis', /Only src\/engine\/cluster may import ioredis/],
    ['src/engine/cluster/probe.ts', '../../bots/core/types.js', /Only the CLI/],
  ];
  it.each(cases)('%s may not import %s', async (file, importPath, message) => {
    const messages = await restricted(file, importPath);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(message);
  });
});

describe('allowed imports pass lint', () => {
  const cases: [string, string][] = [
    ['src/bots/core/probe.ts', '../../engine/client/engine-client.js'],
    ['src/bots/core/probe.ts', '../../engine/errors.js'],
    ['src/bots/slack/probe.ts', '../../engine/recipe/parse-recipe.js'],
    ['src/bots/core/probe.ts', '../../storage/index.js'],
    ['src/storage/probe.ts', '../engine/recipe/parse-recipe.js'],
    ['src/engine/service/probe.ts', '../pipeline/run-edit.js'],
    ['src/engine/service/probe.ts', '../../storage/index.js'],
    ['src/engine/pipeline/probe.ts', '../diffusion/trajectory.js'],
    ['src/engine/onnx/probe.ts', 'onnxruntime-node'],
    ['src/log/probe.ts', 'pino'],
    ['src/cli/parse-args.ts', 'commander'],
    ['src/engine/service/metrics.ts', 'prom-client'],
    ['src/engine/cluster/probe.ts', 'bullmq'],
    ['src/engine/cluster/probe.ts', 'ioredis'],
    ['src/engine/cluster/probe.ts', '../service/engine-service.js'],
    ['src/bots/core/probe.ts', '../../log/logger.js'],
    ['src/engine/service/probe.ts', '../../log/logger.js'],
    ['src/cli/commands/start.ts', '../../bots/discord/discord-bot.js'],
    // An explicit, commented exception in eslint.config.js: the in-process commands host the engine.
    ['src/cli/commands/edit.ts', '../../engine/pipeline/edit-image.js'],
  ];
  it.each(cases)('%s may import %s', async (file, importPath) => {
    expect(await restricted(file, importPath)).toEqual([]);
  });
});
