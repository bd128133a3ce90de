/**
 * A model package's attribute reader (attributes.onnx): image [B,3,R,R] in [-1,1] → one output per
 * attribute: scalars [B] (probabilities, or smile in −1..1) and class probabilities [B,K]. The default
 * model ships one (tools/asyrp_tools/reader.py); `asyrp eval` uses it to judge edits exactly.
 */
import * as ort from 'onnxruntime-node';
import { existsSync } from 'node:fs';
import { EngineError, asEngineError } from '../errors.js';

/** Per image: scalar attributes as numbers, class attributes as probability vectors. */
export type AttributeReading = Record<string, number | number[]>;

export class AttributeReader {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly resolution: number,
  ) {}

  static async load(path: string, resolution: number): Promise<AttributeReader> {
    if (!existsSync(path)) throw new EngineError('MODEL_NOT_FOUND', `attribute reader ${path} is missing`, { path });
    try {
      const session = await ort.InferenceSession.create(path, { executionProviders: ['cpu'] });
      if (!session.inputNames.includes('image')) {
        throw new EngineError('MODEL_MISMATCH', `${path}: the reader's input must be "image"; it has ${session.inputNames.join(', ')}`);
      }
      return new AttributeReader(session, resolution);
    } catch (e) {
      throw asEngineError(e, 'MODEL_INVALID', `${path} is not a loadable attribute reader`);
    }
  }

  get outputs(): readonly string[] {
    return this.session.outputNames;
  }

  /** Reads B images given as one [B,3,R,R] tensor. */
  async read(images: Float32Array, batch: number): Promise<AttributeReading[]> {
    const R = this.resolution;
    const out = await this.session.run({ image: new ort.Tensor('float32', images, [batch, 3, R, R]) });
    const readings: AttributeReading[] = Array.from({ length: batch }, () => ({}));
    for (const name of this.session.outputNames) {
      const t = out[name]!;
      const data = t.data as Float32Array;
      const per = data.length / batch;
      for (let b = 0; b < batch; b++) readings[b]![name] = per === 1 ? data[b]! : Array.from(data.subarray(b * per, (b + 1) * per));
    }
    return readings;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
