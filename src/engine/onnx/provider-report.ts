/**
 * What onnxruntime can run on here, and why the engine picks what it picks: the facts `asyrp doctor`
 * prints and the choice every entry point logs once.
 */
import { execFileSync } from 'node:child_process';
import { chooseExecutionProvider, CUDA_REBUILD_COMMAND, providerFacts, type ExecutionProviderSetting, type ProviderChoice, type ProviderFacts } from './execution-provider.js';
import { onnxruntimeVersion, openSession, supportedBackends, webgpuBundled } from './open-session.js';

/** The choice for this machine (facts gathered now). */
export function chooseProviderHere(setting: ExecutionProviderSetting): ProviderChoice {
  return chooseExecutionProvider(setting, providerFacts(webgpuBundled()));
}

/** The shared libraries onnxruntime's CUDA provider loads (CUDA 12, cuDNN 9). */
export const CUDA_LIBRARIES = ['libcudart.so.12', 'libcublas.so.12', 'libcublasLt.so.12', 'libcufft.so.11', 'libcudnn.so.9'] as const;

export interface ProviderReport {
  readonly onnxruntime: string;
  readonly backends: { name: string; bundled: boolean }[];
  readonly facts: ProviderFacts;
  readonly cuda: { readonly providerInstalled: boolean; readonly libraries: Record<string, boolean>; readonly install: string };
  /** Whether Dawn found an adapter: probed by opening a one-node graph on webgpu (null: not probed). */
  readonly webgpu: { readonly bundled: boolean; readonly adapter: boolean | null; readonly reason: string };
  readonly choice: ProviderChoice;
  /** What a session opened with the choice would really run on, after any fallback. */
  readonly effective: { readonly provider: string; readonly fallback?: string };
}

/** A one-node ONNX graph (Relu over float[1,4], opset 13), made with onnx.helper: enough to ask a provider to start. */
const PROBE_GRAPH = Buffer.from('CAgSC2FzeXJwLXByb2JlOj8KDAoBeBIBeSIEUmVsdRIFcHJvYmVaEwoBeBIOCgwIARIICgIIAQoCCARiEwoBeRIOCgwIARIICgIIAQoCCARCBAoAEA0=', 'base64');

/** Opens the probe graph on a provider: the provider it ended on and why not the one asked for. */
export async function probeProvider(provider: ProviderChoice['provider']): Promise<{ provider: string; fallback?: string }> {
  const opened = await openSession(new Uint8Array(PROBE_GRAPH), { provider });
  await opened.session.release();
  return opened.fallback ? { provider: opened.provider, fallback: opened.fallback } : { provider: opened.provider };
}

function ldconfigLibraries(): Set<string> {
  try {
    const out = execFileSync('ldconfig', ['-p'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 });
    return new Set(out.split('\n').map((l) => l.trim().split(' ')[0] ?? '').filter(Boolean));
  } catch {
    return new Set();
  }
}

export async function providerReport(setting: ExecutionProviderSetting, opts: { probeWebgpu?: boolean } = {}): Promise<ProviderReport> {
  const backends = supportedBackends();
  const bundled = backends.some((b) => b.name === 'webgpu' && b.bundled);
  const facts = providerFacts(bundled);
  const choice = chooseExecutionProvider(setting, facts);
  const libs = ldconfigLibraries();
  const libraries = Object.fromEntries(CUDA_LIBRARIES.map((l) => [l, libs.has(l)]));
  let webgpu: ProviderReport['webgpu'] = { bundled, adapter: null, reason: bundled ? 'not probed' : 'not in this onnxruntime-node build' };
  if (bundled && opts.probeWebgpu !== false) {
    const probe = await probeProvider('webgpu');
    webgpu = { bundled, adapter: probe.provider === 'webgpu', reason: probe.fallback ?? 'an adapter was found' };
  }
  let effective: ProviderReport['effective'] = { provider: choice.provider };
  if (choice.provider === 'webgpu' && webgpu.adapter !== null) effective = webgpu.adapter ? { provider: 'webgpu' } : { provider: 'cpu', fallback: webgpu.reason };
  else if (choice.provider !== 'cpu') effective = await probeProvider(choice.provider);
  return {
    onnxruntime: onnxruntimeVersion(),
    backends,
    facts,
    cuda: { providerInstalled: facts.cudaProviderInstalled, libraries, install: CUDA_REBUILD_COMMAND },
    webgpu,
    choice,
    effective,
  };
}
