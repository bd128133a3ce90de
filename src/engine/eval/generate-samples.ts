/**
 * Unconditional samples from noise, and how many of them the model's attribute reader takes for faces
 * (issue #3's "samples from noise read as faces" check, measured through the engine rather than Python).
 *
 * Sample k starts from x_T ~ N(0, I) drawn by GaussianRng(seed + k), so a sample depends only on its own
 * seed: the same --seed gives the same samples whatever the batch size, and sample k of an n = 20 run is
 * sample k of an n = 100 run.
 */
import { EngineError } from '../errors.js';
import { runToCompletion } from '../diffusion/batch-runner.js';
import { GaussianRng } from '../diffusion/gaussian-rng.js';
import { timestepSequence } from '../diffusion/schedule.js';
import { GenerationTrajectory } from '../diffusion/trajectory.js';
import type { LoadedModel } from '../loaded-model.js';
import type { AttributeReader } from '../onnx/attribute-reader.js';

/** A sample counts as a face when the reader's face probability is above this. */
export const FACE_THRESHOLD = 0.5;

export interface GenerateOptions {
  readonly n: number;
  readonly steps: number;
  readonly seed: number;
  readonly batch: number;
  readonly onProgress?: (done: number, total: number) => void;
}

/** The standard-normal x_T of sample `seed + k`. */
export function initialNoise(seed: number, size: number): Float32Array {
  return new GaussianRng(seed).fillNormal(new Float32Array(size));
}

/**
 * Plain deterministic DDIM (η = 0) from x_T down to x_0: no Δh (deltaHAt is always null, so tEdit never
 * matters) and no quality boosting (tBoost = 0, so η is 0 at every step and no noise is ever drawn).
 * Returns the raw model outputs (not clamped), one [3·R·R] array per sample.
 */
export async function generateFromNoise(model: LoadedModel, opts: GenerateOptions): Promise<Float32Array[]> {
  const seq = timestepSequence(opts.steps, model.manifest.schedule.trainSteps - 1);
  const size = model.unet.sampleSize;
  const noBoostingNoise = (): Float32Array => {
    // Unreachable with tBoost = 0; a call would mean the sampler is no longer plain DDIM.
    throw new EngineError('INFERENCE_FAILED', 'plain DDIM generation asked for boosting noise');
  };
  const out: Float32Array[] = [];
  for (let i = 0; i < opts.n; i += opts.batch) {
    const count = Math.min(opts.batch, opts.n - i);
    const trs = Array.from({ length: count }, (_, k) =>
      new GenerationTrajectory(initialNoise(opts.seed + i + k, size), seq, model.alphasBar, { tEdit: model.manifest.schedule.trainSteps, tBoost: 0, deltaHAt: () => null, noise: noBoostingNoise }),
    );
    await runToCompletion(model.unet, trs);
    out.push(...trs.map((t) => t.x));
    opts.onProgress?.(i + count, opts.n);
  }
  return out;
}

export interface FaceReadout {
  /** Share of samples with face probability > FACE_THRESHOLD. */
  readonly faceRate: number;
  readonly meanFaceScore: number;
  /** Per sample, in order. */
  readonly faceScores: number[];
}

/** Reads the face probability of every sample (clamped to [-1, 1], the range the reader was trained on). */
export async function readFaces(reader: AttributeReader, samples: readonly Float32Array[], batch: number): Promise<FaceReadout> {
  if (!reader.outputs.includes('face')) throw new EngineError('MODEL_INVALID', `the attribute reader has no "face" output (it has ${reader.outputs.join(', ')})`);
  const faceScores: number[] = [];
  for (let i = 0; i < samples.length; i += batch) {
    const chunk = samples.slice(i, i + batch);
    const size = chunk[0]!.length;
    const images = new Float32Array(chunk.length * size);
    chunk.forEach((x, k) => images.set(x.map((v) => Math.max(-1, Math.min(1, v))), k * size));
    for (const r of await reader.read(images, chunk.length)) faceScores.push(r.face as number);
  }
  const n = Math.max(1, faceScores.length);
  return {
    faceRate: faceScores.filter((s) => s > FACE_THRESHOLD).length / n,
    meanFaceScore: faceScores.reduce((a, b) => a + b, 0) / n,
    faceScores,
  };
}
