/**
 * `asyrp slack` through the CLI dispatcher, with config from the environment or overrides: it asks for
 * what is missing, explains start-up failures without printing tokens, and, given credentials, serves
 * signed requests until SIGINT.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { dispatch } from '../../src/cli/main.js';
import { loadSettings } from '../../src/config/load-config.js';
import type { EngineServer } from '../../src/engine/service/start-engine-server.js';
import { startTestEngine } from '../helpers/engine.js';
import { runCli } from '../helpers/cli.js';
import { repoRoot, tempDir } from '../helpers/paths.js';
import type { NetworkGuard } from '../fake-discord/network-guard.js';
import { installNetworkGuard } from '../fake-discord/network-guard.js';
import { FakeSlack } from '../fake-slack/fake-slack.js';

let guard: NetworkGuard;
let engine: EngineServer;
let fake: FakeSlack;

beforeAll(async () => {
  guard = installNetworkGuard();
  engine = (await startTestEngine()).server;
  fake = await new FakeSlack().start();
});

afterAll(async () => {
  await fake?.stop();
  await engine?.close();
  guard?.restore();
});

const slackOverrides = (slack: Record<string, unknown> = {}) => ({ storage: { path: join(tempDir(), 'bot.db') }, dataDir: tempDir(), slack: { apiUrl: fake.apiUrl, engineUrl: engine.url, port: 0, ...slack } });

describe('config', () => {
  it('reads the slack section from the environment, with Slack\'s file host by default', () => {
    const { config, secrets } = loadSettings({ root: repoRoot, env: { SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's', SLACK_APP_TOKEN: 'xapp-1', SLACK_API_URL: 'http://127.0.0.1:1/api/', SLACK_FILE_HOSTS: 'a.example, b.example', SLACK_PORT: '3100', SLACK_HOST: '0.0.0.0' } });
    expect(config.slack).toEqual({ host: '0.0.0.0', apiUrl: 'http://127.0.0.1:1/api/', fileHosts: ['a.example', 'b.example'], port: 3100, recentImageWindowMs: 3_600_000, engineUrl: null });
    expect(secrets).toMatchObject({ slackBotToken: 'xoxb-1', slackSigningSecret: 's', slackAppToken: 'xapp-1' });
    // Loopback by default: Slack calls HTTPS only, so a TLS proxy on this host forwards to the bot.
    expect(loadSettings({ root: repoRoot, env: {} })).toMatchObject({ config: { slack: { fileHosts: ['files.slack.com'], port: 3000, host: '127.0.0.1' } }, secrets: { slackBotToken: null } });
    expect(loadSettings({ root: repoRoot, env: {} }).config.bots.displaySize).toBe(512);
    expect(loadSettings({ root: repoRoot, env: { ASYRP_DISPLAY_SIZE: '1024' } }).config.bots.displaySize).toBe(1024);
    expect(() => loadSettings({ root: repoRoot, env: { ASYRP_DISPLAY_SIZE: '9000' } })).toThrow(/bots.displaySize/);
  });
});

describe('asyrp slack', () => {
  it('asks for the bot token, then for a signing secret or app token', async () => {
    const noToken = await runCli(['slack'], { cwd: tempDir(), overrides: slackOverrides() });
    expect(noToken.code).toBe(2);
    expect(noToken.err).toContain('SLACK_BOT_TOKEN');
    const noSecret = await runCli(['slack'], { cwd: tempDir(), overrides: slackOverrides(), secrets: { slackBotToken: 'xoxb-x' } });
    expect(noSecret.code).toBe(2);
    expect(noSecret.err).toContain('SLACK_SIGNING_SECRET');
  });

  it('explains an unreachable engine and a refused token without printing either secret', async () => {
    const down = await runCli(['slack'], { cwd: tempDir(), overrides: slackOverrides({ engineUrl: 'http://127.0.0.1:9' }), secrets: { slackBotToken: 'xoxb-secret-1', slackSigningSecret: 'sig-secret' } });
    expect(down.code).toBe(1);
    expect(down.err).toContain('cannot reach the engine at http://127.0.0.1:9');
    const refused = await runCli(['slack'], { cwd: tempDir(), overrides: slackOverrides(), secrets: { slackBotToken: 'xoxb-wrong-token', slackSigningSecret: 'sig-secret' } });
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('Slack refused the bot token');
    for (const text of [down.err, refused.err]) expect(text).not.toMatch(/xoxb-(secret|wrong)|sig-secret/);
  });

  it('serves signed requests over HTTP until SIGINT', async () => {
    let err = '';
    // Only the command's own handler may see the signal (the test runner's would end the worker).
    const others = process.listeners('SIGINT');
    const { config, secrets } = loadSettings({ root: repoRoot, env: {}, overrides: slackOverrides(), secrets: { slackBotToken: fake.botToken, slackSigningSecret: fake.signingSecret } });
    const running = dispatch(['slack'], { config, secrets, cwd: tempDir(), out: { write: () => undefined, isTTY: false }, err: { write: (t) => void (err += t), isTTY: false } });
    const url = await fake.waitFor(() => /HTTP on (http:\/\/[^\s)]+)/.exec(err)?.[1], 'the ready line');
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/slack\/events$/); // loopback unless slack.host says otherwise
    fake.appUrl = url;
    const help = await fake.ask(fake.users.alice, 'C0CLI', 'help');
    expect(help.delivery.status).toBe(200);
    expect(help.text).toContain('`global`');
    others.forEach((l) => process.off('SIGINT', l));
    const own = () => undefined;
    try {
      expect(process.listenerCount('SIGINT')).toBe(1);
      process.on('SIGINT', own);
      process.emit('SIGINT');
      expect(await running).toBe(0);
    } finally {
      process.off('SIGINT', own);
      others.forEach((l) => process.on('SIGINT', l));
    }
    expect(err).not.toContain(fake.botToken);
    expect(guard.violations).toEqual([]);
  });
});
