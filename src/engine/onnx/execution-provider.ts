/**
 * Chooses the onnxruntime execution provider. `auto` tries, in this order:
 *   1. cuda   — onnxruntime-node was installed with its CUDA provider library (not on the npm registry:
 *               `ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node`) and an NVIDIA device is present;
 *   2. webgpu — bundled with onnxruntime-node 1.30 on linux/x64 (Dawn over Vulkan), needs no download;
 *               tried when a GPU device node is present (/dev/nvidia*, /dev/dri/renderD*);
 *   3. cpu.
 * Whether WebGPU really has an adapter is only known when a session is created: open-session.ts falls
 * back to CPU then, with a one-line reason (a software Vulkan such as Mesa's lavapipe offers none).
 */
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
export type ExecutionProvider = 'cpu' | 'cuda' | 'webgpu';
/** The configured value (config/ executionProvider, ASYRP_EXECUTION_PROVIDER); the config schema has the same union. */
export type ExecutionProviderSetting = 'auto' | ExecutionProvider;

/** What the machine offers, gathered once; tests pass their own. */
export interface ProviderFacts {
  /** onnxruntime-node's bin/ has libonnxruntime_providers_cuda (the cuda12 install). */
  readonly cudaProviderInstalled: boolean;
  /** /dev/nvidia0 or /dev/nvidiactl. */
  readonly nvidiaDevice: boolean;
  /** A DRM render node (/dev/dri/renderD*): some GPU a Vulkan driver may drive. */
  readonly renderNode: boolean;
  /** listSupportedBackends() names webgpu as bundled. */
  readonly webgpuBundled: boolean;
}

/** The command that installs onnxruntime's CUDA libraries (CUDA 12, cuDNN 9 on the host). */
export const CUDA_REBUILD_COMMAND = 'ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node';

export function onnxruntimeDir(): string | null {
  try {
    return dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json'));
  } catch {
    return null;
  }
}

function cudaProviderInstalled(): boolean {
  const root = onnxruntimeDir();
  if (!root) return false;
  try {
    const stack = [join(root, 'bin')];
    while (stack.length) {
      const dir = stack.pop()!;
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        if (entry.isDirectory()) stack.push(join(dir, entry.name));
        else if (entry.name.startsWith('libonnxruntime_providers_cuda')) return true;
      }
    }
  } catch {
    return false;
  }
  return false;
}

function renderNodePresent(): boolean {
  try {
    return readdirSync('/dev/dri').some((n) => n.startsWith('renderD'));
  } catch {
    return false;
  }
}

export function providerFacts(webgpuBundled: boolean): ProviderFacts {
  return {
    cudaProviderInstalled: cudaProviderInstalled(),
    nvidiaDevice: existsSync('/dev/nvidia0') || existsSync('/dev/nvidiactl'),
    renderNode: renderNodePresent(),
    webgpuBundled,
  };
}

export interface ProviderChoice {
  readonly provider: ExecutionProvider;
  readonly reason: string;
}

export function chooseExecutionProvider(setting: ExecutionProviderSetting, facts: ProviderFacts): ProviderChoice {
  if (setting === 'cpu') return { provider: 'cpu', reason: 'configured' };
  if (setting === 'cuda') {
    return { provider: 'cuda', reason: facts.cudaProviderInstalled ? 'configured' : `configured, but the CUDA provider library is not installed (${CUDA_REBUILD_COMMAND})` };
  }
  if (setting === 'webgpu') return { provider: 'webgpu', reason: facts.webgpuBundled ? 'configured' : 'configured, but this onnxruntime-node build has no webgpu backend' };
  if (facts.cudaProviderInstalled && facts.nvidiaDevice) return { provider: 'cuda', reason: 'auto: CUDA provider installed and an NVIDIA GPU is present' };
  const gpu = facts.nvidiaDevice || facts.renderNode;
  if (facts.webgpuBundled && gpu) {
    return { provider: 'webgpu', reason: `auto: a GPU is present${facts.nvidiaDevice ? ` and CUDA's libraries are not installed (${CUDA_REBUILD_COMMAND} for CUDA)` : ''}; webgpu is bundled` };
  }
  if (!gpu) return { provider: 'cpu', reason: 'auto: no GPU device found' };
  return { provider: 'cpu', reason: 'auto: a GPU is present, but neither the CUDA provider nor the webgpu backend is installed' };
}

/** onnxruntime's provider list for a session: the chosen one first, CPU for any node it lacks. */
export function sessionProviders(provider: ExecutionProvider): string[] {
  return provider === 'cpu' ? ['cpu'] : [provider, 'cpu'];
}
