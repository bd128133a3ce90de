/**
 * Retry-After against what actually happens: an owner refused at their limit during a burst is told to
 * wait about as long as it then takes until one of their jobs is done and a submit would be taken; and
 * the refusal comes before any decoding (a refused submit with a broken image is still OWNER_LIMIT).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineServer } from '../../src/engine/service/start-engine-server.js';
import type { EngineClient } from '../../src/engine/client/engine-client.js';
import { sampleImageBase64, startTestEngine } from '../helpers/engine.js';

let server: EngineServer;
let client: EngineClient;
const image = sampleImageBase64();
// Equal jobs, two at a time (batched, so they finish in pairs): regular enough to predict, long enough to measure.
const job = (owner: string, seed: number) => ({ imageBase64: image, recipe: `steps:1000 seed:${seed}`, model: 'tiny-unet', owner });

beforeAll(async () => {
  ({ server, client } = await startTestEngine({ maxBatch: 2, maxRunningPerOwner: 1, maxQueuedPerOwner: 2, maxQueued: 100 }));
});
afterAll(async () => server?.close());

/** A raw submit, for the Retry-After header itself. */
async function rawSubmit(body: unknown): Promise<{ status: number; retryAfter: string | null; error: { code: string; retryAfterMs?: number } }> {
  const res = await fetch(`${server.url}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, retryAfter: res.headers.get('retry-after'), error: ((await res.json()) as { error: { code: string; retryAfterMs?: number } }).error };
}

describe('Retry-After', () => {
  it('tells an owner at their limit how long the burst takes to reach them, within a factor of 4 of what happens', async () => {
    // Warm up: the rate is measured from finished jobs, leaving out the time before the first finish (the
    // first calls' allocations and the one inversion the cache then saves), so three pairs leave two that
    // stand for the burst's jobs.
    const warm = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => client.submit(job(`w${i}`, i))));
    await Promise.all(warm.map((j) => client.wait(j.id)));

    // A burst: six owners, two jobs each (their limit), landing at once; the last owner is served last in each round.
    const all: string[] = [];
    const mine: string[] = [];
    for (let round = 0; round < 2; round++) {
      all.push(...(await Promise.all([0, 1, 2, 3, 4].map((o) => client.submit(job(`o${o}`, 10 * round + o))))).map((j) => j.id));
      const last = await client.submit(job('o5', 10 * round + 5));
      all.push(last.id);
      mine.push(last.id);
    }
    const refused = await rawSubmit(job('o5', 99));
    const refusedAt = Date.now();
    expect([refused.status, refused.error.code]).toEqual([429, 'OWNER_LIMIT']);
    const advertisedMs = refused.error.retryAfterMs!;
    expect(refused.retryAfter).toBe(String(Math.ceil(advertisedMs / 1000)));

    // Cheap first: at the limit, a submit with a broken image is refused for the limit, not decoded.
    const broken = await rawSubmit({ ...job('o5', 98), imageBase64: Buffer.from('not an image').toString('base64') });
    expect(broken.error.code).toBe('OWNER_LIMIT');

    // What happens: the owner may submit again once one of their jobs is done.
    let observedMs = 0;
    for (;;) {
      const states = await Promise.all(mine.map((id) => client.status(id)));
      if (states.some((s) => s.state === 'done')) {
        observedMs = Date.now() - refusedAt;
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    const accepted = await client.submit(job('o5', 97));
    expect(accepted.state).toBe('queued');
    const ratio = advertisedMs / Math.max(observedMs, 1000);
    // With the warm-up left out of the rate, 0.36-1.2x on the 2-core VM at load average 15-19
    // (docs/benchmarks.md): the error left is the machine's load changing between the measured jobs and
    // the drain, both ways, so the bounds stay where a shared CI box keeps them. Before #30 the advice was
    // off by 7-120x; with the warm-up counted it ran 2-5x high, and a rate taken between the finishes of
    // one batch made it 0.02x.
    expect(ratio, `advertised ${advertisedMs} ms, observed ${observedMs} ms`).toBeGreaterThan(0.25);
    expect(ratio, `advertised ${advertisedMs} ms, observed ${observedMs} ms`).toBeLessThan(4);
    await Promise.all([...all, accepted.id].map((id) => client.cancel(id)));
  }, 55_000);
});
