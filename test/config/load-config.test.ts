import { availableParallelism } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/config-error.js';
import { DEFAULTS } from '../../src/config/defaults.js';
import { loadConfig, loadSettings } from '../../src/config/load-config.js';
import { startEngineServer } from '../../src/engine/service/start-engine-server.js';
import { tempDir } from '../helpers/paths.js';

/** A root folder with config/local.json holding `local` (or no file when undefined). */
function rootWith(local?: unknown | string): string {
  const root = tempDir('asyrp-config-');
  if (local !== undefined) {
    mkdirSync(join(root, 'config'));
    writeFileSync(join(root, 'config', 'local.json'), typeof local === 'string' ? local : JSON.stringify(local));
  }
  return root;
}

/** The ConfigError `fn` throws (fails the test if it throws anything else or nothing). */
function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('loadSettings', () => {
  it('takes every default from one place, with no file and no environment', () => {
    const root = rootWith();
    const c = loadConfig({ root, env: {} });
    // intraOpThreads: null in DEFAULTS stands for the cores this process may use.
    expect(c.engine).toMatchObject({ ...DEFAULTS.engine, models: null, intraOpThreads: availableParallelism() });
    expect(c.slack).toEqual(DEFAULTS.slack);
    expect(c.discord).toEqual(DEFAULTS.discord);
    expect(c.storage).toEqual({ path: join(root, DEFAULTS.storage.path), busyTimeoutMs: DEFAULTS.storage.busyTimeoutMs, botSynchronous: 'normal' });
    expect(c.logLevel).toBe(DEFAULTS.logLevel);
  });

  it('reads where inference runs, its thread count and priority, and refuses values it cannot use', () => {
    const c = loadConfig({ root: rootWith(), env: { ASYRP_INFERENCE: 'inline', ASYRP_INTRA_OP_THREADS: '0', ASYRP_INFERENCE_NICE: '0' } });
    expect(c.engine).toMatchObject({ inference: 'inline', intraOpThreads: 0, inferenceNice: 0 });
    expect(() => loadConfig({ root: rootWith({ engine: { inference: 'gpu' } }), env: {} })).toThrow(/engine.inference/);
    expect(() => loadConfig({ root: rootWith({ engine: { intraOpThreads: 1.5 } }), env: {} })).toThrow(/engine.intraOpThreads/);
    expect(() => loadConfig({ root: rootWith({ engine: { inferenceNice: 20 } }), env: {} })).toThrow(/engine.inferenceNice/);
  });

  it('reads the host names the engine answers to and how long finished jobs stay in memory', () => {
    const c = loadConfig({ root: rootWith({ engine: { finishedJobTtlMs: 5000 } }), env: { ASYRP_ENGINE_ALLOWED_HOSTS: 'engine, engine.internal ,' } });
    expect(c.engine).toMatchObject({ allowedHosts: ['engine', 'engine.internal'], finishedJobTtlMs: 5000 });
    expect(() => loadConfig({ root: rootWith({ engine: { allowedHosts: 'engine' } }), env: {} })).toThrow(/engine.allowedHosts/);
    expect(() => loadConfig({ root: rootWith({ engine: { finishedJobTtlMs: 0 } }), env: {} })).toThrow(/engine.finishedJobTtlMs/);
  });

  it('applies config/local.json, then the environment, then overrides', () => {
    const root = rootWith({ engine: { port: 9000, maxBatch: 4 }, logLevel: 'warn' });
    const c = loadConfig({ root, env: { ASYRP_ENGINE_PORT: '9100', ASYRP_LOG_LEVEL: 'debug' }, overrides: { engine: { maxBatch: 2 } } });
    expect(c.engine).toMatchObject({ port: 9100, maxBatch: 2, host: '127.0.0.1' });
    expect(c.logLevel).toBe('debug');
  });

  it('keeps secrets out of the config object: from the environment, or the secrets block of local.json', () => {
    const root = rootWith({ secrets: { engineToken: 'file-engine-token', discordToken: 'file-discord-token' } });
    const { config, secrets } = loadSettings({ root, env: { DISCORD_TOKEN: 'env-discord-token', SLACK_BOT_TOKEN: 'xoxb-env' } });
    expect(secrets).toEqual({ engineToken: 'file-engine-token', discordToken: 'env-discord-token', slackBotToken: 'xoxb-env', slackSigningSecret: null, slackAppToken: null, redisUrl: null });
    expect(JSON.stringify(config)).not.toMatch(/file-engine-token|discord-token|xoxb-env|secrets/);
  });

  it('defaults to the local queue; ASYRP_QUEUE, ASYRP_ENGINE_ROLE and engine.cluster select and tune the Redis scale-out', () => {
    const plain = loadConfig({ root: rootWith({}), env: {} });
    expect(plain.engine).toMatchObject({ queue: 'local', role: 'both' });
    expect(plain.engine.cluster).toEqual({ prefix: 'asyrp', blobTtlSeconds: 86_400, maxBlobBytes: 16_777_216, lockDurationMs: 30_000, maxAttempts: 3, heartbeatMs: 5_000, progressMinIntervalMs: 250 });
    const root = rootWith({ engine: { cluster: { lockDurationMs: 2000 } } });
    const { config, secrets } = loadSettings({ root, env: { ASYRP_QUEUE: 'redis', ASYRP_ENGINE_ROLE: 'worker', ASYRP_REDIS_URL: 'redis://:pw@127.0.0.1:6379/0' } });
    expect(config.engine).toMatchObject({ queue: 'redis', role: 'worker' });
    expect(config.engine.cluster).toMatchObject({ lockDurationMs: 2000, maxAttempts: 3 });
    expect(secrets.redisUrl).toBe('redis://:pw@127.0.0.1:6379/0');
    expect(JSON.stringify(config)).not.toMatch(/pw@/);
    expect(configError(() => loadConfig({ root: rootWith({}), env: { ASYRP_QUEUE: 'kafka' } })).field).toBe('engine.queue');
    expect(configError(() => loadConfig({ root: rootWith({}), env: { ASYRP_ENGINE_ROLE: 'gpu' } })).field).toBe('engine.role');
    expect(configError(() => loadConfig({ root: rootWith({ engine: { cluster: { prefix: 'a:b' } } }), env: {} })).field).toBe('engine.cluster.prefix');
    expect(configError(() => loadConfig({ root: rootWith({ engine: { cluster: { maxAttempts: 0 } } }), env: {} })).field).toBe('engine.cluster.maxAttempts');
  });

  it('says where a secret goes when a file puts it among the settings', () => {
    const e = configError(() => loadSettings({ root: rootWith({ engine: { token: 'abc' } }), env: {} }));
    expect(e.code).toBe('INVALID_VALUE');
    expect(e.field).toBe('engine.token');
    expect(e.message).toContain('secrets.engineToken');
    expect(e.message).not.toContain('abc');
  });

  it('answers a wrong value, an unreadable file and an unknown secret with typed errors', () => {
    expect(configError(() => loadConfig({ root: rootWith(), env: {}, overrides: { engine: { port: 70000 } } }))).toMatchObject({ code: 'INVALID_VALUE', field: 'engine.port' });
    expect(configError(() => loadConfig({ root: rootWith(), env: { ASYRP_ENGINE_PORT: 'x' } }))).toMatchObject({ code: 'INVALID_VALUE', field: 'ASYRP_ENGINE_PORT' });
    expect(configError(() => loadConfig({ root: rootWith(), env: { ASYRP_LOG_LEVEL: 'loud' } }))).toMatchObject({ code: 'INVALID_VALUE', field: 'logLevel' });
    expect(configError(() => loadConfig({ root: rootWith('{ not json'), env: {} }))).toMatchObject({ code: 'FILE_UNREADABLE' });
    const unknown = configError(() => loadSettings({ root: rootWith({ secrets: { githubToken: 'x' } }), env: {} }));
    expect(unknown).toMatchObject({ code: 'INVALID_VALUE', field: 'secrets.githubToken' });
  });
});

describe('the engine off loopback', () => {
  it('refuses to start without a token, as a missing secret (not a model error)', async () => {
    const config = loadConfig({ root: rootWith(), env: {}, overrides: { engine: { host: '0.0.0.0' } } });
    const e = await startEngineServer(config, {}).then(() => null, (err: unknown) => err);
    expect(e).toBeInstanceOf(ConfigError);
    expect(e).toMatchObject({ code: 'SECRET_REQUIRED', field: 'engine.host' });
    expect((e as Error).message).toContain('ASYRP_ENGINE_TOKEN');
  });
});
