/**
 * Chooses the onnxruntime execution provider: CUDA when onnxruntime-node was installed with its CUDA
 * libraries and a GPU is present, else CPU. The default install is CPU-only (see .npmrc).
 */
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { ExecutionProviderSetting } from '../../config/load-config.js';

export type ExecutionProvider = 'cpu' | 'cuda';

function cudaProviderInstalled(): boolean {
  try {
    const require = createRequire(import.meta.url);
    const root = dirname(require.resolve('onnxruntime-node/package.json'));
    const binDir = join(root, 'bin');
    const stack = [binDir];
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

function gpuPresent(): boolean {
  return existsSync('/dev/nvidia0') || existsSync('/dev/nvidiactl');
}

export interface ProviderChoice {
  readonly provider: ExecutionProvider;
  readonly reason: string;
}

export function chooseExecutionProvider(setting: ExecutionProviderSetting): ProviderChoice {
  if (setting === 'cpu') return { provider: 'cpu', reason: 'configured' };
  const installed = cudaProviderInstalled();
  const gpu = gpuPresent();
  if (setting === 'cuda') return { provider: 'cuda', reason: installed ? 'configured' : 'configured, but the CUDA provider library is not installed' };
  if (installed && gpu) return { provider: 'cuda', reason: 'CUDA provider installed and a GPU is present' };
  return { provider: 'cpu', reason: installed ? 'no GPU found' : 'onnxruntime-node was installed without CUDA' };
}
