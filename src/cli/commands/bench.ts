/**
 * `asyrp bench [--model <id|dir>] [--batch B] [--repeat N] [--steps n] [--json]`: engine timings on one
 * model, compared within one run so the ratios hold on a noisy machine.
 *   - ms per UNet call at E = 0 and E = B (the edit/plain ratio shows the encoder is not run twice);
 *   - ms per inversion and per full edit;
 *   - the share of an edit's wall time spent outside onnxruntime.
 */
import type { CliContext } from '../cli-context.js';
import { parseArgs, UsageError } from '../parse-args.js';
import { BENCH } from '../command-specs.js';
import { openModel } from '../open-model.js';
import { reportEngineError } from '../report-error.js';
import { GaussianRng } from '../../engine/diffusion/gaussian-rng.js';
import { planEdit } from '../../engine/pipeline/edit-plan.js';
import { inversionTrajectory, runEdit } from '../../engine/pipeline/run-edit.js';
import { runToCompletion } from '../../engine/diffusion/batch-runner.js';
import { parseRecipe } from '../../engine/recipe/parse-recipe.js';
import { decodeDirection, encodeDirection } from '../../engine/directions/direction-file.js';

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function timeIt(repeat: number, fn: () => Promise<unknown>): Promise<number> {
  await fn(); // warm-up: first calls allocate arenas and pick kernels
  const times: number[] = [];
  for (let i = 0; i < repeat; i++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  return median(times);
}

export async function benchCommand(argv: string[], ctx: CliContext): Promise<number> {
  if (argv[0] === 'service') return (await import('./bench-service.js')).benchServiceCommand(argv.slice(1), ctx);
  if (argv[0] === 'load') return (await import('./bench-load.js')).benchLoadCommand(argv.slice(1), ctx);
  const { flags } = parseArgs(argv, BENCH.flags);
  const int = (v: unknown, dflt: number, name: string) => {
    const n = v === undefined ? dflt : Number(v);
    if (!Number.isInteger(n) || n < 1 || n > 1000) throw new UsageError(`--${name} must be a whole number from 1 to 1000`);
    return n;
  };
  const B = int(flags.batch, 4, 'batch');
  const repeat = int(flags.repeat, 5, 'repeat');
  try {
    const model = await openModel(ctx, flags.model as string | undefined);
    try {
      const m = model.manifest;
      const steps = int(flags.steps, m.defaults.generationSteps, 'steps');
      const R = m.resolution;
      const unet = model.unet;
      const rng = new GaussianRng(1);
      const rows: { name: string; ms: number; note?: string }[] = [];
      const call = async (b: number, e: number) => {
        const x = rng.fillNormal(new Float32Array(b * 3 * R * R));
        const t = Float32Array.from({ length: b }, (_, i) => 500 + i);
        const dh = rng.fillNormal(new Float32Array(e * unet.hSize));
        // Copies: a call hands its arrays over to the inference worker.
        return timeIt(repeat, () => unet.run(x.slice(), t.slice(), dh.slice(), b, e));
      };
      const plain1 = await call(1, 0);
      const edit1 = await call(1, 1);
      const plainB = await call(B, 0);
      const editB = await call(B, B);
      rows.push({ name: 'UNet call, B=1, E=0', ms: plain1 });
      rows.push({ name: 'UNet call, B=1, E=1', ms: edit1, note: `edit/plain ${(edit1 / plain1).toFixed(2)} (target ≤ 1.7)` });
      rows.push({ name: `UNet call, B=${B}, E=0`, ms: plainB, note: `${(plainB / B).toFixed(1)} ms/sample, ${((plain1 * B) / plainB).toFixed(2)}× batch speed-up` });
      rows.push({ name: `UNet call, B=${B}, E=${B}`, ms: editB, note: `edit/plain ${(editB / plainB).toFixed(2)}` });

      // A synthetic global direction, so an edit exercises the edited decoder pass whatever is installed.
      const size = unet.hSize;
      const dir = decodeDirection(
        encodeDirection({ meta: { name: 'bench', description: 'random' }, timesteps: Int32Array.from([0]), deltaH: rng.fillNormal(new Float32Array(size)), hspace: m.hspace }),
        'bench',
        m.hspace,
      );
      const plan = planEdit(m, parseRecipe(`bench:0.5 steps:${steps}`, { directions: ['bench'] }), () => dir);
      const x0 = rng.fillNormal(new Float32Array(3 * R * R));
      const inv = await timeIt(Math.min(repeat, 3), () => runToCompletion(unet, [inversionTrajectory(x0, plan, model.alphasBar, m.schedule.trainSteps - 1)]));
      // Refined inversion evaluates each step 1 + refinement times (InversionTrajectory).
      rows.push({ name: `inversion (${(steps - 1) * (1 + plan.inversionRefinement)} calls)`, ms: inv });
      await runEdit(unet, model.alphasBar, x0, plan);
      const before = unet.inferenceMs;
      const wallStart = performance.now();
      const edits = Math.min(repeat, 3);
      for (let i = 0; i < edits; i++) await runEdit(unet, model.alphasBar, x0, plan);
      const wall = (performance.now() - wallStart) / edits;
      const inOrt = (unet.inferenceMs - before) / edits;
      const outside = (wall - inOrt) / wall;
      rows.push({ name: `edit (inversion + ${steps} steps, t_edit ${plan.tEdit})`, ms: wall, note: `${(outside * 100).toFixed(1)} % outside onnxruntime (target ≤ 5 %)` });

      const result = { model: m.id, resolution: R, hspace: m.hspace, provider: unet.provider, batch: B, repeat, steps, rows };
      if (flags.json) ctx.out.write(JSON.stringify(result, null, 2) + '\n');
      else {
        ctx.out.write(`model ${m.id} (${R}×${R}, h ${m.hspace.join('×')}), provider ${unet.provider}, median of ${repeat}\n\n`);
        ctx.out.write(`| measurement | ms | note |\n|---|---:|---|\n`);
        for (const r of rows) ctx.out.write(`| ${r.name} | ${r.ms.toFixed(1)} | ${r.note ?? ''} |\n`);
      }
      return 0;
    } finally {
      await model.close();
    }
  } catch (e) {
    return reportEngineError(ctx, 'bench', e);
  }
}
