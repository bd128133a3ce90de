/**
 * `asyrp doctor [--json]`: what a user needs to know before asking for help, gathered in one place.
 * Versions, onnxruntime's execution providers and which one the engine would pick and why, the Python
 * tools, the models and whether each loads, free disk space, and the configuration with every secret
 * shown only as set or unset.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CliContext } from '../cli-context.js';
import { parseArgs } from '../parse-args.js';
import { DOCTOR } from '../command-specs.js';
import { LoadedModel } from '../../engine/loaded-model.js';
import { listModelPackages } from '../../engine/model/model-registry.js';
import { providerReport, type ProviderReport } from '../../engine/onnx/provider-report.js';
import { freeBytes } from '../../models-install/disk-space.js';
import { formatBytes } from '../../models-install/download-file.js';
import { InstallError } from '../../models-install/install-error.js';
import { checkPython } from '../../models-install/python-tools.js';

const PACKAGES = ['onnxruntime-node', 'sharp', 'better-sqlite3', 'discord.js', '@slack/bolt'] as const;

function version(root: string, pkg: string): string | null {
  const p = join(root, 'node_modules', pkg, 'package.json');
  if (!existsSync(p)) return null;
  return (JSON.parse(readFileSync(p, 'utf8')) as { version?: string }).version ?? null;
}

const secret = (v: string | null) => (v ? 'set' : 'unset');

export interface DoctorReport {
  readonly versions: Record<string, string | null>;
  readonly providers: ProviderReport;
  readonly python: { readonly command: string; readonly ok: boolean; readonly version?: string; readonly problem?: string };
  readonly models: { readonly id: string; readonly dir: string; readonly loads: boolean; readonly problem?: string }[];
  readonly disk: { readonly dir: string; readonly what: string; readonly freeBytes: number }[];
  readonly config: Record<string, unknown>;
}

export async function doctorReport(ctx: CliContext): Promise<DoctorReport> {
  const c = ctx.config;
  const s = ctx.secrets;
  const root = c.root;
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version?: string };
  const versions: Record<string, string | null> = { node: process.versions.node, asyrp: pkg.version ?? null };
  for (const p of PACKAGES) versions[p] = version(root, p);

  const providers = await providerReport(c.executionProvider);

  let python: DoctorReport['python'];
  try {
    const r = await checkPython(c.python, ['torch', 'onnx', 'numpy', 'PIL']);
    python = { command: c.python, ok: true, version: r.version };
  } catch (e) {
    if (!(e instanceof InstallError)) throw e;
    python = { command: c.python, ok: false, problem: e.message };
  }

  const models: DoctorReport['models'] = [];
  const broken: { dir: string; message: string }[] = [];
  for (const p of listModelPackages(c.modelsDir, (dir, e) => broken.push({ dir, message: e.message }))) {
    try {
      const m = await LoadedModel.open(p, { provider: 'cpu' });
      await m.close();
      models.push({ id: p.manifest.id, dir: p.dir, loads: true });
    } catch (e) {
      models.push({ id: p.manifest.id, dir: p.dir, loads: false, problem: (e as Error).message.split('\n')[0]! });
    }
  }
  for (const b of broken) models.push({ id: b.dir.split('/').at(-1)!, dir: b.dir, loads: false, problem: b.message.split('\n')[0]! });

  const disk = [
    { dir: c.dataDir, what: 'data', freeBytes: await freeBytes(c.dataDir) },
    { dir: c.modelsDir, what: 'models', freeBytes: await freeBytes(c.modelsDir) },
  ];
  const config = {
    executionProvider: c.executionProvider,
    modelsDir: c.modelsDir,
    dataDir: c.dataDir,
    defaultModel: c.defaultModel,
    python: c.python,
    modelSources: c.modelSources,
    logLevel: c.logLevel,
    storage: c.storage.path,
    engine: { host: c.engine.host, port: c.engine.port, token: secret(s.engineToken), maxBatch: c.engine.maxBatch },
    discord: { token: secret(s.discordToken), appId: c.discord.appId ? 'set' : 'unset' },
    slack: { botToken: secret(s.slackBotToken), signingSecret: secret(s.slackSigningSecret), appToken: secret(s.slackAppToken), port: c.slack.port },
  };
  return { versions, providers, python, models, disk, config };
}

export async function doctorCommand(argv: string[], ctx: CliContext): Promise<number> {
  const { flags } = parseArgs(argv, DOCTOR.flags);
  const r = await doctorReport(ctx);
  if (flags.json) {
    ctx.out.write(JSON.stringify(r, null, 2) + '\n');
    return 0;
  }
  const p = r.providers;
  const yes = (b: boolean) => (b ? 'yes' : 'no');
  const lines = [
    'versions',
    ...Object.entries(r.versions).map(([k, v]) => `  ${k.padEnd(18)} ${v ?? 'not installed'}`),
    '',
    'execution providers',
    `  onnxruntime        ${p.onnxruntime}; backends ${p.backends.map((b) => `${b.name}${b.bundled ? '' : ' (needs an install)'}`).join(', ')}`,
    `  setting            ${r.config.executionProvider}`,
    `  the engine picks   ${p.choice.provider} (${p.choice.reason})`,
    ...(p.effective.fallback ? [`  and runs on       ${p.effective.provider}: ${p.effective.fallback}`] : []),
    `  GPU devices        nvidia ${yes(p.facts.nvidiaDevice)}, DRM render node ${yes(p.facts.renderNode)}`,
    `  webgpu             ${p.webgpu.bundled ? (p.webgpu.adapter ? 'adapter found' : p.webgpu.reason) : 'not in this build'}`,
    `  cuda provider      ${p.cuda.providerInstalled ? 'installed' : `not installed (${p.cuda.install})`}`,
    `  CUDA libraries     ${Object.entries(p.cuda.libraries).map(([l, ok]) => `${l} ${ok ? 'found' : 'missing'}`).join(', ')}`,
    '',
    'python tools',
    `  ${r.python.ok ? `${r.python.command}: Python ${r.python.version}, torch, onnx, numpy and PIL present` : r.python.problem}`,
    '',
    'models',
    ...(r.models.length ? r.models.map((m) => `  ${m.id.padEnd(18)} ${m.loads ? 'loads' : `DOES NOT LOAD: ${m.problem}`}`) : [`  none installed in ${r.config.modelsDir} (asyrp models add <id>)`]),
    '',
    'disk',
    ...r.disk.map((d) => `  ${d.what.padEnd(18)} ${formatBytes(d.freeBytes)} free in ${d.dir}`),
    '',
    'configuration (secrets as set/unset)',
    ...flatten(r.config).map(([k, v]) => `  ${k.padEnd(24)} ${v}`),
  ];
  ctx.out.write(lines.join('\n') + '\n');
  return 0;
}

function flatten(o: Record<string, unknown>, prefix = ''): [string, string][] {
  return Object.entries(o).flatMap(([k, v]): [string, string][] =>
    v && typeof v === 'object' && !Array.isArray(v) ? flatten(v as Record<string, unknown>, `${prefix}${k}.`) : [[`${prefix}${k}`, String(v)]],
  );
}
