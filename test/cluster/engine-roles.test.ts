/**
 * `asyrp engine` chooses its queue and role from config, env and --role, and stops at once with one
 * sentence that says the fix when the choice cannot work: a role without the shared queue, the shared
 * queue without ASYRP_REDIS_URL, a Redis that does not answer. The default (local) needs nothing new.
 */
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { loadSettings } from '../../src/config/load-config.js';
import { chooseRole } from '../../src/engine/cluster/cluster-config.js';
import { runCli } from '../helpers/cli.js';
import { repoRoot, tempDir } from '../helpers/paths.js';

/** A loopback port nothing listens on. */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

describe('asyrp engine: queue and role', () => {
  it('reads engine.queue and engine.role from the environment; local and both are the defaults', () => {
    const plain = loadSettings({ root: repoRoot, env: {} });
    expect(plain.config.engine).toMatchObject({ queue: 'local', role: 'both' });
    const env = loadSettings({ root: repoRoot, env: { ASYRP_QUEUE: 'redis', ASYRP_ENGINE_ROLE: 'worker', ASYRP_REDIS_URL: 'redis://127.0.0.1:6379/0' } });
    expect(env.config.engine).toMatchObject({ queue: 'redis', role: 'worker' });
    expect(env.secrets.redisUrl).toBe('redis://127.0.0.1:6379/0');
    // The flag wins over the config.
    expect(chooseRole('redis', 'worker', 'api')).toBe('api');
    expect(chooseRole('local', 'both', undefined)).toBe('both');
  });

  it('refuses a role without the shared queue, an unknown role, and the shared queue without a Redis URL', async () => {
    const cwd = tempDir('asyrp-roles-');
    const noQueue = await runCli(['engine', '--role', 'api'], { cwd });
    expect(noQueue.code).toBe(1);
    expect(noQueue.err).toMatch(/role "api" needs the shared queue: set ASYRP_QUEUE=redis/);
    const unknown = await runCli(['engine', '--role', 'gpu'], { cwd, overrides: { engine: { queue: 'redis' } } });
    expect(unknown.code).toBe(1);
    expect(unknown.err).toMatch(/--role must be api, worker or both/);
    const noUrl = await runCli(['engine', '--role', 'api'], { cwd, overrides: { engine: { queue: 'redis' } } });
    expect(noUrl.code).toBe(1);
    expect(noUrl.err).toMatch(/ASYRP_REDIS_URL is not set: set it to redis:\/\/host:6379\/0/);
  });

  it('says where Redis is and what to fix when it does not answer, without the password', async () => {
    const port = await closedPort();
    const run = await runCli(['engine', '--role', 'api'], {
      cwd: tempDir('asyrp-roles-'),
      overrides: { engine: { queue: 'redis' } },
      secrets: { redisUrl: `redis://:s3cret-pass@127.0.0.1:${port}/0` },
    });
    expect(run.code).toBe(1);
    expect(run.err).toMatch(new RegExp(`Redis at 127\\.0\\.0\\.1:${port} does not answer .*: start it, or fix ASYRP_REDIS_URL`));
    expect(run.err).not.toContain('s3cret-pass');
  });
});
