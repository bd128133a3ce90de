/** `asyrp doctor`: every section present, the provider choice explained, secrets only as set/unset. */
import { describe, expect, it } from 'vitest';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { tempDir, testModels } from '../helpers/paths.js';

describe('asyrp doctor', () => {
  const dir = tempDir('asyrp-doctor-');
  const models = join(dir, 'models');
  mkdirSync(models);
  cpSync(join(testModels, 'tiny-unet'), join(models, 'tiny-unet'), { recursive: true });
  // a package whose graph is not an ONNX file: listed as not loading, with why
  cpSync(join(testModels, 'tiny-unet'), join(models, 'broken'), { recursive: true });
  writeFileSync(join(models, 'broken', 'unet.onnx'), 'not a graph');
  const manifest = JSON.parse(readFileSync(join(models, 'broken', 'model.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(models, 'broken', 'model.json'), JSON.stringify({ ...manifest, id: 'broken' }));
  const secrets = { discordToken: 'discord-secret-value-123', slackBotToken: 'xoxb-secret-value-456', slackSigningSecret: 'slack-signing-789', engineToken: 'engine-token-000' };
  const overrides = { modelsDir: models, dataDir: join(dir, 'data'), python: '/usr/bin/python3', executionProvider: 'webgpu' };

  it('--json: versions, providers with the choice and where it ends up, python, models, disk, config without secrets', async () => {
    const r = await runCli(['doctor', '--json'], { cwd: dir, overrides, secrets });
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.versions.node).toBe(process.versions.node);
    expect(j.versions['onnxruntime-node']).toMatch(/^1\.\d+\.\d+$/);
    expect(j.providers.choice).toEqual({ provider: 'webgpu', reason: 'configured' });
    expect(j.providers.backends).toContainEqual({ name: 'webgpu', bundled: true });
    // here either an adapter exists and webgpu runs, or the engine says why it falls back to cpu
    if (j.providers.webgpu.adapter) expect(j.providers.effective).toEqual({ provider: 'webgpu' });
    else expect(j.providers.effective.fallback).toMatch(/^webgpu: .*; using cpu$/);
    expect(j.providers.cuda.install).toBe('ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node');
    expect(j.python).toMatchObject({ command: '/usr/bin/python3', ok: true });
    expect(j.models).toEqual([
      expect.objectContaining({ id: 'broken', loads: false, problem: expect.stringContaining('not a loadable ONNX graph') }),
      expect.objectContaining({ id: 'tiny-unet', loads: true }),
    ]);
    expect(j.disk.map((d: { what: string }) => d.what)).toEqual(['data', 'models']);
    expect(j.disk[1].freeBytes).toBeGreaterThan(0);
    expect(j.config.discord.token).toBe('set');
    expect(j.config.slack).toMatchObject({ botToken: 'set', signingSecret: 'set', appToken: 'unset' });
    expect(j.config.engine.token).toBe('set');
    for (const v of Object.values(secrets)) expect(r.out + r.err).not.toContain(v);
  });

  it('text: the sections a person reads, and a missing Python with its apt line', async () => {
    const r = await runCli(['doctor'], { cwd: dir, overrides: { ...overrides, python: join(dir, 'no-python') }, secrets });
    expect(r.code).toBe(0);
    for (const h of ['versions', 'execution providers', 'python tools', 'models', 'disk', 'configuration (secrets as set/unset)']) expect(r.out).toContain(`\n${h}\n`.slice(h === 'versions' ? 1 : 0));
    expect(r.out).toMatch(/the engine picks +webgpu \(configured\)/);
    expect(r.out).toContain('apt-get install -y python3 python3-torch python3-onnx python3-numpy');
    expect(r.out).toMatch(/tiny-unet +loads/);
    expect(r.out).toMatch(/broken +DOES NOT LOAD: /);
    expect(r.out).toMatch(/discord\.token +set/);
    for (const v of Object.values(secrets)) expect(r.out + r.err).not.toContain(v);
  });
});
