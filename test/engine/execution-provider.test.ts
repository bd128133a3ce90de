/**
 * The provider choice (auto order cuda → webgpu → cpu) from given machine facts, and the real fallback:
 * on a machine where Dawn finds no adapter (here: Debian's lavapipe, or no Vulkan at all) a webgpu
 * session runs on CPU and says why in one line; where an adapter exists, webgpu matches CPU within
 * the stated tolerance (docs/models.md §6).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { chooseExecutionProvider, sessionProviders, type ProviderFacts } from '../../src/engine/onnx/execution-provider.js';
import { providerFailure, supportedBackends } from '../../src/engine/onnx/open-session.js';
import { probeProvider, providerReport } from '../../src/engine/onnx/provider-report.js';
import { UNetSession } from '../../src/engine/onnx/unet-session.js';
import { readModelPackage } from '../../src/engine/model/model-registry.js';
import { GaussianRng } from '../../src/engine/diffusion/gaussian-rng.js';
import { testModels } from '../helpers/paths.js';

const none: ProviderFacts = { cudaProviderInstalled: false, nvidiaDevice: false, renderNode: false, webgpuBundled: true };

describe('chooseExecutionProvider', () => {
  it('auto: cuda when its library is installed and an NVIDIA GPU is present', () => {
    expect(chooseExecutionProvider('auto', { ...none, cudaProviderInstalled: true, nvidiaDevice: true }).provider).toBe('cuda');
  });
  it('auto: webgpu when a GPU is present but CUDA is not installed, and says how to get CUDA', () => {
    const c = chooseExecutionProvider('auto', { ...none, nvidiaDevice: true });
    expect(c.provider).toBe('webgpu');
    expect(c.reason).toContain('ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node');
    expect(chooseExecutionProvider('auto', { ...none, renderNode: true }).provider).toBe('webgpu');
  });
  it('auto: cpu without a GPU device, even with CUDA installed', () => {
    expect(chooseExecutionProvider('auto', none)).toEqual({ provider: 'cpu', reason: 'auto: no GPU device found' });
    expect(chooseExecutionProvider('auto', { ...none, cudaProviderInstalled: true }).provider).toBe('cpu');
    expect(chooseExecutionProvider('auto', { ...none, renderNode: true, webgpuBundled: false }).provider).toBe('cpu');
  });
  it('a configured provider is used as configured, with what is missing named', () => {
    expect(chooseExecutionProvider('cpu', { ...none, cudaProviderInstalled: true, nvidiaDevice: true }).provider).toBe('cpu');
    expect(chooseExecutionProvider('webgpu', none)).toEqual({ provider: 'webgpu', reason: 'configured' });
    expect(chooseExecutionProvider('cuda', none).reason).toMatch(/not installed.*npm rebuild/);
    expect(sessionProviders('webgpu')).toEqual(['webgpu', 'cpu']);
    expect(sessionProviders('cpu')).toEqual(['cpu']);
  });
});

describe('provider failures are one line', () => {
  it('webgpu without an adapter, cuda without its libraries, anything else cut to its first line', () => {
    const dawn = 'webgpu_context.cc:136 ... Failed to get a WebGPU adapter: No supported adapters\n - While initializing adapter';
    expect(providerFailure('webgpu', dawn)).toBe('webgpu: no WebGPU adapter (Dawn found no Vulkan GPU it accepts; a software Vulkan such as lavapipe offers none); using cpu');
    expect(providerFailure('cuda', 'Failed to load library libonnxruntime_providers_cuda.so with error: libcudnn.so.9: cannot open shared object file')).toMatch(
      /^cuda: libonnxruntime_providers_cuda\.so could not be loaded .*using cpu$/,
    );
    const other = providerFailure('webgpu', 'first line\nsecond line');
    expect(other).toBe('webgpu: could not start (first line); using cpu');
    expect(other).not.toContain('\n');
  });
});

describe('webgpu on this machine', () => {
  const sessions: UNetSession[] = [];
  afterAll(async () => {
    for (const s of sessions) await s.release();
  });

  it('onnxruntime-node lists webgpu as bundled', () => {
    expect(supportedBackends()).toContainEqual({ name: 'webgpu', bundled: true });
  });

  it('a webgpu UNet session either runs on webgpu matching CPU within 1e-3, or falls back to CPU with the one-line reason', async () => {
    const pkg = readModelPackage(join(testModels, 'tiny-unet'));
    const m = pkg.manifest;
    const path = join(pkg.dir, m.unet);
    const cpu = await UNetSession.load(path, m.resolution, m.hspace, { provider: 'cpu' });
    const gpu = await UNetSession.load(path, m.resolution, m.hspace, { provider: 'webgpu' });
    sessions.push(cpu, gpu);
    const probe = await probeProvider('webgpu');
    expect(gpu.provider).toBe(probe.provider);
    if (gpu.provider === 'cpu') {
      expect(gpu.fallback).toMatch(/^webgpu: .*; using cpu$/);
      expect(gpu.fallback).not.toContain('\n');
    } else {
      expect(gpu.fallback).toBeUndefined();
    }
    const B = 2;
    const x = new GaussianRng(3).fillNormal(new Float32Array(B * cpu.sampleSize));
    const dh = new GaussianRng(4).fillNormal(new Float32Array(cpu.hSize));
    const t = new Float32Array([10, 700]);
    const a = await cpu.run(x, t, dh, B, 1);
    const b = await gpu.run(x, t, dh, B, 1);
    for (const k of ['eps', 'epsEdit', 'h'] as const) {
      let scale = 1;
      let diff = 0;
      for (let i = 0; i < a[k].length; i++) {
        scale = Math.max(scale, Math.abs(a[k][i]!));
        diff = Math.max(diff, Math.abs(a[k][i]! - b[k][i]!));
      }
      expect(diff / scale, k).toBeLessThanOrEqual(1e-3);
    }
  });

  it('the report agrees with the probe and names the choice and where it ends up', async () => {
    const r = await providerReport('webgpu');
    expect(r.onnxruntime).toMatch(/^1\.\d+\.\d+/);
    expect(r.choice.provider).toBe('webgpu');
    expect(r.effective.provider).toBe(r.webgpu.adapter ? 'webgpu' : 'cpu');
    if (!r.webgpu.adapter) expect(r.effective.fallback).toBe(r.webgpu.reason);
    expect(Object.keys(r.cuda.libraries)).toContain('libcudnn.so.9');
  });
});
