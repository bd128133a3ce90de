/** Opens a model for a CLI command, choosing and announcing the execution provider once. */
import type { CliContext } from './cli-context.js';
import { LoadedModel } from '../engine/loaded-model.js';
import { resolveModelPackage } from '../engine/model/model-registry.js';
import { chooseExecutionProvider } from '../engine/onnx/execution-provider.js';

export async function openModel(ctx: CliContext, name: string | undefined): Promise<LoadedModel> {
  const pkg = resolveModelPackage(ctx.config.modelsDir, name, ctx.config.defaultModel, ctx.cwd);
  const choice = chooseExecutionProvider(ctx.config.executionProvider);
  if (ctx.config.logLevel === 'debug' || ctx.config.logLevel === 'info') {
    ctx.err.write(`asyrp: execution provider ${choice.provider} (${choice.reason})\n`);
  }
  return LoadedModel.open(pkg, { provider: choice.provider });
}
