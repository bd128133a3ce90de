/**
 * The live workers, as an API node sees them: the registration hashes workers refresh every heartbeat
 * (contract.ts, WorkerRegistration), which expire when a worker stops refreshing them. The models an API
 * node offers are the union of what live workers have loaded; nothing else tells it what exists.
 */
import type { Redis } from 'ioredis';
import type { ModelInfo } from '../client/api-types.js';
import { clusterKeys, type WorkerRegistration } from './contract.js';

/** A registration read back (Redis keeps every field as a string); a malformed one is skipped. */
export function parseRegistration(key: string, prefix: string, h: Record<string, string>): WorkerRegistration | null {
  let models: ModelInfo[];
  try {
    models = JSON.parse(h.models ?? '[]') as ModelInfo[];
  } catch {
    return null;
  }
  if (!Array.isArray(models)) return null;
  const num = (v: string | undefined) => (v === undefined || v === '' ? NaN : Number(v));
  const at = num(h.at);
  if (!Number.isFinite(at)) return null;
  return {
    workerId: h.workerId || key.slice(`${prefix}:worker:`.length),
    host: h.host ?? '',
    pid: num(h.pid) || 0,
    models,
    slots: num(h.slots) || 0,
    busy: num(h.busy) || 0,
    startedAt: num(h.startedAt) || at,
    at,
  };
}

export class WorkerDirectory {
  private cached: { at: number; workers: Promise<WorkerRegistration[]> } | null = null;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    /** Submits read the directory; a burst shares one read per this many ms. */
    private readonly cacheMs = 1000,
  ) {}

  /** Live workers (their registration has not expired), by id. */
  list(): Promise<WorkerRegistration[]> {
    const now = Date.now();
    if (this.cached && now - this.cached.at < this.cacheMs) return this.cached.workers;
    const workers = this.read();
    this.cached = { at: now, workers };
    // A failed read is not cached: the next call tries Redis again.
    workers.catch(() => (this.cached = null));
    return workers;
  }

  private async read(): Promise<WorkerRegistration[]> {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await this.redis.scan(cursor, 'MATCH', clusterKeys.workerPattern(this.prefix), 'COUNT', 200);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
    if (!keys.length) return [];
    const pipe = this.redis.pipeline();
    for (const k of keys) pipe.hgetall(k);
    const rows = (await pipe.exec()) ?? [];
    const out: WorkerRegistration[] = [];
    rows.forEach(([err, h], i) => {
      // A hash that expired between SCAN and HGETALL reads as empty.
      if (err || !h || !Object.keys(h).length) return;
      const reg = parseRegistration(keys[i]!, this.prefix, h as Record<string, string>);
      if (reg) out.push(reg);
    });
    return out.sort((a, b) => a.workerId.localeCompare(b.workerId));
  }

  /**
   * The models live workers serve, each once, with `isDefault` on the one a request without a model
   * gets: `configured` when served, else the one a worker calls its default, else the first by id.
   */
  async models(configured: string | null): Promise<ModelInfo[]> {
    const byId = new Map<string, ModelInfo>();
    let workerDefault: string | null = null;
    for (const w of await this.list()) {
      for (const m of w.models) {
        if (!byId.has(m.id)) byId.set(m.id, m);
        if (m.isDefault && workerDefault === null) workerDefault = m.id;
      }
    }
    const ids = [...byId.keys()].sort();
    const chosen = configured && byId.has(configured) ? configured : (workerDefault ?? ids[0] ?? null);
    return ids.map((id) => ({ ...byId.get(id)!, isDefault: id === chosen }));
  }

  /** Forget the cached read (tests, and a submit that found no model: a worker may just have come up). */
  refresh(): void {
    this.cached = null;
  }
}
