/**
 * The inference worker's entry (a worker_threads worker started by inference-host.ts). It holds the
 * onnxruntime sessions, and the h-nets of the directions used with them (added into a run's delta_h rows
 * here, just before the onnxruntime call, so that they cost the engine's main thread nothing), and answers the requests of inference-protocol.ts one at a time, in order: a
 * run blocks this thread while it computes, which is the point, since the engine's main thread (HTTP
 * API, job bookkeeping) no longer waits on it.
 */
import { getPriority, setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { EngineError, asEngineError } from '../errors.js';
import type { HNet } from '../directions/h-net.js';
import { tensorBuffers, type FeedHNets, type WorkerReply, type WorkerRequest } from './inference-protocol.js';
import { OrtGraph } from './ort-graph.js';

const port = parentPort;
if (!port) throw new Error('inference-worker.ts runs as a worker thread (see inference-host.ts)');

const data = workerData as { stop: SharedArrayBuffer; nice?: number };

/**
 * Set to 1 by the host's kill(). A worker thread must not be terminated inside onnxruntime's native run
 * (onnxruntime-node then throws from C++ and the whole process aborts), so the worker ends itself at the
 * next safe point: when a run returns (before answering it) or when a message arrives.
 */
const stopFlag = new Int32Array(data.stop);

/**
 * Lower this thread's priority before any onnxruntime session exists: on Linux the nice value belongs
 * to the thread (setpriority with pid 0 is the calling thread), and the intra-op threads onnxruntime
 * creates with a session inherit it, so the engine's event loop wins the CPU when both want it. The value
 * is relative to the engine's own (an engine started under `nice` keeps the gap; 19 is the floor).
 * Elsewhere pid 0 would be the whole process, so it is left alone there.
 */
if (process.platform === 'linux' && data.nice) {
  try {
    setPriority(Math.min(19, getPriority() + data.nice));
  } catch {
    // Not allowed here (a sandbox's seccomp filter): inference runs at the engine's priority, as before.
  }
}

function exitIfAsked(): void {
  if (Atomics.load(stopFlag, 0) === 1) process.exit(1);
}

/** Each loaded graph, with the h-nets loaded for it (released with it). */
const graphs = new Map<number, { readonly ort: OrtGraph; readonly nets: Map<number, HNet> }>();

function graphOf(id: number) {
  const g = graphs.get(id);
  if (!g) throw new EngineError('INFERENCE_FAILED', `graph ${id} is not loaded in this worker`);
  return g;
}

function hNetsHeld(): number {
  let n = 0;
  for (const g of graphs.values()) n += g.nets.size;
  return n;
}

/** The run's h-net rows with each net id resolved to the weights loaded for this graph. */
function resolveNets(hNets: FeedHNets<number>, nets: ReadonlyMap<number, HNet>): FeedHNets {
  const rows = hNets.rows.map((r) => ({
    ...r,
    terms: r.terms.map((term) => {
      const net = nets.get(term.net);
      if (!net) throw new EngineError('INFERENCE_FAILED', `h-net ${term.net} is not loaded for this graph`);
      return { net, weight: term.weight };
    }),
  }));
  return { ...hNets, rows };
}
// Requests are handled strictly in arrival order: a load must finish before a run of the same graph.
let chain: Promise<void> = Promise.resolve();

async function handle(req: WorkerRequest): Promise<{ reply: WorkerReply; transfer: ArrayBuffer[] }> {
  try {
    switch (req.op) {
      case 'load': {
        const g = await OrtGraph.load(req.path, req.options);
        graphs.set(req.graph, { ort: g, nets: new Map() });
        return { reply: { id: req.id, ok: true, info: g.info }, transfer: [] };
      }
      case 'loadHNet': {
        graphOf(req.graph).nets.set(req.net, req.weights);
        return { reply: { id: req.id, ok: true, hNetsHeld: hNetsHeld() }, transfer: [] };
      }
      case 'run': {
        const g = graphOf(req.graph);
        const { outputs, runMs, hNetMs } = await g.ort.run(req.feeds, req.hNets ? resolveNets(req.hNets, g.nets) : undefined);
        exitIfAsked();
        return { reply: { id: req.id, ok: true, outputs, runMs, hNetMs }, transfer: tensorBuffers(Object.values(outputs)) };
      }
      case 'release': {
        const g = graphs.get(req.graph);
        graphs.delete(req.graph);
        await g?.ort.release();
        return { reply: { id: req.id, ok: true, released: true, hNetsHeld: hNetsHeld() }, transfer: [] };
      }
    }
  } catch (e) {
    const err = asEngineError(e, 'INFERENCE_FAILED', 'inference worker');
    return { reply: { id: req.id, ok: false, error: { code: err.code, message: err.message } }, transfer: [] };
  }
}

function send(reply: WorkerReply, transfer: ArrayBuffer[]): void {
  try {
    port!.postMessage(reply, transfer);
  } catch {
    // A buffer that cannot be transferred (one onnxruntime keeps) is copied instead.
    port!.postMessage(reply);
  }
}

port.on('message', (req: WorkerRequest | { op: 'exit' }) => {
  exitIfAsked();
  if (req.op === 'exit') return;
  chain = chain.then(async () => {
    exitIfAsked();
    const { reply, transfer } = await handle(req);
    send(reply, transfer);
  });
});
