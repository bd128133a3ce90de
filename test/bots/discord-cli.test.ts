/** `asyrp discord ...` through the CLI dispatcher, with config from overrides (as from the environment). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineServer } from '../../src/engine/service/start-engine-server.js';
import { loadConfig, loadSettings } from '../../src/config/load-config.js';
import { startTestEngine } from '../helpers/engine.js';
import { runCli } from '../helpers/cli.js';
import { repoRoot, tempDir } from '../helpers/paths.js';
import { FakeDiscord } from '../fake-discord/fake-discord.js';
import type { NetworkGuard } from '../fake-discord/network-guard.js';
import { installNetworkGuard } from '../fake-discord/network-guard.js';

let guard: NetworkGuard;
let engine: EngineServer;
let fake: FakeDiscord;

beforeAll(async () => {
  guard = installNetworkGuard();
  engine = (await startTestEngine()).server;
  fake = await new FakeDiscord().start();
});

afterAll(async () => {
  await fake?.stop();
  await engine?.close();
  guard?.restore();
});

describe('asyrp discord', () => {
  it('reads the discord section from the environment, with the default CDN hosts', () => {
    const { config, secrets } = loadSettings({ root: repoRoot, env: { DISCORD_TOKEN: 't-123', DISCORD_APP_ID: '1', DISCORD_CDN_HOSTS: 'a.example, b.example', DISCORD_REST_API: 'http://127.0.0.1:1/api' } });
    expect(config.discord).toEqual({ appId: '1', cdnHosts: ['a.example', 'b.example'], restApi: 'http://127.0.0.1:1/api', engineUrl: null });
    expect(secrets.discordToken).toBe('t-123');
    expect(loadConfig({ root: repoRoot, env: {} }).discord.cdnHosts).toEqual(['cdn.discordapp.com', 'media.discordapp.net']);
  });

  it('asks for the token instead of starting without one', async () => {
    const run = await runCli(['discord'], { cwd: tempDir(), overrides: { storage: { path: `${tempDir()}/db.sqlite` } } });
    expect(run.code).toBe(2);
    expect(run.err).toContain('DISCORD_TOKEN');
  });

  it('deploy-commands registers the commands in a guild over REST', async () => {
    const run = await runCli(['discord', 'deploy-commands', '--guild', fake.state.guildId], {
      cwd: tempDir(),
      overrides: { discord: { appId: fake.state.appId, restApi: fake.restApi, engineUrl: engine.url } },
      secrets: { discordToken: fake.token },
    });
    expect(run.err).toBe('');
    expect(run.out).toContain(`registered 2 commands in guild ${fake.state.guildId}`);
    expect(fake.calls.some((c) => c.method === 'PUT' && c.authorization === `Bot ${fake.token}`)).toBe(true);
  });

  it('says plainly when the engine is not running, without printing the token', async () => {
    const run = await runCli(['discord', 'deploy-commands'], {
      cwd: tempDir(),
      overrides: { discord: { appId: '123', restApi: fake.restApi, engineUrl: 'http://127.0.0.1:9' } },
      secrets: { discordToken: 'super-secret-token' },
    });
    expect(run.code).toBe(1);
    expect(run.err).toContain('cannot reach the engine at http://127.0.0.1:9');
    expect(run.err + run.out).not.toContain('super-secret-token');
    expect(guard.violations).toEqual([]);
  });
});
