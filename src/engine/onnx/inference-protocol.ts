/**
 * The inference worker's message interface (docs/scaling.md, "The inference worker"). The engine's
 * main thread and the worker exchange four requests (load a graph, load a direction's h-net for it, run
 * it, release it with its h-nets) and one answer per request, matched by `id`. Tensors travel as Float32Arrays whose ArrayBuffers are in the
 * transfer list, so a UNet batch crosses the boundary without being copied: the sender's buffer is
 * detached and the receiver owns it.
 *
 * Nothing here is specific to worker_threads: the same messages could go over a socket to another host
 * (the scale-out, issue #33) with the tensors as binary frames.
 */
import type { EngineErrorCode } from '../errors.js';
import type { HNet } from '../directions/h-net.js';
import type { HNetRows } from '../directions/h-net-rows.js';
import type { ExecutionProvider } from './execution-provider.js';

/** How a graph's session is created. */
export interface GraphOptions {
  /** The provider to try first; a session that cannot start it falls back to CPU (open-session.ts). */
  readonly provider: ExecutionProvider;
  /** onnxruntime intraOpNumThreads; 0 leaves it to onnxruntime. */
  readonly intraOpThreads: number;
  /** onnxruntime's log severity (3 = errors only: the BlazeFace graph warns about unused initialisers). */
  readonly logSeverity?: 0 | 1 | 2 | 3 | 4;
}

/** One float32 tensor. */
export interface TensorData {
  readonly data: Float32Array;
  readonly dims: readonly number[];
}

/** A declared input or output, as onnxruntime reports it. */
export interface ValueInfo {
  readonly name: string;
  readonly isTensor: boolean;
  /** Element type ('float32', ...); '' for non-tensors. */
  readonly type: string;
  /** Declared dims: numbers, names of symbolic dims, or empty when the graph declares no shape. */
  readonly shape: readonly (number | string)[];
}

export interface GraphInfo {
  readonly inputs: readonly ValueInfo[];
  readonly outputs: readonly ValueInfo[];
  /** The provider the session runs on (cpu after a fallback), and why the asked-for one was not used. */
  readonly provider: ExecutionProvider;
  readonly fallback?: string;
}

/**
 * h-net terms to add into rows of one feed before the graph runs (a direction's f_t(h), h-net-rows.ts):
 * the UNet's delta_h. N names a net: an HNet object on the main thread, the id it was loaded under
 * (`loadHNet`) in a message.
 */
export interface FeedHNets<N = HNet> extends HNetRows<N> {
  readonly feed: string;
  /** [C,H,W] of the feed's rows and of h. */
  readonly hspace: readonly [number, number, number];
}

export type WorkerRequest =
  | { readonly op: 'load'; readonly id: number; readonly graph: number; readonly path: string; readonly options: GraphOptions }
  /** A direction's h-net, kept with `graph` until that graph is released; `net` is an id chosen by the host. */
  | { readonly op: 'loadHNet'; readonly id: number; readonly graph: number; readonly net: number; readonly weights: HNet }
  | { readonly op: 'run'; readonly id: number; readonly graph: number; readonly feeds: Readonly<Record<string, TensorData>>; readonly hNets?: FeedHNets<number> }
  | { readonly op: 'release'; readonly id: number; readonly graph: number };

export interface WorkerFailure {
  readonly code: EngineErrorCode;
  readonly message: string;
}

/** Run times: inside onnxruntime, and adding the h-net rows into the feed before it (0 without). */
export interface RunTimes {
  readonly runMs: number;
  readonly hNetMs: number;
}

export type WorkerReply =
  | { readonly id: number; readonly ok: true; readonly info: GraphInfo }
  /** hNetsHeld: h-nets the worker holds now, over all graphs (after a loadHNet or a release). */
  | { readonly id: number; readonly ok: true; readonly hNetsHeld: number; readonly released?: true }
  | ({ readonly id: number; readonly ok: true; readonly outputs: Readonly<Record<string, TensorData>> } & RunTimes)
  | { readonly id: number; readonly ok: false; readonly error: WorkerFailure };

/** The ArrayBuffers behind a set of tensors, each once (a transfer list may not name one twice). */
export function tensorBuffers(tensors: Iterable<TensorData>): ArrayBuffer[] {
  const seen = new Set<ArrayBuffer>();
  for (const t of tensors) {
    const b = t.data.buffer;
    // A SharedArrayBuffer is shared, not transferred; an empty one need not travel.
    if (b instanceof ArrayBuffer && b.byteLength > 0) seen.add(b);
  }
  return [...seen];
}

/** A loaded graph, wherever it runs: the engine's sessions (UNet, face detector, attribute reader) use only this. */
export interface InferenceGraph {
  readonly info: GraphInfo;
  /**
   * Runs the graph, first adding `hNets` into their feed where the graph runs (the worker, or this thread
   * inline). The feeds' and hNets.h's buffers are handed over (the worker path transfers them, leaving the
   * caller's arrays empty): a caller that reads one afterwards passes a copy.
   */
  run(feeds: Readonly<Record<string, TensorData>>, hNets?: FeedHNets): Promise<{ outputs: Record<string, TensorData> } & RunTimes>;
  release(): Promise<void>;
}

/** Where graphs are loaded: on the calling thread ('inline') or in the inference worker ('worker'). */
export interface InferenceBackend {
  readonly mode: 'inline' | 'worker';
  readonly intraOpThreads: number;
  load(path: string, options: Omit<GraphOptions, 'intraOpThreads'>): Promise<InferenceGraph>;
  /** Releases every graph and, for the worker, ends it. */
  close(): Promise<void>;
}
