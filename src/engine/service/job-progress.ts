/**
 * Progress for clients: who listens to which job (server-sent events), optional preview PNGs of the
 * predicted x0, and time estimates from the recent cost of a batched step.
 */
import type { JobEvent, JobStatus } from '../client/api-types.js';
import type { Job } from './job.js';
import { previewPng } from './job-results.js';

interface Subscriber {
  readonly previews: boolean;
  send(e: JobEvent): void;
}

/** Evaluations a job is assumed to need before it has started (40 inversion + 40 generation). */
const TYPICAL_STEPS = 80;

export class ProgressHub {
  private readonly subscribers = new Map<string, Set<Subscriber>>();
  /** Smoothed wall time of one batched UNet step, ms (0 until the first step). */
  private stepMs = 0;

  constructor(private readonly previewEvery: number) {}

  subscribe(id: string, previews: boolean, send: (e: JobEvent) => void): () => void {
    const sub: Subscriber = { previews, send };
    let set = this.subscribers.get(id);
    if (!set) this.subscribers.set(id, (set = new Set()));
    set.add(sub);
    return () => {
      set!.delete(sub);
      if (set!.size === 0) this.subscribers.delete(id);
    };
  }

  async publish(job: Job, status: () => JobStatus): Promise<void> {
    const subs = this.subscribers.get(job.id);
    if (!subs?.size) return;
    const snapshot = status();
    const g = job.generations.find((x) => !x.done && x.lastX0);
    const wantPreview = g?.lastX0 && job.step % this.previewEvery === 0 && [...subs].some((s) => s.previews);
    const preview = wantPreview ? await previewPng(g.lastX0!) : undefined;
    for (const s of subs) s.send(s.previews && preview ? { status: snapshot, previewBase64: preview } : { status: snapshot });
  }

  observeStep(ms: number): void {
    this.stepMs = this.stepMs ? 0.8 * this.stepMs + 0.2 * ms : ms;
  }

  /** Remaining time for a job: its own steps, plus the jobs ahead of it when queued. */
  eta(job: Job, position: number): number | null {
    if (job.finished) return 0;
    if (!this.stepMs) return null;
    const perSample = Math.max(1, job.width);
    const own = ((job.total || TYPICAL_STEPS * perSample) - job.step) / perSample;
    const ahead = job.state === 'queued' ? position * TYPICAL_STEPS : 0;
    return Math.round((own + ahead) * this.stepMs);
  }

  /** What one job takes, from the step time alone: the guess before any job has finished. */
  typicalJobMs(): number {
    return this.stepMs ? TYPICAL_STEPS * this.stepMs : 5000;
  }
}
