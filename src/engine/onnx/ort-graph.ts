/**
 * One ONNX graph in onnxruntime-node on the thread that loads it. The inference worker holds these;
 * the 'inline' backend (the old in-thread path, kept as the benchmark baseline) holds them on the
 * engine's main thread, where a run blocks the event loop for as long as it computes: onnxruntime-node's
 * run() only defers the native call with setImmediate (microsoft/onnxruntime#19611).
 */
import * as ort from 'onnxruntime-node';
import { existsSync } from 'node:fs';
import { EngineError, asEngineError } from '../errors.js';
import type { HNet } from '../directions/h-net.js';
import { HNetSession, addHNetRowsOrt } from './h-net-session.js';
import type { FeedHNets, GraphInfo, GraphOptions, InferenceBackend, InferenceGraph, RunTimes, TensorData, ValueInfo } from './inference-protocol.js';
import { openSession } from './open-session.js';

function valueInfo(m: ort.InferenceSession.ValueMetadata): ValueInfo {
  return m.isTensor ? { name: m.name, isTensor: true, type: m.type, shape: [...m.shape] } : { name: m.name, isTensor: false, type: '', shape: [] };
}

export class OrtGraph implements InferenceGraph {
  /** The h-net sessions of the nets used with this graph (h-net-session.ts), released with it. */
  private readonly hNetSessions = new Map<HNet, Promise<HNetSession>>();

  private constructor(
    private readonly session: ort.InferenceSession,
    readonly info: GraphInfo,
    private readonly intraOpThreads: number,
  ) {}

  static async load(path: string, options: GraphOptions): Promise<OrtGraph> {
    if (!existsSync(path)) throw new EngineError('MODEL_NOT_FOUND', `ONNX graph ${path} is missing`, { path });
    try {
      const { session, provider, fallback } = await openSession(path, {
        provider: options.provider,
        ...(options.intraOpThreads > 0 ? { threads: options.intraOpThreads } : {}),
        ...(options.logSeverity !== undefined ? { logSeverity: options.logSeverity } : {}),
      });
      const info: GraphInfo = { inputs: session.inputMetadata.map(valueInfo), outputs: session.outputMetadata.map(valueInfo), provider, ...(fallback ? { fallback } : {}) };
      return new OrtGraph(session, info, options.intraOpThreads);
    } catch (e) {
      throw asEngineError(e, 'MODEL_INVALID', `${path} is not a loadable ONNX graph`);
    }
  }

  async run(feeds: Readonly<Record<string, TensorData>>, hNets?: FeedHNets): Promise<{ outputs: Record<string, TensorData> } & RunTimes> {
    let hNetMs = 0;
    if (hNets) {
      const feed = feeds[hNets.feed];
      if (!feed) throw new EngineError('INFERENCE_FAILED', `h-net rows name the feed "${hNets.feed}", which this run does not have`);
      const start = performance.now();
      await addHNetRowsOrt(hNets, feed.data, hNets.hspace, (net) => this.hNetSession(net, hNets.hspace[0]));
      hNetMs = performance.now() - start;
    }
    const tensors: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(feeds)) tensors[name] = new ort.Tensor('float32', t.data, t.dims);
    const start = performance.now();
    let out: ort.InferenceSession.ReturnType;
    try {
      out = await this.session.run(tensors);
    } catch (e) {
      throw asEngineError(e, 'INFERENCE_FAILED', 'onnxruntime run failed');
    }
    const runMs = performance.now() - start;
    const outputs: Record<string, TensorData> = {};
    for (const [name, v] of Object.entries(out)) {
      if (!(v.data instanceof Float32Array)) throw new EngineError('MODEL_MISMATCH', `output "${name}" is ${v.type}, not float32`);
      outputs[name] = { data: v.data, dims: [...v.dims] };
    }
    return { outputs, runMs, hNetMs };
  }

  /** The net's session, opened the first time a run uses it (same thread count as this graph's). */
  private hNetSession(net: HNet, channels: number): Promise<HNetSession> {
    let s = this.hNetSessions.get(net);
    if (!s) {
      s = HNetSession.open(net, channels, { intraOpThreads: this.intraOpThreads });
      this.hNetSessions.set(net, s);
      s.catch(() => this.hNetSessions.delete(net)); // the next run tries again
    }
    return s;
  }

  async release(): Promise<void> {
    const nets = [...this.hNetSessions.values()];
    this.hNetSessions.clear();
    for (const s of nets) await s.then((x) => x.release(), () => undefined);
    await this.session.release();
  }
}

/** The old path: graphs on the calling thread. */
export function inlineBackend(intraOpThreads: number): InferenceBackend {
  const graphs = new Set<OrtGraph>();
  return {
    mode: 'inline',
    intraOpThreads,
    async load(path, options) {
      const g = await OrtGraph.load(path, { ...options, intraOpThreads });
      graphs.add(g);
      return {
        info: g.info,
        run: (feeds, hNets) => g.run(feeds, hNets),
        release: async () => {
          if (graphs.delete(g)) await g.release();
        },
      };
    },
    async close() {
      for (const g of graphs) await g.release();
      graphs.clear();
    },
  };
}
