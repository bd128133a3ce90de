/**
 * engine.inferenceNice on Linux: the inference worker thread and the onnxruntime threads it starts run
 * at a lower priority (a higher nice value) than the thread that hosts it, while that thread and libuv's
 * pool (file I/O, sharp) keep theirs. In a child process (inference-nice-child.ts) with a 16-thread
 * libuv pool, so the pool's threads are told apart from the worker's by their number: libuv starts its
 * pool once per process, at the first task (Node's module loader reads the entry through it), and its
 * threads inherit the nice value of the thread that started it.
 */
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { getPriority } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '../helpers/paths.js';
import type { ThreadNice } from '../helpers/thread-nice.js';

const NICE = 7;
const POOL = 16;

// Linux only (elsewhere nice is per process and the worker leaves it alone); a test run already at
// nice 19 has no lower priority to give.
describe.runIf(process.platform === 'linux' && getPriority() < 19)('inference worker priority', () => {
  it('runs the worker and onnxruntime’s threads niced, the hosting thread and libuv’s pool not', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', join(repoRoot, 'test/helpers/inference-nice-child.ts')], {
      cwd: repoRoot,
      env: { ...process.env, UV_THREADPOOL_SIZE: String(POOL) },
    });
    const r = JSON.parse(stdout.trim().split('\n').pop()!) as { pid: number; base: number; before: ThreadNice[]; after: ThreadNice[] };
    const expected = Math.min(19, r.base + NICE);
    const existed = new Map(r.before.map((t) => [t.tid, t.nice]));
    const niced = r.after.filter((t) => t.nice === expected);
    // The worker thread and at least one onnxruntime intra-op thread, all started after the host.
    expect(niced.length).toBeGreaterThanOrEqual(2);
    expect(niced.every((t) => !existed.has(t.tid))).toBe(true);
    // Not libuv's 16 pool threads: those run at the engine's own priority, as does the hosting thread.
    expect(niced.length).toBeLessThan(POOL);
    expect(r.after.filter((t) => t.nice === r.base).length).toBeGreaterThan(POOL);
    expect(r.after.find((t) => t.tid === r.pid)?.nice).toBe(r.base);
    for (const t of r.after) if (existed.has(t.tid)) expect(t.nice).toBe(existed.get(t.tid));
  }, 60_000);
});
