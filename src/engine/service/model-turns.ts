/**
 * Which model's batch the worker runs next, and which jobs are in it: running jobs that still have
 * samples to generate (not those writing their results). Models with such jobs take turns, one tick each.
 */
import type { Job } from './job.js';

export class ModelTurns {
  private turn = 0;

  constructor(
    private readonly running: ReadonlyMap<string, Job>,
    private readonly writing: { has(id: string): boolean },
  ) {}

  /** Running jobs of a model that still have samples in its batch. */
  runningOn(modelId: string): Job[] {
    return [...this.running.values()].filter((j) => j.request.model === modelId && !this.writing.has(j.id));
  }

  /** The next model with samples to generate, round robin; undefined when no model has any. */
  next(): string | undefined {
    const ids = [...new Set([...this.running.values()].filter((j) => !this.writing.has(j.id)).map((j) => j.request.model))];
    if (!ids.length) return undefined;
    return ids[this.turn++ % ids.length];
  }
}
