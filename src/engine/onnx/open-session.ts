/**
 * Creates an onnxruntime session on the chosen execution provider, falling back to CPU with a one-line
 * reason when the provider cannot start here (WebGPU without an adapter, CUDA without its libraries).
 * The fallback is the engine's promise that a GPU setting never makes the bot unusable.
 */
import * as ort from 'onnxruntime-node';
import { sessionProviders, type ExecutionProvider } from './execution-provider.js';

export interface OpenedSession {
  readonly session: ort.InferenceSession;
  /** The provider the session runs on (cpu after a fallback). */
  readonly provider: ExecutionProvider;
  /** Why the chosen provider was not used; absent when it was. */
  readonly fallback?: string;
}

export interface OpenSessionOptions {
  readonly provider: ExecutionProvider;
  readonly threads?: number;
  /** onnxruntime's log severity; its default (warnings) when absent. */
  readonly logSeverity?: 0 | 1 | 2 | 3 | 4;
}

export async function openSession(path: string | Uint8Array, opts: OpenSessionOptions): Promise<OpenedSession> {
  const common: ort.InferenceSession.SessionOptions = {
    graphOptimizationLevel: 'all',
    ...(opts.threads ? { intraOpNumThreads: opts.threads } : {}),
    ...(opts.logSeverity !== undefined ? { logSeverityLevel: opts.logSeverity } : {}),
  };
  const create = (eps: string[]) => (typeof path === 'string' ? ort.InferenceSession.create(path, { ...common, executionProviders: eps }) : ort.InferenceSession.create(path, { ...common, executionProviders: eps }));
  if (opts.provider === 'cpu') return { session: await create(['cpu']), provider: 'cpu' };
  try {
    return { session: await create(sessionProviders(opts.provider)), provider: opts.provider };
  } catch (e) {
    const reason = providerFailure(opts.provider, e instanceof Error ? e.message : String(e));
    // A graph that CPU cannot load either is the model's fault, not the provider's: that error propagates.
    return { session: await create(['cpu']), provider: 'cpu', fallback: reason };
  }
}

/** One line on why a provider failed to start, from onnxruntime's (long, multi-line) message. */
export function providerFailure(provider: ExecutionProvider, message: string): string {
  if (provider === 'webgpu') {
    if (/adapter/i.test(message)) {
      return 'webgpu: no WebGPU adapter (Dawn found no Vulkan GPU it accepts; a software Vulkan such as lavapipe offers none); using cpu';
    }
    if (/not (supported|available|registered)|unknown|invalid/i.test(message) && /webgpu/i.test(message)) {
      return 'webgpu: this onnxruntime-node build has no webgpu backend; using cpu';
    }
  }
  if (provider === 'cuda') {
    const lib = /(lib[\w.+-]+\.so[\w.]*)/.exec(message)?.[1];
    if (lib) return `cuda: ${lib} could not be loaded (CUDA 12 and cuDNN 9 must be installed; see asyrp doctor); using cpu`;
  }
  const first = message.split('\n').map((l) => l.trim()).find(Boolean) ?? 'unknown error';
  return `${provider}: could not start (${first.length > 160 ? `${first.slice(0, 157)}...` : first}); using cpu`;
}

/** Backends this onnxruntime-node build lists, with whether each is bundled (webgpu) or needs an install (cuda). */
export function supportedBackends(): { name: string; bundled: boolean }[] {
  try {
    return ort.listSupportedBackends().map((b) => ({ name: b.name, bundled: b.bundled }));
  } catch {
    return [{ name: 'cpu', bundled: true }];
  }
}

export function webgpuBundled(): boolean {
  return supportedBackends().some((b) => b.name === 'webgpu' && b.bundled);
}

export function onnxruntimeVersion(): string {
  return ort.env.versions?.common ?? 'unknown';
}
