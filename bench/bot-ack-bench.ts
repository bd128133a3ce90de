/**
 * Bot acknowledgement benchmark (issue #31): how fast the real bots acknowledge a burst of commands.
 * `asyrp discord` and `asyrp slack` run as child processes (the real CLI, discord.js and Bolt) against
 * the in-repo fakes in this process, with a real engine in a third process kept busy by tiny-unet jobs.
 * For each platform, 50 commands from 10 people (5 each, the production per-person burst limit) arrive
 * at once; ack latency is measured where the platform would measure it (Discord: dispatch to the
 * interaction callback at the fake; Slack: the signed POST to its HTTP answer, sent and timed on a
 * worker thread of its own). Every edit is then
 * followed to its result: lost = not acknowledged or no result; duplicated = results beyond one per
 * command, or engine submissions beyond 50. Each platform runs idle, then with one CPU-burning process
 * per core beside it. Before each burst one warm-up command runs to its end (a running bot is warm; the
 * first command after start pays for lazy loading). Prints a Markdown table (docs/benchmarks.md).
 *
 *   npm run bench:bots [-- --commands 50 --users 10 --burners <cores> --platforms discord,slack --loads idle,burners --profile <dir>]
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import process from 'node:process';
import { EngineClient } from '../src/engine/client/engine-client.js';
import { FakeDiscord } from '../test/fake-discord/fake-discord.js';
import type { FakeUser } from '../test/fake-discord/fake-state.js';
import { FakeSlack } from '../test/fake-slack/fake-slack.js';
import { formBody } from '../test/fake-slack/signed-requests.js';
import { startBotChild } from '../test/helpers/bot-child.js';
import { startEngineGate } from '../test/helpers/engine-gate.js';
import type { EngineGate } from '../test/helpers/engine-gate.js';
import { repoRoot, tempDir } from '../test/helpers/paths.js';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const COMMANDS = arg('commands', 50);
const USERS = arg('users', 10);
const BURNERS = arg('burners', availableParallelism());
const BACKGROUND_JOBS = arg('background', 4);
const text = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
/** Only these platforms (discord, slack; default both). */
const PLATFORMS = (text('platforms') ?? 'discord,slack').split(',');
/** Only these loads (idle, burners; default both). */
const LOADS = (text('loads') ?? 'idle,burners').split(',');
/** A folder: each bot writes a V8 CPU profile there (node --cpu-prof) to open in Chrome's DevTools. */
const PROFILE_DIR = text('profile');
const nodeArgs = PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : [];
const png = readFileSync(join(repoRoot, 'test', 'fixtures', 'images', 'gradient.png'));

interface Outcome {
  readonly platform: string;
  readonly load: string;
  readonly acks: number[];
  readonly lost: number;
  readonly duplicated: number;
  readonly slowest: number;
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]! : NaN;
};

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });

async function waitFor<T>(probe: () => T | undefined | false, what: string, timeoutMs: number): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The engine in its own process (as in production), on the test models. */
async function startEngine(): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'test/helpers/engine-child.ts'), tempDir('asyrp-bench-engine-'), '{}'], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(out.split('\n')[0]!);
    });
    child.once('exit', (code) => reject(new Error(`engine exited with ${code}`)));
  });
  return { url: (JSON.parse(line) as { url: string }).url, child };
}

/** Keeps the engine's workers computing during the burst: tiny-unet jobs from another owner. */
async function busyEngine(url: string, tag: string): Promise<void> {
  const client = new EngineClient({ baseUrl: url });
  const models = await client.models();
  const tiny = models.models.find((m) => m.id === 'tiny-unet');
  const direction = tiny?.directions[0]?.name;
  if (!direction) return;
  for (let n = 0; n < BACKGROUND_JOBS; n++) {
    await client.submit({ imageBase64: png.toString('base64'), recipe: `${direction}:1`, model: 'tiny-unet', owner: 'bench:background', idempotencyKey: `bench-${tag}-${n}` });
  }
}

function startBurners(n: number): ChildProcess[] {
  return Array.from({ length: n }, () => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
}

async function discordBurst(engineUrl: string, load: string): Promise<Outcome> {
  const fake = await new FakeDiscord().start();
  const gate: EngineGate = await startEngineGate(engineUrl, { closed: false });
  const dataDir = tempDir('asyrp-bench-discord-');
  const bot = await startBotChild(
    'discord',
    { ASYRP_DATA_DIR: dataDir, ASYRP_DB: join(dataDir, 'bot.db'), ASYRP_ENGINE_URL: gate.url, DISCORD_TOKEN: fake.token, DISCORD_REST_API: fake.restApi, DISCORD_CDN_HOSTS: fake.cdnHost },
    /Discord bot ready/,
    30_000,
    nodeArgs,
  );
  try {
    const warm = fake.slash({ id: '399999999999999999', username: 'warmup' } as FakeUser, ['global'], {}, { image: { bytes: png, filename: 'face.png' } });
    await waitFor(() => /^(✅|❌)/.test(fake.original(warm)?.content ?? '') || undefined, 'the warm-up edit', 60_000);
    const resultMessages = () => [...fake.state.messages.values()].filter((m) => m.author.id === fake.state.botUser.id && m.attachments.length > 0 && !m.deleted).length;
    const baseResults = resultMessages();
    const baseSubmissions = gate.submissions();
    await busyEngine(engineUrl, `discord-${load}`);
    const users: FakeUser[] = Array.from({ length: USERS }, (_, n) => ({ id: String(400_000_000_000_000_000n + BigInt(n)), username: `person${n}` }) as FakeUser);
    const runs = Array.from({ length: COMMANDS }, (_, n) => fake.slash(users[n % USERS]!, ['global'], {}, { image: { bytes: png, filename: 'face.png' } }));
    await waitFor(() => runs.every((i) => fake.book.get(i.token)?.ackedAt !== undefined) || undefined, 'every ack', 30_000).catch(() => undefined);
    const acks = runs.flatMap((i) => {
      const at = fake.book.get(i.token)?.ackedAt;
      return at === undefined ? [] : [at - i.createdAt];
    });
    await waitFor(() => runs.every((i) => /^(✅|❌)/.test(fake.original(i)?.content ?? '')) || undefined, 'every result', 180_000).catch(() => undefined);
    const done = runs.filter((i) => (fake.original(i)?.content ?? '').startsWith('✅')).length;
    await new Promise((r) => setTimeout(r, 500)); // a duplicate would follow its twin closely
    const results = resultMessages() - baseResults;
    const submitted = gate.submissions() - baseSubmissions;
    return { platform: 'Discord', load, acks, lost: COMMANDS - Math.min(done, acks.length), duplicated: Math.max(0, results - done) + Math.max(0, submitted - COMMANDS), slowest: Math.max(...acks) };
  } finally {
    await bot.terminate();
    await gate.stop();
    await fake.stop();
  }
}

async function slackBurst(engineUrl: string, load: string): Promise<Outcome> {
  const fake = await new FakeSlack().start();
  const gate: EngineGate = await startEngineGate(engineUrl, { closed: false });
  const dataDir = tempDir('asyrp-bench-slack-');
  const port = await freePort();
  const bot = await startBotChild(
    'slack',
    {
      ASYRP_DATA_DIR: dataDir,
      ASYRP_DB: join(dataDir, 'bot.db'),
      ASYRP_ENGINE_URL: gate.url,
      SLACK_BOT_TOKEN: fake.botToken,
      SLACK_SIGNING_SECRET: fake.signingSecret,
      SLACK_API_URL: fake.apiUrl,
      SLACK_FILE_HOSTS: fake.fileHost,
      SLACK_PORT: String(port),
      SLACK_HOST: '127.0.0.1',
    },
    /Slack bot ready/,
    30_000,
    nodeArgs,
  );
  fake.appUrl = `http://127.0.0.1:${port}/slack/events`;
  const channel = 'C0GENERAL';
  try {
    const users = Array.from({ length: USERS }, (_, n) => ({ id: `U0PERSON${n}`, name: `person${n}` }));
    const images = users.map((u) => fake.postImage(u, channel, png));
    const warmUser = { id: 'U0WARMUP', name: 'warmup' };
    const warmImage = fake.postImage(warmUser, channel, png);
    await fake.command(warmUser, channel, 'global');
    await waitFor(() => fake.threadReplies(channel, warmImage.ts).some((r) => r.bot_id && r.files?.length) || undefined, 'the warm-up edit', 60_000);
    const baseSubmissions = gate.submissions();
    await busyEngine(engineUrl, `slack-${load}`);
    const bodies = Array.from({ length: COMMANDS }, (_, n) => formBody(fake.commandFields(users[n % USERS]!, channel, 'global')));
    const deliveries = await sendFromWorker(fake.appUrl, bodies, fake.signingSecret);
    const acked = deliveries.filter((d) => d?.status === 200 && d.text.includes('Working on'));
    const acks = acked.map((d) => d!.ms);
    const results = () => images.reduce((sum, m) => sum + fake.threadReplies(channel, m.ts).filter((r) => r.bot_id && r.files?.length && !r.deleted).length, 0);
    await waitFor(() => results() >= acked.length || undefined, 'every result', 180_000).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 500)); // a duplicate would follow its twin closely
    const posted = results();
    return {
      platform: 'Slack',
      load,
      acks,
      lost: COMMANDS - Math.min(acked.length, posted),
      duplicated: Math.max(0, posted - acked.length) + Math.max(0, gate.submissions() - baseSubmissions - COMMANDS),
      slowest: Math.max(...acks),
    };
  } finally {
    await bot.terminate();
    await gate.stop();
    await fake.stop();
  }
}

/**
 * Slack's side of the burst, sent and timed on a worker thread: the bench's main thread also serves the
 * fake Web API, file downloads and the engine gate for the edits set up after their acks, and the time
 * it spends there is not time Slack's servers would take to read an ack. Each request is signed just
 * before it goes out (a fresh timestamp), over its own connection, all at once.
 */
async function sendFromWorker(url: string, bodies: string[], secret: string): Promise<({ status: number; text: string; ms: number } | null)[]> {
  const source = `
    const { parentPort, workerData } = require('node:worker_threads');
    const { createHmac } = require('node:crypto');
    const { request } = require('node:http');
    const { url, bodies, secret } = workerData;
    const send = (body) => new Promise((resolve) => {
      const ts = Math.floor(Date.now() / 1000);
      const headers = {
        'content-type': 'application/x-www-form-urlencoded',
        'content-length': String(Buffer.byteLength(body)),
        'x-slack-request-timestamp': String(ts),
        'x-slack-signature': 'v0=' + createHmac('sha256', secret).update('v0:' + ts + ':' + body).digest('hex'),
      };
      const started = Date.now();
      const req = request(url, { method: 'POST', headers, agent: false }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString(), ms: Date.now() - started }));
        res.on('error', () => resolve(null));
      });
      req.on('error', () => resolve(null));
      req.end(body);
    });
    Promise.all(bodies.map(send)).then((out) => parentPort.postMessage(out));
  `;
  const worker = new Worker(source, { eval: true, workerData: { url, bodies, secret } });
  try {
    return await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
  } finally {
    await worker.terminate();
  }
}

const engine = await startEngine();
const outcomes: Outcome[] = [];
try {
  for (const [platform, burst] of [
    ['discord', discordBurst],
    ['slack', slackBurst],
  ] as const) {
    if (!PLATFORMS.includes(platform)) continue;
    for (const load of LOADS.map((l) => (l === 'idle' ? l : `${BURNERS} CPU burners`))) {
      const burners = load === 'idle' ? [] : startBurners(BURNERS);
      try {
        outcomes.push(await burst(engine.url, load));
      } finally {
        for (const b of burners) b.kill('SIGKILL');
      }
      process.stderr.write(`${platform} (${load}) done\n`);
    }
  }
} finally {
  engine.child.kill('SIGTERM');
}

const cpu = cpus()[0]?.model ?? 'unknown CPU';
console.log(`\nBot ack latency: ${COMMANDS} commands from ${USERS} people at once, engine busy (${BACKGROUND_JOBS} tiny-unet jobs); ${availableParallelism()} cores (${cpu}); ${new Date().toISOString().slice(0, 10)}\n`);
console.log('| platform | load | acked | p50 ms | p90 ms | p99 ms | max ms | lost | duplicated |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const o of outcomes) {
  console.log(`| ${o.platform} | ${o.load} | ${o.acks.length}/${COMMANDS} | ${pct(o.acks, 50)} | ${pct(o.acks, 90)} | ${pct(o.acks, 99)} | ${o.slowest} | ${o.lost} | ${o.duplicated} |`);
}
