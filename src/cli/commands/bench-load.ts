/**
 * `asyrp bench load [--model <id>] [--steps n] [--window s] [--burst n] [--owners n] [--variants a,b] [--repeat n] [--json]`:
 * does the engine keep listening while it computes (issue #30)? For each variant (inference inline on
 * the main thread, in the worker, in the worker at the API's own priority, and in the worker with
 * onnxruntime's own thread count) an engine is started in a child process; 16 jobs run on the model all
 * through the window (each owner submits again when its job is done), and two seconds in, a burst of
 * submissions from many owners arrives at once. Reported: /v1/health latency (a poller all through the
 * window), submit latency over the burst (accepted or refused), and edits per minute (jobs done in the
 * window, from /metrics). With --repeat the variants run in rounds, interleaved, so that what else the
 * machine does moves them alike: the ratios are taken within each round, and their median is the verdict.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AppConfig, InferenceSetting } from '../../config/load-config.js';
import { API_VERSION } from '../../engine/client/api-types.js';
import { admissionHeaders, encodeSubmit, EngineClient, postExpectingContinue } from '../../engine/client/engine-client.js';
import { directionNames } from '../../engine/directions/direction-file.js';
import { resolveModelPackage } from '../../engine/model/model-registry.js';
import { GaussianRng } from '../../engine/diffusion/gaussian-rng.js';
import { encodePng } from '../../engine/image/image-io.js';
import type { CliContext } from '../cli-context.js';
import { BENCH_LOAD } from '../command-specs.js';
import { parseArgs, UsageError } from '../parse-args.js';
import { reportEngineError } from '../report-error.js';

interface Variant {
  readonly name: string;
  readonly inference: InferenceSetting;
  readonly intraOpThreads: number;
  readonly inferenceNice: number;
  /** How the burst's submits carry their image: multipart bytes (as EngineClient sends them) or base64 JSON. */
  readonly submitBody: 'multipart' | 'json';
  /** The floor: a bare node:http server under the same burst (bench-load-floor.ts), no engine. */
  readonly floor?: boolean;
}

interface VariantResult {
  readonly round: number;
  readonly variant: Variant;
  readonly healthMs: { readonly p50: number; readonly p99: number; readonly max: number; readonly n: number };
  readonly submitMs: { readonly p50: number; readonly p99: number; readonly max: number; readonly n: number };
  /** Submit latency of the accepted and of the refused ones apart (p99 of each). */
  readonly acceptedP99: number;
  readonly refusedP99: number;
  readonly accepted: number;
  /** Health requests that got no answer (counted in the latencies with the time it took to fail). */
  readonly healthFailures: number;
  readonly refused: Readonly<Record<string, number>>;
  readonly editsPerMinute: number;
  /** UNet samples computed per second: the model's throughput, whichever jobs it went to. */
  readonly samplesPerSecond: number;
  /** The burst's accepted submits by stage (asyrp_submit_stage_seconds): p50 and p99 as bucket bounds, s. */
  readonly stages: Readonly<Record<string, { readonly p50: number; readonly p99: number; readonly n: number }>>;
}

const RUNNING = 16;

function quantile(sorted: readonly number[], q: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

function summary(ms: number[]): VariantResult['healthMs'] {
  const s = [...ms].sort((a, b) => a - b);
  return { p50: quantile(s, 0.5), p99: quantile(s, 0.99), max: s[s.length - 1] ?? NaN, n: s.length };
}

async function noisePng(seed: number, size: number): Promise<string> {
  const rng = new GaussianRng(seed);
  const data = new Uint8Array(size * size * 3).map(() => Math.max(0, Math.min(255, Math.round(128 + 40 * rng.nextNormal()))));
  return (await encodePng({ data, width: size, height: size })).toString('base64');
}

/**
 * Starts the engine (bench-load-engine), or the floor server (bench-load-floor), in a child process and
 * resolves with its URL and a stop().
 */
function startChildEngine(config: AppConfig, floor = false): Promise<{ url: string; stop: () => Promise<void> }> {
  const entry = new URL(`../bench-load-${floor ? 'floor' : 'engine'}.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`, import.meta.url);
  const child = fork(entry, [JSON.stringify(config)], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    execArgv: import.meta.url.endsWith('.ts') ? ['--import', 'tsx'] : [],
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the benchmark's engine exited (code ${code}) before listening`)));
    child.once('message', (m: { url: string }) =>
      resolve({
        url: m.url,
        stop: async () => {
          child.send('stop');
          const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
          await exited;
          clearTimeout(timer);
        },
      }),
    );
  });
}

/** Cumulative bucket counts of asyrp_submit_stage_seconds: stage -> [upper bound, count] in order. */
type StageBuckets = Map<string, [number, number][]>;

/** Jobs done, UNet samples computed so far (samples = calls × mean batch) and the submit stages, from /metrics. */
async function counters(url: string): Promise<{ done: number; samples: number; stages: StageBuckets }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const value = (re: RegExp) => Number(re.exec(text)?.[1] ?? 0);
  const stages: StageBuckets = new Map();
  for (const m of text.matchAll(/^asyrp_submit_stage_seconds_bucket\{le="([^"]+)",stage="([a-z]+)"\} (\d+)/gm)) {
    const list = stages.get(m[2]!) ?? [];
    list.push([m[1] === '+Inf' ? Infinity : Number(m[1]), Number(m[3])]);
    stages.set(m[2]!, list);
  }
  return {
    done: value(/asyrp_jobs_finished_total\{state="done"\} ([\d.e+-]+)/),
    samples: value(/asyrp_step_seconds_count ([\d.e+-]+)/) * value(/asyrp_batch_size_mean ([\d.e+-]+)/),
    stages,
  };
}

/** Per stage, the p50 and p99 of what was observed between two snapshots, as the bounds of their buckets. */
function stageQuantiles(before: StageBuckets, after: StageBuckets): VariantResult['stages'] {
  const out: Record<string, { p50: number; p99: number; n: number }> = {};
  for (const [stage, buckets] of after) {
    const prior = new Map(before.get(stage) ?? []);
    const diff = buckets.map(([le, n]) => [le, n - (prior.get(le) ?? 0)] as const);
    const n = diff[diff.length - 1]?.[1] ?? 0;
    if (!n) continue;
    const bound = (q: number) => diff.find(([, c]) => c >= q * n)?.[0] ?? Infinity;
    out[stage] = { p50: bound(0.5), p99: bound(0.99), n };
  }
  return out;
}

async function runVariant(
  ctx: CliContext,
  variant: Variant,
  round: number,
  opts: { dataDir: string; model: string | undefined; recipe: (seed: number) => string; windowMs: number; burst: number; owners: number; image: string; warmImage: string },
): Promise<VariantResult> {
  const dir = join(opts.dataDir, `${variant.name.replace(/[^a-z0-9]+/gi, '-')}-${round}`);
  const config = {
    ...ctx.config,
    dataDir: join(dir, 'data'),
    storage: { ...ctx.config.storage, path: join(dir, 'asyrp.db') },
    logLevel: 'warn',
    engine: { ...ctx.config.engine, host: '127.0.0.1', port: 0, maxBatch: RUNNING, inference: variant.inference, intraOpThreads: variant.intraOpThreads, inferenceNice: variant.inferenceNice, ...(opts.model ? { models: [opts.model] } : {}) },
    ...(opts.model ? { defaultModel: opts.model } : {}),
  } as AppConfig;
  const engine = await startChildEngine(config, variant.floor);
  try {
    const client = new EngineClient({ baseUrl: engine.url, timeoutMs: 120_000 });
    // Warm-up: the first calls allocate onnxruntime's arenas.
    if (!variant.floor) await client.wait((await client.submit({ imageBase64: opts.warmImage, recipe: opts.recipe(0), owner: 'warm-up' })).id);

    let open = true;
    let seed = 1;
    // RUNNING owners keep one job each in flight for the whole window (the floor has no jobs).
    const background = Array.from({ length: variant.floor ? 0 : RUNNING }, async (_, i) => {
      while (open) {
        try {
          const job = await client.submit({ imageBase64: opts.image, recipe: opts.recipe(seed++), owner: `running-${i}` });
          await client.wait(job.id);
        } catch {
          await new Promise((r) => setTimeout(r, 200)); // refused or cut off: try again shortly
        }
      }
    });
    await new Promise((r) => setTimeout(r, 1000)); // let the 16 jobs start
    const start = performance.now();
    const atStart = await counters(engine.url);

    const healthMs: number[] = [];
    let healthFailures = 0;
    const poller = (async () => {
      while (open) {
        const t = performance.now();
        try {
          await (await fetch(`${engine.url}/${API_VERSION}/health`)).arrayBuffer();
        } catch {
          healthFailures++;
        }
        healthMs.push(performance.now() - t);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();

    await new Promise((r) => setTimeout(r, 2000));
    const beforeBurst = await counters(engine.url);
    const submitMs: number[] = [];
    const acceptedMs: number[] = [];
    const refusedMs: number[] = [];
    const refused: Record<string, number> = {};
    let accepted = 0;
    // Every body is encoded before the clock starts, and sent as EngineClient.submit sends it (node:http,
    // Expect: 100-continue), not with fetch: what is timed is the engine's answer, not this process
    // building 500 requests of 260 kB (fetch's encoding and copying of them cost this process 2-3 s of
    // CPU on the 2-core VM, charged to the first requests).
    const requests = Array.from({ length: opts.burst }, (_, i) => {
      const fields = { recipe: opts.recipe(100_000 + i), owner: `burst-${i % opts.owners}` };
      // As the engine client encodes it: headers naming the owner, so a refusal comes before the body is
      // read; the image as multipart bytes, or (the json variant) base64 in a JSON body.
      if (variant.submitBody === 'multipart') return encodeSubmit({ ...fields, image: Buffer.from(opts.image, 'base64') });
      return { body: Buffer.from(JSON.stringify({ ...fields, imageBase64: opts.image })), headers: { 'content-type': 'application/json', ...admissionHeaders(fields) } };
    });
    await Promise.all(
      requests.map(async ({ body, headers }) => {
        const t = performance.now();
        let code: string | null;
        try {
          // As EngineClient.submit sends it: a refusal from the headers comes before the body is sent.
          const res = await postExpectingContinue(`${engine.url}/${API_VERSION}/jobs`, { method: 'POST', body, headers, signal: AbortSignal.timeout(120_000) });
          const text = await res.text();
          code = res.status === 202 || res.status === 200 ? null : ((JSON.parse(text) as { error?: { code?: string } }).error?.code ?? String(res.status));
        } catch {
          // No answer at all (the connection closed): counted, with the time it took to find out.
          code = 'NO_ANSWER';
        }
        const ms = performance.now() - t;
        submitMs.push(ms);
        (code === null ? acceptedMs : refusedMs).push(ms);
        if (code === null) accepted++;
        else refused[code] = (refused[code] ?? 0) + 1;
      }),
    );

    const afterBurst = await counters(engine.url);
    // The floor has no throughput to measure: its window ends with the burst.
    const left = variant.floor ? 0 : opts.windowMs - (performance.now() - start);
    if (left > 0) await new Promise((r) => setTimeout(r, left));
    const atEnd = await counters(engine.url);
    const minutes = (performance.now() - start) / 60_000;
    open = false;
    await poller;
    // The background loops end with their current jobs; the engine is stopped without waiting for them.
    void Promise.allSettled(background);
    return { round, variant, healthMs: summary(healthMs), submitMs: summary(submitMs), acceptedP99: summary(acceptedMs).p99, refusedP99: summary(refusedMs).p99, accepted, refused, healthFailures, editsPerMinute: variant.floor ? NaN : (atEnd.done - atStart.done) / minutes, samplesPerSecond: variant.floor ? NaN : (atEnd.samples - atStart.samples) / (minutes * 60), stages: stageQuantiles(beforeBurst.stages, afterBurst.stages) };
  } finally {
    await engine.stop();
  }
}

function fmt(n: number, digits = 0): string {
  return Number.isFinite(n) ? n.toFixed(digits) : '—';
}

function median(xs: readonly number[]): number {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (!s.length) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * What the rounds say about throughput (edits/min and samples/s ratios): a side is only called when
 * every round agrees, so a spread between rounds wider than the effect reads "not decided" instead of a
 * lucky median. Edits/min moves in whole jobs per window (16 that end together are 16 at once), so
 * samples/s is the steadier of the two.
 */
export function throughputVerdict(edits: readonly number[], samples: readonly number[]): string {
  const all = [...edits, ...samples].filter(Number.isFinite);
  if (!all.length) return 'no rounds';
  const lo = Math.min(...all);
  const hi = Math.max(...all);
  const range = `edits/min and samples/s ratios ${fmt(lo, 2)}–${fmt(hi, 2)} over ${edits.length} round(s)`;
  if (lo >= 1) return `no lower in any round (${range})`;
  if (hi < 1) return `lower in every round (${range})`;
  return `not decided: the rounds disagree (${range}); run more rounds (--repeat) or a longer --window`;
}

function row(r: VariantResult, label: string): string {
  const refusedText = Object.entries(r.refused).map(([c, n]) => `${n} ${c}`).join(', ') || '0';
  return `| ${label} | ${fmt(r.healthMs.p50)} | ${fmt(r.healthMs.p99)}${r.healthFailures ? ` (${r.healthFailures} unanswered)` : ''} | ${fmt(r.submitMs.p50)} | ${fmt(r.submitMs.p99)} | ${r.accepted} (${fmt(r.acceptedP99)}) | ${refusedText} (${fmt(r.refusedP99)}) | ${fmt(r.editsPerMinute, 1)} | ${fmt(r.samplesPerSecond, 1)} |\n`;
}

export async function benchLoadCommand(argv: string[], ctx: CliContext): Promise<number> {
  const { flags } = parseArgs(argv, BENCH_LOAD.flags);
  const int = (v: unknown, dflt: number, lo: number, hi: number, name: string) => {
    const n = v === undefined ? dflt : Number(v);
    if (!Number.isInteger(n) || n < lo || n > hi) throw new UsageError(`--${name} must be a whole number from ${lo} to ${hi}`);
    return n;
  };
  const steps = int(flags.steps, 10, 2, 1000, 'steps');
  const windowMs = int(flags.window, 40, 10, 600, 'window') * 1000;
  const burst = int(flags.burst, 500, 1, 5000, 'burst');
  const owners = int(flags.owners, 20, 1, 1000, 'owners');
  const rounds = int(flags.repeat, 1, 1, 20, 'repeat');
  const threads = ctx.config.engine.intraOpThreads;
  const nice = ctx.config.engine.inferenceNice;
  const t = `${threads || 'default'} threads`;
  const all: (Variant & { key: string })[] = [
    { key: 'inline', name: `inline, ${t}`, inference: 'inline', intraOpThreads: threads, inferenceNice: 0, submitBody: 'multipart' },
    { key: 'worker', name: `worker, ${t}${nice ? `, nice ${nice}` : ''}`, inference: 'worker', intraOpThreads: threads, inferenceNice: nice, submitBody: 'multipart' },
    ...(nice !== 0 ? [{ key: 'worker-nice0', name: `worker, ${t}, nice 0`, inference: 'worker' as const, intraOpThreads: threads, inferenceNice: 0, submitBody: 'multipart' as const }] : []),
    ...(threads !== 0 ? [{ key: 'ort-default', name: 'worker, onnxruntime default threads', inference: 'worker' as const, intraOpThreads: 0, inferenceNice: nice, submitBody: 'multipart' as const }] : []),
    { key: 'floor', name: 'floor: bare node:http server, no engine', inference: 'worker', intraOpThreads: threads, inferenceNice: nice, submitBody: 'multipart', floor: true },
    { key: 'worker-json', name: `worker, ${t}${nice ? `, nice ${nice}` : ''}, base64 JSON bodies`, inference: 'worker', intraOpThreads: threads, inferenceNice: nice, submitBody: 'json' },
  ];
  // worker-json only when asked for (it measures the body encoding, not the engine's settings).
  const wanted = typeof flags.variants === 'string' ? flags.variants.split(',').map((v) => v.trim()) : all.map((v) => v.key).filter((k) => k !== 'worker-json');
  const unknown = wanted.filter((w) => !all.some((v) => v.key === w));
  if (unknown.length) throw new UsageError(`--variants takes ${all.map((v) => v.key).join(', ')}; got ${unknown.join(', ')}`);
  const variants = all.filter((v) => wanted.includes(v.key));
  const dataDir = mkdtempSync(join(tmpdir(), 'asyrp-bench-load-'));
  try {
    // The model's first direction, so jobs run the edited decoder pass as real edits do.
    const pkg = resolveModelPackage(ctx.config.modelsDir, flags.model as string | undefined, ctx.config.defaultModel, ctx.cwd);
    const model = { id: pkg.manifest.id };
    const direction = directionNames(join(pkg.dir, pkg.manifest.directions))[0];
    const recipe = (seed: number) => `${direction ? `${direction}:0.8 ` : ''}steps:${steps} seed:${seed}`;
    // A 256×256 photo-sized input: the engine decodes and centre-crops it, as it would a user's image.
    const image = await noisePng(7, 256);
    const warmImage = await noisePng(8, 256);
    const results: VariantResult[] = [];
    for (let round = 1; round <= rounds; round++) {
      // Every other round the other way round, so no variant always runs first (or last) in a round.
      for (const v of round % 2 ? variants : [...variants].reverse()) {
        if (!flags.json) ctx.err.write(`bench load: ${v.name}${rounds > 1 ? ` (round ${round} of ${rounds})` : ''} ...\n`);
        results.push(await runVariant(ctx, v, round, { dataDir, model: model.id, recipe, windowMs, burst, owners, image, warmImage }));
      }
    }
    const byKey = (k: string, round: number) => results.find((r) => r.round === round && r.variant === variants.find((v) => v.key === k));
    const pairs: [string, string, string][] = [
      ['worker / inline', 'worker', 'inline'],
      [`nice ${nice} / nice 0 (worker)`, 'worker', 'worker-nice0'],
      [`${threads} threads / onnxruntime default (worker)`, 'worker', 'ort-default'],
      ['multipart / base64 JSON bodies (worker)', 'worker', 'worker-json'],
      ['worker / floor', 'worker', 'floor'],
    ];
    const ratios = pairs.flatMap(([label, a, b]) => {
      const per = Array.from({ length: rounds }, (_, i) => [byKey(a, i + 1), byKey(b, i + 1)] as const).filter((p): p is readonly [VariantResult, VariantResult] => !!p[0] && !!p[1]);
      if (!per.length) return [];
      const of = (f: (r: VariantResult) => number) => per.map(([x, y]) => f(x) / f(y));
      return [{ label, healthP99: of((r) => r.healthMs.p99), submitP99: of((r) => r.submitMs.p99), editsPerMinute: of((r) => r.editsPerMinute), samplesPerSecond: of((r) => r.samplesPerSecond) }];
    });
    const out = { model: model.id, recipe: recipe(0).replace(/ seed:0$/, ''), running: RUNNING, burst, owners, windowS: windowMs / 1000, rounds, results, ratios };
    if (flags.json) {
      ctx.out.write(JSON.stringify(out, null, 2) + '\n');
      return 0;
    }
    ctx.out.write(`model ${model.id}, recipe "${out.recipe}", ${RUNNING} jobs running, burst of ${burst} submissions from ${owners} owners, ${windowMs / 1000} s window${rounds > 1 ? `, ${rounds} rounds` : ''}\n\n`);
    ctx.out.write(`| variant | health p50 ms | health p99 ms | submit p50 ms | submit p99 ms | accepted (p99 ms) | refused (p99 ms) | edits/min | UNet samples/s |\n|---|---:|---:|---:|---:|---:|---|---:|---:|\n`);
    for (const r of results) ctx.out.write(row(r, rounds > 1 ? `${r.variant.name} (round ${r.round})` : r.variant.name));
    const stageNames = ['body', 'check', 'input', 'commit'].filter((st) => results.some((r) => r.stages[st]));
    if (stageNames.length) {
      // Bucket bounds of asyrp_submit_stage_seconds over the burst's accepted submits (p50 / p99, ms).
      ctx.out.write(`\naccepted submits by stage, p50 / p99 ms (bounds of the metric's buckets):\n\n| variant | ${stageNames.join(' | ')} |\n|---|${stageNames.map(() => '---:').join('|')}|\n`);
      for (const r of results) {
        const cells = stageNames.map((st) => (r.stages[st] ? `${fmt(r.stages[st].p50 * 1000)} / ${fmt(r.stages[st].p99 * 1000)}` : '—'));
        ctx.out.write(`| ${rounds > 1 ? `${r.variant.name} (round ${r.round})` : r.variant.name} | ${cells.join(' | ')} |\n`);
      }
    }
    if (rounds > 1) {
      ctx.out.write(`\nmedian over the ${rounds} rounds:\n\n| variant | health p99 ms | submit p99 ms | accepted p99 ms | refused p99 ms | edits/min |\n|---|---:|---:|---:|---:|---:|\n`);
      for (const v of variants) {
        const rs = results.filter((r) => r.variant === v);
        const m = (f: (r: VariantResult) => number, d = 0) => fmt(median(rs.map(f)), d);
        ctx.out.write(`| ${v.name} | ${m((r) => r.healthMs.p99)} | ${m((r) => r.submitMs.p99)} | ${m((r) => r.acceptedP99)} | ${m((r) => r.refusedP99)} | ${m((r) => r.editsPerMinute, 1)} |\n`);
      }
    }
    if (ratios.length) {
      const cell = (xs: number[], d: number) =>
        rounds > 1 ? `${fmt(median(xs), d)} [${fmt(Math.min(...xs), d)}–${fmt(Math.max(...xs), d)}] (${xs.map((x) => fmt(x, d)).join(', ')})` : fmt(xs[0]!, d);
      ctx.out.write(`\n| ratio${rounds > 1 ? ': median [range] (each round)' : ''} | health p99 | submit p99 | edits/min | UNet samples/s |\n|---|---:|---:|---:|---:|\n`);
      for (const r of ratios) ctx.out.write(`| ${r.label} | ${cell(r.healthP99, 2)} | ${cell(r.submitP99, 2)} | ${cell(r.editsPerMinute, 2)} | ${cell(r.samplesPerSecond, 2)} |\n`);
      ctx.out.write('\n');
      for (const r of ratios) if (r.editsPerMinute.some(Number.isFinite)) ctx.out.write(`${r.label}: ${throughputVerdict(r.editsPerMinute, r.samplesPerSecond)}\n`);
      ctx.out.write(`\ntargets (worker): health p99 ≤ 100 ms, submit p99 ≤ 250 ms, edits/min no lower than inline\n`);
    }
    return 0;
  } catch (e) {
    return reportEngineError(ctx, 'bench load', e);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}
