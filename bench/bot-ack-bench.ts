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
 *   npm run bench:bots [-- --commands 50 --users 10 --burners <cores> --platforms discord,slack --loads idle,burners --profile <dir> --trace <dir>]
 *
 * --trace <dir>: each Slack burst also writes <dir>/slack-<load>-<n>.json: per command the bench worker's
 * send and receive times and the bot's own arrival and answer times (bench/support/bot-trace.mjs), the
 * bot's GC pauses, and each process's CPU and run-queue wait time over the burst (/proc schedstat).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import process from 'node:process';
import { pathToFileURL } from 'node:url';
import { EngineClient } from '../src/engine/client/engine-client.js';
import { FakeDiscord } from '../test/fake-discord/fake-discord.js';
import type { FakeUser } from '../test/fake-discord/fake-state.js';
import { FakeSlack } from '../test/fake-slack/fake-slack.js';
import { formBody } from '../test/fake-slack/signed-requests.js';
import { startBotChild } from '../test/helpers/bot-child.js';
import { startEngineGate } from '../test/helpers/engine-gate.js';
import type { EngineGate } from '../test/helpers/engine-gate.js';
import { repoRoot, tempDir } from '../test/helpers/paths.js';
import runTmpdir from '../test/helpers/run-tmpdir.js';

// The bot, engine and worker folders of this run live under one temporary folder, removed on exit.
process.on('exit', runTmpdir());

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
const TRACE_DIR = text('trace');
const nodeArgs = [
  ...(PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : []),
  ...(TRACE_DIR ? ['--import', pathToFileURL(join(repoRoot, 'bench/support/bot-trace.mjs')).href] : []),
];
let traceCount = 0;
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
      ...(TRACE_DIR ? { BOT_TRACE_FILE: join(TRACE_DIR, `slack-bot-${process.pid}-${++traceCount}.json`) } : {}),
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
    const pids: Record<string, number> = { bot: bot.child.pid!, engine: engine.child.pid!, bench: process.pid };
    currentBurners.forEach((b, n) => (pids[`burner${n}`] = b.pid!));
    const { replies: deliveries, worker, cpu } = await sendFromWorker(fake.appUrl, bodies, fake.signingSecret, pids);
    const acked = deliveries.filter((d) => d?.status === 200 && d.text.includes('Working on'));
    const acks = acked.map((d) => d!.ms);
    const results = () => images.reduce((sum, m) => sum + fake.threadReplies(channel, m.ts).filter((r) => r.bot_id && r.files?.length && !r.deleted).length, 0);
    await waitFor(() => results() >= acked.length || undefined, 'every result', 180_000).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 500)); // a duplicate would follow its twin closely
    const posted = results();
    if (TRACE_DIR) {
      pendingTraces.push({ file: join(TRACE_DIR, `slack-${load.replace(/\W+/g, '-')}-${traceCount}.json`), botFile: join(TRACE_DIR, `slack-bot-${process.pid}-${traceCount}.json`), deliveries, worker, cpu });
    }
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
 * it spends there is not time Slack's servers would take to read an ack.
 *
 * Timed as Slack's servers would time it, from the request on the wire to its answer back: every
 * request is signed, framed and connected (its own connection, as before) first, then all 50 are
 * written in one loop, each timed from its own write to the last byte of its answer. Until 2026-12-07
 * each request's clock started before the worker had signed, framed and connected the whole burst
 * through Node's HTTP client: on the loaded 2-core VM the first request reached the socket 50-640 ms
 * after its clock started (traces, docs/benchmarks.md), time a remote Slack spends on its own machines.
 * The worker reading the answers still shares the cores, so what it waits for a core counts against the bot.
 */
interface Delivery {
  readonly status: number;
  /** The answer's body. */
  readonly text: string;
  readonly ms: number;
  /** Absolute times (ms since the epoch, sub-ms) on the worker: the request's write, its answer's last byte. */
  readonly sentAt: number;
  readonly receivedAt: number;
}
/** The sending worker thread's scheduler counters (ms) over the burst: CPU time and run-queue wait. */
interface WorkerSched {
  readonly runMs: number;
  readonly waitMs: number;
}

async function sendFromWorker(url: string, bodies: string[], secret: string, pids: Record<string, number>): Promise<{ replies: (Delivery | null)[]; worker: WorkerSched; cpu: Cpu }> {
  const source = `
    const { parentPort, workerData } = require('node:worker_threads');
    const { createHmac } = require('node:crypto');
    const { connect } = require('node:net');
    const { readFileSync } = require('node:fs');
    const { performance } = require('node:perf_hooks');
    const { url, bodies, secret, pids } = workerData;
    const { readdirSync } = require('node:fs');
    // Each process's threads together, and the bot's and the bench's main threads: [CPU ms, waiting-for-a-core ms].
    const ofThread = (pid, tid) => { try { return readFileSync('/proc/' + pid + '/task/' + tid + '/schedstat', 'utf8').split(' ').map((n) => Number(n) / 1e6); } catch { return [0, 0]; } };
    const ofProcess = (pid) => { let t = [0, 0]; try { for (const tid of readdirSync('/proc/' + pid + '/task')) { const x = ofThread(pid, tid); t = [t[0] + x[0], t[1] + x[1]]; } } catch {} return t; };
    const snapshot = () => {
      const out = {};
      for (const [name, pid] of Object.entries(pids)) out[name] = ofProcess(pid);
      out['bot main thread'] = ofThread(pids.bot, pids.bot);
      out['bench main thread'] = ofThread(pids.bench, pids.bench);
      return out;
    };
    const at = () => performance.timeOrigin + performance.now();
    const sched = () => { try { return readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ').map((n) => Number(n) / 1e6); } catch { return [NaN, NaN]; } };
    const u = new URL(url);
    const frame = (body, n) => {
      const ts = Math.floor(Date.now() / 1000);
      const signature = 'v0=' + createHmac('sha256', secret).update('v0:' + ts + ':' + body).digest('hex');
      return Buffer.from('POST ' + u.pathname + ' HTTP/1.1\\r\\nHost: ' + u.host + '\\r\\nContent-Type: application/x-www-form-urlencoded\\r\\n' +
        'Content-Length: ' + Buffer.byteLength(body) + '\\r\\nX-Slack-Request-Timestamp: ' + ts + '\\r\\nX-Slack-Signature: ' + signature +
        '\\r\\nX-Bench-Id: ' + n + '\\r\\nConnection: close\\r\\n\\r\\n' + body);
    };
    (async () => {
      const framed = bodies.map(frame);
      const sockets = await Promise.all(framed.map(() => new Promise((resolve, reject) => {
        const socket = connect(Number(u.port), u.hostname);
        socket.once('connect', () => resolve(socket));
        socket.once('error', reject);
      })));
      const sentAt = [];
      const answers = sockets.map((socket, n) => new Promise((resolve) => {
        const chunks = [];
        let last = 0;
        socket.on('data', (c) => { chunks.push(c); last = at(); });
        socket.once('end', () => {
          const raw = Buffer.concat(chunks).toString();
          const status = Number(raw.split(' ')[1]);
          resolve({ status, text: raw.slice(raw.indexOf('\\r\\n\\r\\n') + 4), ms: Math.round((last - sentAt[n]) * 10) / 10, sentAt: sentAt[n], receivedAt: last });
        });
        socket.once('error', () => resolve(null));
      }));
      const cpuBefore = snapshot();
      const before = sched();
      sockets.forEach((socket, n) => {
        sentAt[n] = at();
        socket.write(framed[n]);
      });
      const replies = await Promise.all(answers);
      const after = sched();
      const cpuAfter = snapshot();
      const cpu = Object.fromEntries(Object.keys(cpuAfter).map((k) => [k, { runMs: Math.round(cpuAfter[k][0] - cpuBefore[k][0]), waitMs: Math.round(cpuAfter[k][1] - cpuBefore[k][1]) }]));
      parentPort.postMessage({ replies, worker: { runMs: after[0] - before[0], waitMs: after[1] - before[1] }, cpu });
    })().catch((e) => { throw e; });
  `;
  const worker = new Worker(source, { eval: true, workerData: { url, bodies, secret, pids } });
  try {
    return await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
  } finally {
    await worker.terminate();
  }
}

/** Per process (all its threads) and per main thread over the burst: CPU time and time runnable but waiting for a core (ms). */
type Cpu = Record<string, { runMs: number; waitMs: number }>;

interface PendingTrace {
  readonly file: string;
  readonly botFile: string;
  readonly deliveries: (Delivery | null)[];
  readonly worker: WorkerSched;
  readonly cpu: Cpu;
}
const pendingTraces: PendingTrace[] = [];
let currentBurners: ChildProcess[] = [];

/** Joins the bench's and the bot's view of each command of a traced burst and writes it out with a summary line. */
function writeTrace(t: PendingTrace): void {
  const bot = JSON.parse(readFileSync(t.botFile, 'utf8')) as { requests: [number, number, string?, number?][]; gcs: [number, number, number][]; ticks: [number, number, number][]; calls: [number, string][] };
  const byId = new Map(bot.requests.filter((r) => r[2] !== undefined).map((r) => [Number(r[2]), r]));
  const t0 = Math.min(...t.deliveries.flatMap((d) => (d ? [d.sentAt] : [])));
  const t1 = Math.max(...t.deliveries.flatMap((d) => (d ? [d.receivedAt] : [])));
  const commands = t.deliveries.map((d, n) => {
    const r = byId.get(n);
    const round = (x: number | undefined) => (x === undefined ? null : Math.round((x - t0) * 10) / 10);
    return { n, sent: round(d?.sentAt), accepted: round(r?.[3]), arrived: round(r?.[0]), answered: round(r?.[1]), received: round(d?.receivedAt), ms: d?.ms ?? null };
  });
  const inWindow = <T extends [number, ...unknown[]]>(xs: T[]) => xs.filter((x) => x[0] >= t0 - 50 && x[0] <= t1);
  // The tick after the window too: a gap that ends after the last answer still belongs to it.
  const ticks = bot.ticks.filter((x, i) => x[0] >= t0 - 50 && (x[0] <= t1 || (bot.ticks[i - 1]?.[0] ?? Infinity) <= t1));
  const calls: Record<string, number> = {};
  for (const [, what] of inWindow(bot.calls)) calls[what.replace(/\/\d+|[A-Z0-9]{8,}/g, '/…')] = (calls[what.replace(/\/\d+|[A-Z0-9]{8,}/g, '/…')] ?? 0) + 1;
  const mainThread = ticks.length > 1 ? { runMs: Math.round(ticks.at(-1)![1] - ticks[0]![1]), waitMs: Math.round(ticks.at(-1)![2] - ticks[0]![2]) } : null;
  // The longest gaps between the bot's 5 ms ticks: its loop busy (run grows) or its thread waiting for a core (wait grows).
  const gaps = ticks.slice(1).map((x, i) => ({ at: Math.round(x[0] - t0), wallMs: Math.round(x[0] - ticks[i]![0]), runMs: Math.round(x[1] - ticks[i]![1]), waitMs: Math.round(x[2] - ticks[i]![2]) })).sort((a, b) => b.wallMs - a.wallMs).slice(0, 8);
  const gcs = inWindow(bot.gcs).map((g) => ({ at: Math.round(g[0] - t0), ms: Math.round(g[1] * 10) / 10, kind: g[2] }));
  const inBot = commands.flatMap((c) => (c.arrived !== null && c.answered !== null ? [c.answered - c.arrived] : []));
  const toArrival = commands.flatMap((c) => (c.arrived !== null && c.sent !== null ? [c.arrived - c.sent] : []));
  const summary = {
    windowMs: Math.round(t1 - t0),
    p99Sender: pct(commands.flatMap((c) => (c.ms === null ? [] : [c.ms])), 99),
    p99SentToArrived: Math.round(pct(toArrival, 99)),
    p99ArrivedToAnswered: Math.round(pct(inBot, 99)),
    lastAnswered: Math.max(...commands.map((c) => c.answered ?? 0)),
    gcMs: Math.round(gcs.reduce((s, g) => s + g.ms, 0)),
    callsInWindow: calls,
    botMainThread: mainThread,
    worker: { runMs: Math.round(t.worker.runMs), waitMs: Math.round(t.worker.waitMs) },
    processes: t.cpu,
  };
  writeFileSync(t.file, JSON.stringify({ summary, gaps, gcs, commands }, null, 1));
  process.stderr.write(`trace ${t.file}: ${JSON.stringify(summary)}\n  longest tick gaps: ${JSON.stringify(gaps.slice(0, 4))}\n`);
}

const engine = await startEngine();
if (TRACE_DIR) mkdirSync(TRACE_DIR, { recursive: true });
const outcomes: Outcome[] = [];
try {
  for (const [platform, burst] of [
    ['discord', discordBurst],
    ['slack', slackBurst],
  ] as const) {
    if (!PLATFORMS.includes(platform)) continue;
    for (const load of LOADS.map((l) => (l === 'idle' ? l : `${BURNERS} CPU burners`))) {
      const burners = load === 'idle' ? [] : startBurners(BURNERS);
      currentBurners = burners;
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
for (const t of pendingTraces) writeTrace(t);

const cpu = cpus()[0]?.model ?? 'unknown CPU';
console.log(`\nBot ack latency: ${COMMANDS} commands from ${USERS} people at once, engine busy (${BACKGROUND_JOBS} tiny-unet jobs); ${availableParallelism()} cores (${cpu}); ${new Date().toISOString().slice(0, 10)}\n`);
console.log('| platform | load | acked | p50 ms | p90 ms | p99 ms | max ms | lost | duplicated |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const o of outcomes) {
  const ms = (x: number) => Math.round(x);
  console.log(`| ${o.platform} | ${o.load} | ${o.acks.length}/${COMMANDS} | ${ms(pct(o.acks, 50))} | ${ms(pct(o.acks, 90))} | ${ms(pct(o.acks, 99))} | ${ms(o.slowest)} | ${o.lost} | ${o.duplicated} |`);
}
