/**
 * The UNet graph in onnxruntime-node: x [B,3,R,R], t [B], delta_h [E,C,H,W] → eps [B,3,R,R],
 * eps_edit [E,3,R,R], h [B,C,H,W]. The graph's declared inputs and outputs are checked against model.json
 * when it is loaded, and any difference is named. A call's h-net rows are added into delta_h where the
 * graph runs (the inference worker, or this thread inline), just before it.
 */
import { existsSync } from 'node:fs';
import { EngineError, asEngineError } from '../errors.js';
import type { UNet, UNetOutputs } from '../diffusion/batch-runner.js';
import type { HNetRows } from '../directions/h-net-rows.js';
import type { ExecutionProvider } from './execution-provider.js';
import type { InferenceBackend, InferenceGraph, TensorData, ValueInfo } from './inference-protocol.js';
import { openInference } from './open-inference.js';

interface IoSpec {
  readonly name: string;
  /** Expected dims; null where the dimension is dynamic (batch). */
  readonly dims: readonly (number | null)[];
}

export interface UNetSessionOptions {
  readonly provider: ExecutionProvider;
  /** Where the graph runs; an inline backend with onnxruntime's default threads when absent. */
  readonly inference?: InferenceBackend;
}

export class UNetSession implements UNet {
  readonly sampleSize: number;
  readonly hSize: number;
  /** Time spent inside onnxruntime's run(), for the benchmark's overhead figure. */
  inferenceMs = 0;
  /** Time spent adding h-net rows into delta_h (in the worker, or on this thread inline). */
  hNetMs = 0;
  /** Calls returned (answered or failed), and calls started and not yet returned. */
  calls = 0;
  inFlight = 0;
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly session: InferenceGraph,
    readonly resolution: number,
    readonly hspace: readonly [number, number, number],
    /** The provider the session runs on (cpu after a fallback). */
    readonly provider: ExecutionProvider,
    /** Why the configured provider was not used (one line); absent when it was. */
    readonly fallback?: string,
  ) {
    this.sampleSize = 3 * resolution * resolution;
    this.hSize = hspace[0] * hspace[1] * hspace[2];
  }

  static async load(path: string, resolution: number, hspace: readonly [number, number, number], opts: UNetSessionOptions): Promise<UNetSession> {
    if (!existsSync(path)) throw new EngineError('MODEL_NOT_FOUND', `UNet graph ${path} is missing`, { path });
    const inference = opts.inference ?? (await openInference({ mode: 'inline', intraOpThreads: 0 }));
    let session: InferenceGraph;
    try {
      session = await inference.load(path, { provider: opts.provider });
    } catch (e) {
      throw asEngineError(e, 'MODEL_INVALID', `${path} is not a loadable ONNX graph`);
    }
    const [C, H, W] = hspace;
    const R = resolution;
    const problems = [
      ...checkIo('input', session.info.inputs, [
        { name: 'x', dims: [null, 3, R, R] },
        { name: 't', dims: [null] },
        { name: 'delta_h', dims: [null, C, H, W] },
      ]),
      ...checkIo('output', session.info.outputs, [
        { name: 'eps', dims: [null, 3, R, R] },
        { name: 'eps_edit', dims: [null, 3, R, R] },
        { name: 'h', dims: [null, C, H, W] },
      ]),
    ];
    if (problems.length) {
      await session.release();
      throw new EngineError('MODEL_MISMATCH', `${path} does not match model.json:\n- ${problems.join('\n- ')}`, { path, problems });
    }
    return new UNetSession(session, resolution, hspace, session.info.provider, session.info.fallback);
  }

  run(x: Float32Array, t: Float32Array, deltaH: Float32Array, batch: number, edited: number, hNets?: HNetRows): Promise<UNetOutputs> {
    // One call at a time per session: concurrent runs would only compete for the same cores or GPU.
    const next = this.queue.then(() => this.runNow({ x, t, deltaH, hNets }, batch, edited));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async runNow(
    { x, t, deltaH, hNets }: { x: Float32Array; t: Float32Array; deltaH: Float32Array; hNets: HNetRows | undefined },
    B: number,
    E: number,
  ): Promise<UNetOutputs> {
    const R = this.resolution;
    const [C, H, W] = this.hspace;
    if (x.length !== B * this.sampleSize || t.length !== B || deltaH.length !== E * this.hSize || E > B) {
      throw new EngineError('INFERENCE_FAILED', `bad UNet batch: B=${B}, E=${E}, x=${x.length}, t=${t.length}, delta_h=${deltaH.length}`);
    }
    // The inputs are handed over (the worker path transfers their buffers): callers build them per call.
    const feeds: Record<string, TensorData> = {
      x: { data: x, dims: [B, 3, R, R] },
      t: { data: t, dims: [B] },
      delta_h: { data: deltaH, dims: [E, C, H, W] },
    };
    let out: Record<string, TensorData>;
    this.inFlight++;
    try {
      const r = await this.session.run(feeds, hNets && hNets.rows.length > 0 ? { feed: 'delta_h', hspace: this.hspace, ...hNets } : undefined);
      out = r.outputs;
      this.inferenceMs += r.runMs;
      this.hNetMs += r.hNetMs;
    } catch (e) {
      throw asEngineError(e, 'INFERENCE_FAILED', `UNet call failed (B=${B}, E=${E})`);
    } finally {
      this.inFlight--;
      this.calls++;
    }
    const take = (name: string, size: number): Float32Array => {
      const v = out[name];
      if (!v || !(v.data instanceof Float32Array) || v.data.length !== size) {
        throw new EngineError('MODEL_MISMATCH', `UNet output "${name}" has ${v ? v.data.length : 0} values; expected ${size}`);
      }
      return v.data;
    };
    return { eps: take('eps', B * this.sampleSize), epsEdit: take('eps_edit', E * this.sampleSize), h: take('h', B * this.hSize) };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

function checkIo(kind: 'input' | 'output', actual: readonly ValueInfo[], expected: readonly IoSpec[]): string[] {
  const problems: string[] = [];
  const names = actual.map((m) => m.name);
  for (const spec of expected) {
    const m = actual.find((a) => a.name === spec.name);
    if (!m) {
      problems.push(`${kind} "${spec.name}" is missing (the graph's ${kind}s are: ${names.join(', ')})`);
      continue;
    }
    if (!m.isTensor || m.type !== 'float32') {
      problems.push(`${kind} "${spec.name}" must be a float32 tensor; it is ${m.isTensor ? m.type : 'not a tensor'}`);
      continue;
    }
    // An empty shape means the graph does not declare one; nothing to compare then.
    if (m.shape.length === 0) continue;
    if (m.shape.length !== spec.dims.length) {
      problems.push(`${kind} "${spec.name}" has rank ${m.shape.length} [${m.shape.join(',')}]; expected rank ${spec.dims.length}`);
      continue;
    }
    spec.dims.forEach((want, i) => {
      const got = m.shape[i];
      if (want !== null && typeof got === 'number' && got !== want) {
        problems.push(`${kind} "${spec.name}" dimension ${i} is ${got}; model.json needs ${want}`);
      }
    });
  }
  for (const n of names) if (!expected.some((s) => s.name === n)) problems.push(`unexpected ${kind} "${n}"`);
  return problems;
}
