/**
 * `asyrp directions learn <name> --model <id|dir> --positive <folder|files> --negative <folder|files>
 *   [--pairs] [--steps 40] [--description text] [--force] [--json]`
 * Learns a direction from examples with inference only (src/engine/directions/learn-direction.ts) and
 * installs it as directions/<name>.safetensors of the model.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { CliContext } from '../cli-context.js';
import { parseArgs, UsageError } from '../parse-args.js';
import { DIRECTIONS_LEARN } from '../command-specs.js';
import { openModel } from '../open-model.js';
import { reportEngineError } from '../report-error.js';
import { EngineError } from '../../engine/errors.js';
import { encodeDirection } from '../../engine/directions/direction-file.js';
import { learnDirection, T_EDIT_LOST_THRESHOLD, type Example } from '../../engine/directions/learn-direction.js';
import { writeFileAtomic } from '../../engine/service/atomic-file.js';

const IMAGE_EXT = /\.(png|jpe?g|webp|gif)$/i;

/** A folder (its images, in name order) or a comma-separated list of files. */
function readExamples(spec: string, cwd: string, flag: string): Example[] {
  const paths: string[] = [];
  for (const part of spec.split(',').filter(Boolean)) {
    const p = resolve(cwd, part);
    if (!existsSync(p)) throw new EngineError('IO_FAILED', `--${flag}: ${p} does not exist`);
    if (statSync(p).isDirectory()) {
      paths.push(...readdirSync(p).filter((f) => IMAGE_EXT.test(f)).sort().map((f) => join(p, f)));
    } else paths.push(p);
  }
  return paths.map((p) => {
    try {
      return { name: p, bytes: readFileSync(p) };
    } catch (e) {
      throw new EngineError('IO_FAILED', `--${flag}: cannot read ${p}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  });
}

export async function directionsLearnCommand(argv: string[], ctx: CliContext): Promise<number> {
  const { positionals, flags } = parseArgs(argv, DIRECTIONS_LEARN.flags);
  const [name] = positionals;
  if (!name || !flags.positive || !flags.negative) {
    throw new UsageError(!name ? 'give the new direction a name' : `--${flags.positive ? 'negative' : 'positive'} is required`);
  }
  if (!/^[a-z0-9][a-z0-9_-]{0,31}$/.test(name)) throw new UsageError(`direction names are 1-32 characters of a-z, 0-9, "-" and "_"; got "${name}"`);
  const steps = flags.steps === undefined ? undefined : Number(flags.steps);
  if (steps !== undefined && (!Number.isInteger(steps) || steps < 2 || steps > 1000)) throw new UsageError('--steps must be a whole number from 2 to 1000');
  try {
    const positives = readExamples(flags.positive as string, ctx.cwd, 'positive');
    const negatives = readExamples(flags.negative as string, ctx.cwd, 'negative');
    const model = await openModel(ctx, flags.model as string | undefined);
    try {
      const file = join(model.directionsDir, `${name}.safetensors`);
      if (existsSync(file) && !flags.force) throw new EngineError('IO_FAILED', `${file} exists; pass --force to replace it`);
      const n = steps ?? model.manifest.defaults.generationSteps;
      const learned = await learnDirection(model, positives, negatives, {
        steps: n,
        pairs: Boolean(flags.pairs),
        limits: ctx.config.limits,
        onProgress: (done, total) => ctx.err.isTTY && ctx.err.write(`\rinverting examples ${done}/${total}`),
      });
      if (ctx.err.isTTY) ctx.err.write('\n');
      const meta = {
        name,
        description: (flags.description as string | undefined) ?? `learned from ${learned.positives} examples with and ${learned.negatives} without`,
        tEdit: learned.recommendedTEdit,
        tBoost: model.manifest.defaults.tBoost,
        defaultStrength: 1,
        source: `asyrp directions learn (mean h difference${flags.pairs ? ' over pairs' : ''}, ${n} steps)`,
        raw: { positives: String(learned.positives), negatives: String(learned.negatives), pairs: String(Boolean(flags.pairs)), steps: String(n) },
      };
      writeFileAtomic(file, encodeDirection({ meta, timesteps: learned.timesteps, deltaH: learned.deltaH, hspace: model.manifest.hspace }));
      model.reloadDirections();
      const report = { direction: name, model: model.manifest.id, file, positives: learned.positives, negatives: learned.negatives, recommendedTEdit: learned.recommendedTEdit, perTimestep: learned.perTimestep };
      if (flags.json) ctx.out.write(JSON.stringify(report, null, 2) + '\n');
      else {
        ctx.out.write(`learned "${name}" for ${model.manifest.id} from ${learned.positives} + ${learned.negatives} examples → ${file}\n`);
        ctx.out.write(`recommended t_edit ${learned.recommendedTEdit} (first t where P_t has lost ≥ ${T_EDIT_LOST_THRESHOLD} of the image)\n\n`);
        ctx.out.write('    t   |Δh| rms   SNR   separation  consistency  P_t lost\n');
        for (const r of learned.perTimestep.filter((_, i, a) => i % Math.ceil(a.length / 10) === 0 || i === a.length - 1)) {
          ctx.out.write(`  ${String(r.t).padStart(4)}  ${r.rms.toExponential(2).padStart(9)}  ${r.snr.toFixed(2).padStart(5)}  ${(r.separation * 100).toFixed(0).padStart(8)} %  ${r.consistency.toFixed(3).padStart(11)}  ${r.lost.toFixed(2).padStart(8)}\n`);
        }
      }
      return 0;
    } finally {
      await model.close();
    }
  } catch (e) {
    return reportEngineError(ctx, 'directions learn', e);
  }
}
