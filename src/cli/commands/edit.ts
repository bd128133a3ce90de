/**
 * `asyrp edit <image> <recipe...> [--model <id|dir>] [-o out.png] [--compare out.png] [--size N] [--json]
 *   [--face N] [--face-crop]` (the last two for face models: which face, and the aligned crop instead of the photo)
 */
import { readFile, writeFile } from 'node:fs/promises';
import { basename, extname, resolve } from 'node:path';
import type { CliContext } from '../cli-context.js';
import { parseArgs, UsageError } from '../parse-args.js';
import { EDIT } from '../command-specs.js';
import { openModel } from '../open-model.js';
import { progressBar } from '../progress-bar.js';
import { reportEngineError } from '../report-error.js';
import { editImage } from '../../engine/pipeline/edit-image.js';
import { encodePng, sideBySide } from '../../engine/image/image-io.js';
import { formatRecipe } from '../../engine/recipe/parse-recipe.js';
import { EngineError } from '../../engine/errors.js';

export async function editCommand(argv: string[], ctx: CliContext): Promise<number> {
  const { positionals, flags } = parseArgs(argv, EDIT.flags);
  const [imageArg, ...recipeWords] = positionals;
  if (!imageArg) throw new UsageError('give the image to edit, then the recipe');
  const size = flags.size === undefined ? undefined : Number(flags.size);
  if (size !== undefined && (!Number.isInteger(size) || size < 8 || size > 4096)) throw new UsageError('--size must be a whole number from 8 to 4096');
  const face = flags.face === undefined ? undefined : Number(flags.face);
  if (face !== undefined && (!Number.isInteger(face) || face < 0 || face > 31)) throw new UsageError('--face must be a whole number from 0 (the largest face) to 31');

  const imagePath = resolve(ctx.cwd, imageArg);
  const outPath = resolve(ctx.cwd, (flags.out as string | undefined) ?? `${basename(imageArg, extname(imageArg))}.asyrp.png`);
  try {
    let bytes: Uint8Array;
    try {
      bytes = await readFile(imagePath);
    } catch (e) {
      throw new EngineError('IO_FAILED', `cannot read ${imagePath}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    const model = await openModel(ctx, flags.model as string | undefined);
    try {
      const bar = progressBar(ctx.err);
      const result = await editImage(model, bytes, recipeWords.join(' '), {
        limits: ctx.config.limits,
        ...(size ? { size } : {}),
        ...(face !== undefined ? { faceIndex: face } : {}),
        ...(flags['face-crop'] ? { faceOutput: 'crop' as const } : {}),
        onProgress: (p) => bar.update(p),
      });
      bar.finish();
      await writeFile(outPath, await encodePng(result.after));
      const comparePath = flags.compare ? resolve(ctx.cwd, flags.compare as string) : undefined;
      if (comparePath) await writeFile(comparePath, await encodePng(await sideBySide([result.before, result.after])));
      const summary = {
        model: model.manifest.id,
        input: imagePath,
        output: outPath,
        ...(comparePath ? { compare: comparePath } : {}),
        recipe: formatRecipe(result.recipe),
        ...(result.domainNote ? { domainNote: result.domainNote } : {}),
        ...(result.faces ? { faces: result.faces.map((f) => ({ index: f.index, score: Math.round(f.score * 1000) / 1000, box: f.box })) } : {}),
        understood: {
          directions: result.plan.terms.map((t) => ({ name: t.direction.meta.name, strength: t.strength, weight: t.weight })),
          inversionSteps: result.plan.inversionSteps,
          inversionRefinement: result.plan.inversionRefinement,
          generationSteps: result.plan.generationSteps,
          tEdit: result.plan.tEdit,
          tBoost: result.plan.tBoost,
          seed: result.plan.seed,
        },
        timingsMs: roundAll({
          decode: result.timings.decodeMs,
          inversion: result.timings.inversionMs,
          editing: result.timings.phases.editing,
          denoising: result.timings.phases.denoising,
          boosting: result.timings.phases.boosting,
          total: result.timings.totalMs,
        }),
      };
      // Outside the model's domain: one line on stderr, so the result file and --json stay clean.
      if (result.domainNote) ctx.err.write(`asyrp edit: ${result.domainNote}\n`);
      if (flags.json) ctx.out.write(JSON.stringify(summary, null, 2) + '\n');
      else {
        const what = summary.recipe || '(no direction: reconstruction)';
        ctx.out.write(`${what} → ${outPath}${comparePath ? ` (before | after: ${comparePath})` : ''} in ${(result.timings.totalMs / 1000).toFixed(1)} s\n`);
      }
      return 0;
    } finally {
      await model.close();
    }
  } catch (e) {
    return reportEngineError(ctx, 'edit', e);
  }
}

function roundAll(o: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, Math.round(v)]));
}
