/**
 * `asyrp models add <id> [--from <url|file>] [--fp16|--fp32] [--directions all|none|a,b] [--calibration N]
 *   [--force] [--keep-download] [--json]`: one command from an official checkpoint to a working package.
 * The install itself is src/models-install; this command adds what needs the engine (the provider
 * choice, the smoke edit) and the words.
 */
import { join, resolve } from 'node:path';
import type { CliContext } from '../cli-context.js';
import { parseArgs, UsageError } from '../parse-args.js';
import { MODELS_ADD } from '../command-specs.js';
import { closestMatch } from '../closest-match.js';
import { downloadProgress } from '../download-progress.js';
import { reportEngineError } from '../report-error.js';
import { LoadedModel } from '../../engine/loaded-model.js';
import { readModelPackage } from '../../engine/model/model-registry.js';
import { chooseProviderHere } from '../../engine/onnx/provider-report.js';
import { smokeEdit } from '../../engine/pipeline/smoke-edit.js';
import { formatBytes } from '../../models-install/download-file.js';
import { InstallError } from '../../models-install/install-error.js';
import { installModel, type InstallSummary } from '../../models-install/install-model.js';
import { readModelSources, type BackboneSource } from '../../models-install/model-sources.js';

/** Released attribute names from the --directions value; "happy" finds "dog_happy". */
function pickDirections(b: BackboneSource, value: string | undefined): string[] {
  const all = b.directions?.attributes ?? [];
  if (value === undefined || value === 'all') return [...all];
  if (value === 'none') return [];
  return value.split(',').map((raw) => {
    const w = raw.trim();
    const hit = all.find((a) => a === w || a.replace(/^(dog|church|bedroom|metface|metfaces)_/, '') === w);
    if (!hit) {
      const guess = closestMatch(w, all);
      throw new UsageError(`${b.id} has no released direction "${w}"${guess ? `; did you mean ${guess}?` : ''} (it has ${all.join(', ') || 'none'})`);
    }
    return hit;
  });
}

export async function modelsAddCommand(argv: string[], ctx: CliContext): Promise<number> {
  const { positionals, flags } = parseArgs(argv, MODELS_ADD.flags);
  const [id, ...extra] = positionals;
  if (!id || extra.length) throw new UsageError('give the id of one model to add (asyrp models lists them)');
  if (flags.fp16 && flags.fp32) throw new UsageError('--fp16 and --fp32 exclude each other');
  const calibration = flags.calibration === undefined ? 8 : Number(flags.calibration);
  if (!Number.isInteger(calibration) || calibration < 1 || calibration > 256) throw new UsageError('--calibration must be a whole number from 1 to 256');
  try {
    const sources = readModelSources(ctx.config.modelSources);
    const backbone = sources.backbones.get(id);
    if (!backbone) {
      const guess = closestMatch(id, [...sources.backbones.keys()]);
      throw new UsageError(`unknown model "${id}"${guess ? `; did you mean ${guess}?` : ''} (one of ${[...sources.backbones.keys()].join(', ')})`);
    }
    const directions = pickDirections(backbone, flags.directions as string | undefined);
    const choice = chooseProviderHere(ctx.config.executionProvider);
    const fp16 = flags.fp16 ? true : flags.fp32 ? false : choice.provider === 'cuda';
    const from = flags.from as string | undefined;
    const bar = downloadProgress(ctx.err);
    const summary = await installModel({
      backbone,
      sources,
      modelsDir: ctx.config.modelsDir,
      downloadsDir: join(ctx.config.dataDir, 'downloads'),
      python: ctx.config.python,
      toolsDir: join(ctx.config.root, 'tools'),
      ...(from !== undefined ? { from: /^https?:\/\//.test(from) ? from : resolve(ctx.cwd, from) } : {}),
      fp16,
      directions,
      calibration,
      calibrationProvider: choice.provider === 'cuda' ? 'cuda' : 'cpu',
      force: Boolean(flags.force),
      keepDownloads: Boolean(flags['keep-download']),
      smoke: async (dir, names) => {
        const model = await LoadedModel.open(readModelPackage(dir), { provider: choice.provider });
        if (model.unet.fallback && !flags.json) ctx.err.write(`asyrp models add: ${model.unet.fallback}\n`);
        try {
          return await smokeEdit(model, names[0] ?? null);
        } finally {
          await model.close();
        }
      },
      onEvent: (e) => {
        if (e.type === 'progress') bar.update(e.label, e.progress);
        else if (e.type === 'done-download') bar.finish(e.label);
        else if (!flags.json) ctx.err.write(`asyrp models add: ${e.text}\n`);
      },
    });
    if (flags.json) ctx.out.write(JSON.stringify(summary, null, 2) + '\n');
    else ctx.out.write(renderSummary(summary));
    return 0;
  } catch (e) {
    if (e instanceof InstallError) {
      ctx.err.write(`asyrp models add: ${e.message}\n`);
      return 1;
    }
    return reportEngineError(ctx, 'models add', e);
  }
}

export function renderSummary(s: InstallSummary): string {
  const worst = s.parity ? Math.max(...Object.values(s.parity)) : null;
  const lines = [
    `installed ${s.id} in ${s.dir}`,
    `  size on disk  ${formatBytes(s.bytesOnDisk)}`,
    `  directions    ${s.directions.length ? s.directions.join(', ') : '(none)'}`,
    `  parity        ${worst === null ? 'not checked' : `largest ONNX-vs-PyTorch difference ${worst.toExponential(2)}`}`,
    `  checkpoint    ${s.checkpoint.file} from ${s.checkpoint.source}${s.checkpoint.resumed ? ' (resumed)' : ''}`,
    `  sha256        ${s.checkpoint.sha256} (${s.checkpoint.sha256Verified ? 'matches the published one' : 'none published; recorded in model.json'})`,
    `  smoke edit    ${s.smoke.direction ?? 'reconstruction'}, ${s.smoke.steps} steps on ${s.smoke.provider}, ${s.smoke.seconds.toFixed(1)} s${s.smoke.direction ? `, mean change ${s.smoke.change.toFixed(3)}` : ''}`,
    `  time          ${s.seconds.toFixed(1)} s`,
    `try it: ${s.tryCommand}`,
  ];
  return lines.join('\n') + '\n';
}
