/**
 * Opens the configured inference backend: 'worker' (default) runs every graph in the inference worker,
 * 'inline' on the calling thread (the old path, kept as the benchmark's baseline). The CLI's one-shot
 * commands follow the same setting; a library caller that passes no backend gets 'inline'.
 */
import type { InferenceBackend } from './inference-protocol.js';
import { InferenceHost } from './inference-host.js';

export type InferenceMode = 'worker' | 'inline';

export interface InferenceSettings {
  readonly mode: InferenceMode;
  /** onnxruntime intraOpNumThreads; 0 leaves it to onnxruntime. */
  readonly intraOpThreads: number;
  /** Nice value of the worker thread and onnxruntime's threads (worker mode, Linux); 0 or absent: unchanged. */
  readonly nice?: number;
}

export async function openInference(settings: InferenceSettings, log?: (line: string) => void): Promise<InferenceBackend> {
  if (settings.mode === 'inline') {
    // Loaded only when asked for: in worker mode the main thread never loads onnxruntime.
    const { inlineBackend } = await import('./ort-graph.js');
    return inlineBackend(settings.intraOpThreads);
  }
  return new InferenceHost({ intraOpThreads: settings.intraOpThreads, nice: settings.nice ?? 0, ...(log ? { log } : {}) });
}
