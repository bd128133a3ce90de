/**
 * Opens a model for a CLI command, choosing and announcing the execution provider once. Its graphs run
 * where engine.inference says (the inference worker by default), with engine.intraOpThreads.
 */
import type { CliContext } from './cli-context.js';
import { LoadedModel } from '../engine/loaded-model.js';
import { resolveModelPackage } from '../engine/model/model-registry.js';
import { chooseProviderHere } from '../engine/onnx/provider-report.js';
import { openInference } from '../engine/onnx/open-inference.js';

export async function openModel(ctx: CliContext, name: string | undefined): Promise<LoadedModel> {
  const pkg = resolveModelPackage(ctx.config.modelsDir, name, ctx.config.defaultModel, ctx.cwd);
  const choice = chooseProviderHere(ctx.config.executionProvider);
  const chatty = ctx.config.logLevel === 'debug' || ctx.config.logLevel === 'info';
  if (chatty) ctx.err.write(`asyrp: execution provider ${choice.provider} (${choice.reason})\n`);
  const inference = await openInference({ mode: ctx.config.engine.inference, intraOpThreads: ctx.config.engine.intraOpThreads });
  const model = await LoadedModel.open(pkg, { provider: choice.provider, inference, closeInference: true });
  // A fallback is said even at warn: the user asked for a GPU and is not getting it.
  if (model.unet.fallback && ctx.config.logLevel !== 'error') ctx.err.write(`asyrp: ${model.unet.fallback}\n`);
  return model;
}
