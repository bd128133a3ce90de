/**
 * Storage benchmark (issue #5): fills a temp database with 100k presets and 1M history rows through the
 * repositories, then measures what the bot does on its hot paths: one history write (its own
 * transaction, fsync included, as a bot request makes it) and the preset listings. Prints a Markdown table.
 *
 *   npm run bench:storage [-- --presets 100000 --history 1000000]
 *
 * Bulk generation batches rows into large transactions (that is how an import would run); the
 * single-row numbers are the ones a user waits on.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
import { openDatabase } from '../src/storage/open-database.js';
import { migrate } from '../src/storage/migrate.js';
import { AccountsRepo } from '../src/storage/repos/accounts-repo.js';
import { HistoryRepo } from '../src/storage/repos/history-repo.js';
import { PresetsRepo } from '../src/storage/repos/presets-repo.js';
import { ServerSettingsRepo } from '../src/storage/repos/server-settings-repo.js';
import { ReadModel } from '../src/storage/read-model.js';
import type { Actor } from '../src/storage/types.js';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const N_PRESETS = arg('presets', 100_000);
const N_HISTORY = arg('history', 1_000_000);
const N_STARS = arg('stars', 100_000);
const SAMPLES = arg('samples', 1000);
const DAY = 86_400_000;

// A deterministic generator, so two runs build the same database.
let seed = 12345;
const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;

let now = Date.now() - 30 * DAY;
const clock = () => now;

const dir = mkdtempSync(join(tmpdir(), 'asyrp-bench-'));
const path = join(dir, 'bench.db');
const db = openDatabase({ path, busyTimeoutMs: 5000 });
migrate(db);
const accounts = new AccountsRepo(db, clock);
const presets = new PresetsRepo(db, clock);
const history = new HistoryRepo(db, clock);
const rows: string[][] = [];

function time(label: string, n: number, fn: () => void): void {
  const t0 = process.hrtime.bigint();
  fn();
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  rows.push([label, n.toLocaleString('en-US'), `${Math.round(n / s).toLocaleString('en-US')} /s`, '', '', `${s.toFixed(1)} s total`]);
  process.stderr.write(`${label}: ${s.toFixed(1)} s\n`);
}

/** Runs fn `samples` times and reports inserts/s (as ops/s), p50 and p99 in milliseconds. */
function latency(label: string, samples: number, fn: (i: number) => void): void {
  const ms: number[] = [];
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < samples; i++) {
    const s = process.hrtime.bigint();
    fn(i);
    ms.push(Number(process.hrtime.bigint() - s) / 1e6);
  }
  const total = Number(process.hrtime.bigint() - t0) / 1e9;
  ms.sort((a, b) => a - b);
  const q = (p: number) => ms[Math.min(ms.length - 1, Math.floor(p * ms.length))]!.toFixed(2);
  rows.push([label, samples.toLocaleString('en-US'), `${Math.round(samples / total).toLocaleString('en-US')} /s`, q(0.5), q(0.99), `max ${ms[ms.length - 1]!.toFixed(1)} ms`]);
  process.stderr.write(`${label}: p99 ${q(0.99)} ms\n`);
}

const batch = (n: number, size: number, fn: (i: number) => void) => {
  const tx = db.transaction((from: number) => {
    for (let i = from; i < Math.min(n, from + size); i++) fn(i);
  });
  for (let from = 0; from < n; from += size) tx(from);
};

// 1. People: 100 presets at most per account, so ~1.2 accounts per 100 presets; a few servers.
const servers = ['g1', 'g2', 'g3', 'g4', 'g5', 'g6', 'g7', 'g8'];
const nAccounts = Math.ceil(N_PRESETS / 80);
const actors: Actor[] = [];
batch(nAccounts, 5000, (i) => {
  const serverId = servers[i % servers.length]!;
  const id = accounts.ensureIdentity({ platform: i % 4 === 0 ? 'slack' : 'discord', serverId, userId: `u${i}`, displayName: `user ${i}` });
  actors.push({ accountId: id.accountId, platform: i % 4 === 0 ? 'slack' : 'discord', serverId, isServerAdmin: false });
});

// 2. Presets through the repository (validation, recipe parsing, version row).
const words = ['smile', 'age', 'glasses', 'beard', 'tan', 'light', 'angry', 'sleepy', 'curly', 'pixar', 'sketch', 'neanderthal'];
const presetIds: number[] = [];
time('bulk insert: presets (via repository, 5k per transaction)', N_PRESETS, () =>
  batch(N_PRESETS, 5000, (i) => {
    now += Math.floor((30 * DAY) / N_PRESETS);
    const owner = actors[Math.floor(i / 80)]!;
    const scope = i % 10 < 6 ? 'public' : i % 10 < 9 ? 'server' : 'private';
    const p = presets.create(owner, {
      name: `${words[i % words.length]}-${i}`,
      recipe: `${words[i % words.length]}:0.${1 + (i % 9)} ${words[(i + 5) % words.length]}:-0.${1 + (i % 7)}`,
      modelId: 'celeba-256',
      scope,
      description: `A ${pick(words)} look with a touch of ${pick(words)}, preset number ${i}.`,
    });
    presetIds.push(p.id);
  }),
);

// 3. Stars and uses over the last 30 days, for the top and trending listings.
const publicIds = presetIds.filter((_, i) => i % 10 < 6);
time('bulk insert: stars + uses', N_STARS * 2, () =>
  batch(N_STARS, 5000, (i) => {
    now = Date.now() - 30 * DAY + Math.floor((i / N_STARS) * 30 * DAY);
    const who = actors[Math.floor(rand() * actors.length)]!;
    const id = publicIds[Math.floor(rand() ** 3 * publicIds.length)]!; // a few presets get most of the attention
    presets.star({ ...who, platform: 'discord' }, id);
    presets.recordUse({ ...who, platform: 'discord' }, id);
  }),
);
now = Date.now();

// 4. History through the repository; every 4th edit continues an earlier one (the tree).
time('bulk insert: history (via repository, 10k per transaction)', N_HISTORY, () =>
  batch(N_HISTORY, 10_000, (i) => {
    const who = actors[i % actors.length]!;
    history.record({
      accountId: who.accountId,
      platform: who.platform,
      serverId: who.serverId,
      channelId: `c${i % 50}`,
      inputHash: `sha256:${(i * 2654435761 >>> 0).toString(16).padStart(8, '0')}`,
      inputPath: `data/inputs/${i}.png`,
      recipe: 'smile:0.8 age:-0.3',
      presetId: i % 3 === 0 ? presetIds[i % presetIds.length]! : null,
      modelId: 'celeba-256',
      parentId: i % 4 === 3 && i > 10 ? i - 2 : null,
    });
  }),
);

// 5. What a user waits on.
const member = actors[1]!;
latency('history write (1 row, own transaction, fsync)', SAMPLES, (i) =>
  history.record({ accountId: member.accountId, platform: member.platform, serverId: member.serverId, channelId: 'c1', inputHash: `h${i}`, inputPath: `in/${i}.png`, recipe: 'smile:0.8', modelId: 'celeba-256' }),
);
latency('history status update (queued -> running)', SAMPLES, (i) => history.markStarted(N_HISTORY + 1 + i));
latency('preset listing: top 20', SAMPLES, () => presets.list(member, 'top'));
latency('preset listing: new 20', SAMPLES, () => presets.list(member, 'new'));
latency('preset listing: top 20, page 50', SAMPLES, () => presets.list(member, 'top', { limit: 20, offset: 1000 }));
latency('preset listing: trending 20 (7 days)', Math.min(SAMPLES, 200), () => presets.list(member, 'trending'));
// "sleepy" is in the name or description of ~15% of all presets: the worst case (every match is
// checked for visibility and sorted). A selective query is the common case.
latency('preset search, common word "sleepy" (20)', Math.min(SAMPLES, 200), () => presets.search(member, 'sleepy'));
latency('preset search, selective "number 4242"', SAMPLES, (i) => void presets.search(member, `number ${4242 + i * 7}`));
// Presets with i % 10 === 0 are public, so every name looked up here exists and is visible.
const publicName = (i: number) => {
  const j = ((i * 37) % Math.floor(N_PRESETS / 10)) * 10;
  return `${words[j % words.length]}-${j}`;
};
latency('preset resolve by name (public, not own)', SAMPLES, (i) => void presets.resolve(member, publicName(i)));
latency('history of one account (20 newest)', SAMPLES, () => history.listForAccount(member.accountId));

// 6. The bots' read model (issue #31): loaded once at bot start, then what they decide before an ack.
const heapBefore = process.memoryUsage().heapUsed;
let model!: ReadModel;
time('read model load at bot start (all identities, presets, server settings)', N_PRESETS, () => (model = new ReadModel(db, new ServerSettingsRepo(db, clock))));
const heapMiB = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20;
rows[rows.length - 1]![5] += `; heap +${heapMiB.toFixed(0)} MiB (no GC forced: approximate)`;
latency('preset resolve by name, read model (memory)', SAMPLES, (i) => void model.resolve(member, publicName(i)));
latency('account lookup + channel check + limits, read model', SAMPLES, (i) => {
  model.accountIdOf(member.platform, member.serverId, `u${i % nAccounts}`);
  model.isChannelAllowed(member.platform, member.serverId, 'c1');
  model.serverSettings(member.platform, member.serverId);
});

const size = statSync(path).size + statSync(`${path}-wal`, { throwIfNoEntry: false })!.size;
db.close();
rmSync(dir, { recursive: true, force: true });

const header = ['operation', 'count', 'rate', 'p50 ms', 'p99 ms', 'note'];
const lines = [header, header.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`);
process.stdout.write(
  [
    `Storage benchmark, ${new Date().toISOString().slice(0, 10)}: ${N_PRESETS.toLocaleString('en-US')} presets, ${N_HISTORY.toLocaleString('en-US')} history rows, ${N_STARS.toLocaleString('en-US')} stars + uses.`,
    `Node ${process.version}, ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}; database ${(size / 2 ** 20).toFixed(0)} MiB; WAL, synchronous=FULL.`,
    '',
    ...lines,
    '',
  ].join('\n'),
);
