/**
 * A model package's attribute reader (attributes.onnx): image [B,3,R,R] in [-1,1] → one output per
 * attribute: scalars [B] (probabilities, or smile in −1..1) and class probabilities [B,K]. The default
 * model ships one (tools/asyrp_tools/reader.py); `asyrp eval` uses it to judge edits exactly.
 */
import { existsSync } from 'node:fs';
import { EngineError, asEngineError } from '../errors.js';
import type { InferenceBackend, InferenceGraph } from './inference-protocol.js';
import { openInference } from './open-inference.js';

/** Per image: scalar attributes as numbers, class attributes as probability vectors. */
export type AttributeReading = Record<string, number | number[]>;

export class AttributeReader {
  private constructor(
    private readonly session: InferenceGraph,
    readonly resolution: number,
  ) {}

  /** Loads the reader where `inference` runs graphs (the inference worker by default config); inline when absent. */
  static async load(path: string, resolution: number, inference?: InferenceBackend): Promise<AttributeReader> {
    if (!existsSync(path)) throw new EngineError('MODEL_NOT_FOUND', `attribute reader ${path} is missing`, { path });
    try {
      const backend = inference ?? (await openInference({ mode: 'inline', intraOpThreads: 0 }));
      const session = await backend.load(path, { provider: 'cpu' });
      const inputs = session.info.inputs.map((v) => v.name);
      if (!inputs.includes('image')) {
        await session.release();
        throw new EngineError('MODEL_MISMATCH', `${path}: the reader's input must be "image"; it has ${inputs.join(', ')}`);
      }
      return new AttributeReader(session, resolution);
    } catch (e) {
      throw asEngineError(e, 'MODEL_INVALID', `${path} is not a loadable attribute reader`);
    }
  }

  get outputs(): readonly string[] {
    return this.session.info.outputs.map((v) => v.name);
  }

  /** Reads B images given as one [B,3,R,R] tensor (handed over: the worker path transfers it). */
  async read(images: Float32Array, batch: number): Promise<AttributeReading[]> {
    const R = this.resolution;
    const { outputs: out } = await this.session.run({ image: { data: images, dims: [batch, 3, R, R] } });
    const readings: AttributeReading[] = Array.from({ length: batch }, () => ({}));
    for (const name of this.outputs) {
      const data = out[name]!.data;
      const per = data.length / batch;
      for (let b = 0; b < batch; b++) readings[b]![name] = per === 1 ? data[b]! : Array.from(data.subarray(b * per, (b + 1) * per));
    }
    return readings;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
