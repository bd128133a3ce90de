/**
 * The main thread's side of the inference worker: an InferenceBackend whose graphs live in a
 * worker_threads worker (inference-worker.ts) and are driven by the messages of inference-protocol.ts.
 * While a UNet call computes there, the engine's event loop keeps answering HTTP requests.
 *
 * Why a worker thread and not a child process: tensors move between threads by transferring their
 * ArrayBuffers (no copy, no serialisation), a child process copies every batch through a pipe (measured:
 * about 5x the time outside onnxruntime per batch-16 call, bench/inference-boundary-bench.ts), and the
 * worker shares the process's memory limits and lifetime, so nothing is left behind when the engine
 * exits (docs/scaling.md).
 *
 * A direction's h-net is loaded into the worker the first time a run needs it (its weights copied once and
 * transferred, then named by an id), kept with the graph it was used with, and released with that graph;
 * after that, a run's h-net rows carry only h, t and weights per row (one message per UNet call).
 *
 * A worker that dies (an uncaught error, a native abort that ends the thread, `kill()`) fails the calls
 * it had in flight with INFERENCE_FAILED (details.reason 'WORKER_EXITED') and is replaced on the next
 * call, which first loads every open graph again. Nothing retries a failed call: the engine fails the
 * affected jobs and goes on.
 */
import { Worker } from 'node:worker_threads';
import { EngineError } from '../errors.js';
import type { HNet } from '../directions/h-net.js';
import {
  tensorBuffers,
  type FeedHNets,
  type GraphInfo,
  type GraphOptions,
  type InferenceBackend,
  type InferenceGraph,
  type RunTimes,
  type TensorData,
  type WorkerReply,
  type WorkerRequest,
} from './inference-protocol.js';

type Request = WorkerRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

interface Pending {
  readonly resolve: (reply: WorkerReply & { ok: true }) => void;
  readonly reject: (e: EngineError) => void;
}

/** The worker's entry: the built .js next to this file, or the TypeScript bootstrap when running from src/. */
function workerEntry(): URL {
  const here = import.meta.url;
  return here.endsWith('.ts') ? new URL('./inference-worker-dev.mjs', here) : new URL('./inference-worker.js', here);
}

class WorkerGraph implements InferenceGraph {
  /** The worker generation this graph was loaded into, and that load. */
  loadedIn = -1;
  loading: Promise<void> = Promise.resolve();
  released = false;
  /** The id each h-net was loaded under, and the worker generation it was loaded into. */
  private readonly nets = new WeakMap<HNet, { id: number; loadedIn: number }>();

  constructor(
    private readonly host: InferenceHost,
    readonly id: number,
    readonly path: string,
    readonly options: GraphOptions,
    public info: GraphInfo,
  ) {}

  async run(feeds: Readonly<Record<string, TensorData>>, hNets?: FeedHNets): Promise<{ outputs: Record<string, TensorData> } & RunTimes> {
    if (this.released) throw new EngineError('INFERENCE_FAILED', `graph ${this.path} was released`);
    await this.host.ensureLoaded(this);
    const named = hNets ? await this.nameNets(hNets) : undefined;
    const tensors = [...Object.values(feeds), ...(hNets ? [{ data: hNets.h, dims: [] }] : [])];
    const reply = await this.host.request({ op: 'run', graph: this.id, feeds, ...(named ? { hNets: named } : {}) }, tensorBuffers(tensors));
    if (!('outputs' in reply)) throw new EngineError('INFERENCE_FAILED', 'the inference worker answered a run without outputs');
    return { outputs: { ...reply.outputs }, runMs: reply.runMs, hNetMs: reply.hNetMs };
  }

  /**
   * The rows with each net named by its id, after loading into the worker the nets it does not hold yet:
   * once per net and worker (a new worker after a crash gets them again), so a steady tick sends one message.
   */
  private async nameNets(hNets: FeedHNets): Promise<FeedHNets<number>> {
    const loads: Promise<unknown>[] = [];
    const idOf = (net: HNet): number => {
      let entry = this.nets.get(net);
      if (!entry) this.nets.set(net, (entry = { id: this.host.newNetId(), loadedIn: -1 }));
      if (entry.loadedIn !== this.loadedIn) {
        const e = entry;
        e.loadedIn = this.loadedIn;
        // A copy: the direction keeps its own arrays (inline runs and later jobs read them).
        const weights: HNet = { hidden: net.hidden, embed: net.embed, ...(net.kernel ? { kernel: net.kernel } : {}), w1: net.w1.slice(), b1: net.b1.slice(), wt: net.wt.slice(), w2: net.w2.slice() };
        const buffers = tensorBuffers([weights.w1, weights.b1, weights.wt, weights.w2].map((data) => ({ data, dims: [] })));
        loads.push(
          this.host.request({ op: 'loadHNet', graph: this.id, net: e.id, weights }, buffers).catch((err: unknown) => {
            e.loadedIn = -1; // the next run tries again
            throw err;
          }),
        );
      }
      return entry.id;
    };
    const rows = hNets.rows.map((r) => ({ row: r.row, t: r.t, terms: r.terms.map((term) => ({ net: idOf(term.net), weight: term.weight })) }));
    await Promise.all(loads);
    return { feed: hNets.feed, hspace: hNets.hspace, h: hNets.h, rows };
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await this.host.releaseGraph(this);
  }
}

export interface InferenceHostOptions {
  /** onnxruntime intraOpNumThreads for every graph; 0 leaves it to onnxruntime. */
  readonly intraOpThreads: number;
  /**
   * The worker thread's nice value (Linux: per thread, inherited by the onnxruntime threads it starts),
   * so the engine's event loop gets the CPU first when both want it. 0 or absent: unchanged.
   */
  readonly nice?: number;
  readonly log?: (line: string) => void;
}

export class InferenceHost implements InferenceBackend {
  readonly mode = 'worker' as const;
  readonly intraOpThreads: number;
  readonly nice: number;
  /** Workers started after one stopped unexpectedly. */
  restarts = 0;
  /** h-nets the worker holds, as it last reported (loaded with a graph, gone with its release or the worker). */
  hNetsInWorker = 0;
  private worker: Worker | null = null;
  private stopFlag: Int32Array | null = null;
  private generation = 0;
  private lastError: string | null = null;
  private nextId = 1;
  private nextGraph = 1;
  private nextNet = 1;
  private closed = false;
  private readonly pending = new Map<number, Pending>();
  private readonly graphs = new Set<WorkerGraph>();
  private readonly log: (line: string) => void;

  constructor(opts: InferenceHostOptions) {
    this.intraOpThreads = opts.intraOpThreads;
    this.nice = opts.nice ?? 0;
    this.log = opts.log ?? (() => undefined);
  }

  /** Calls sent to the worker and not yet answered. */
  get inFlight(): number {
    return this.pending.size;
  }

  async load(path: string, options: Omit<GraphOptions, 'intraOpThreads'>): Promise<InferenceGraph> {
    const graph = new WorkerGraph(this, this.nextGraph++, path, { ...options, intraOpThreads: this.intraOpThreads }, { inputs: [], outputs: [], provider: options.provider });
    await this.ensureLoaded(graph);
    this.graphs.add(graph);
    return graph;
  }

  /** Loads the graph into the current worker unless it is there already (after a restart it is not). */
  ensureLoaded(graph: WorkerGraph): Promise<void> {
    this.ensureWorker();
    if (graph.loadedIn !== this.generation) {
      graph.loadedIn = this.generation;
      graph.loading = this.request({ op: 'load', graph: graph.id, path: graph.path, options: graph.options }, []).then(
        (reply) => {
          if ('info' in reply) graph.info = reply.info;
        },
        (e: unknown) => {
          graph.loadedIn = -1; // the next call tries again
          throw e;
        },
      );
    }
    return graph.loading;
  }

  newNetId(): number {
    return this.nextNet++;
  }

  async releaseGraph(graph: WorkerGraph): Promise<void> {
    this.graphs.delete(graph);
    if (this.worker && graph.loadedIn === this.generation) await this.request({ op: 'release', graph: graph.id }, []);
  }

  request(msg: Request, transfer: ArrayBuffer[]): Promise<WorkerReply & { ok: true }> {
    if (this.closed) return Promise.reject(new EngineError('INFERENCE_FAILED', 'the inference worker is closed'));
    const worker = this.ensureWorker();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      // Only a worker with calls in flight keeps the process alive (a CLI that forgets close() still exits).
      if (this.pending.size === 1) worker.ref();
      worker.postMessage({ ...msg, id } as WorkerRequest, transfer);
    });
  }

  /**
   * Ends the worker as a crash would: its calls in flight fail and the next call starts a new one. A
   * native run cannot be interrupted, so a worker inside one ends when that run returns, without
   * answering it (inference-worker.ts, stopFlag). For a call that must be abandoned, and for the tests
   * that show the engine survives a dead worker.
   */
  kill(): void {
    if (!this.worker || !this.stopFlag) return;
    Atomics.store(this.stopFlag, 0, 1);
    this.worker.postMessage({ op: 'exit' });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    for (const g of [...this.graphs]) await g.release().catch(() => undefined);
    this.closed = true;
    const w = this.worker;
    if (!w) return;
    // Not terminate(): a run still in progress must return first (see kill()).
    const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()));
    // The idle worker is unref'd; without this the caller's event loop could empty while it awaits the
    // exit, and a CLI awaiting close() at top level would end with Node's "unsettled await" code 13.
    w.ref();
    this.kill();
    await exited;
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const stop = new SharedArrayBuffer(4);
    const w = new Worker(workerEntry(), { workerData: { stop, nice: this.nice } });
    this.stopFlag = new Int32Array(stop);
    this.generation++;
    this.lastError = null;
    w.on('message', (reply: WorkerReply) => this.onReply(w, reply));
    // An uncaught error in the worker arrives here, then 'exit'.
    w.on('error', (e) => (this.lastError = e.message));
    w.on('exit', (code) => this.onExit(w, code));
    w.unref();
    this.worker = w;
    return w;
  }

  private onReply(w: Worker, reply: WorkerReply): void {
    const p = this.pending.get(reply.id);
    if (!p) return;
    this.pending.delete(reply.id);
    if (this.pending.size === 0) w.unref();
    if (reply.ok && 'hNetsHeld' in reply) this.hNetsInWorker = reply.hNetsHeld;
    if (reply.ok) p.resolve(reply);
    else p.reject(new EngineError(reply.error.code, reply.error.message));
  }

  private onExit(w: Worker, code: number): void {
    if (this.worker !== w) return;
    this.worker = null;
    this.hNetsInWorker = 0;
    const why = this.lastError ? `an uncaught error: ${this.lastError}` : `exit code ${code}`;
    if (!this.closed) {
      this.restarts++;
      this.log(`the inference worker stopped (${why}); ${this.pending.size} call(s) failed; a new worker starts with the next call`);
    }
    const err = new EngineError('INFERENCE_FAILED', `the inference worker stopped during this call (${why})`, { reason: 'WORKER_EXITED', exitCode: code });
    const calls = [...this.pending.values()];
    this.pending.clear();
    for (const p of calls) p.reject(err);
  }
}
