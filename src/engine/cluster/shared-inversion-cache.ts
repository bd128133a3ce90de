/**
 * The inversion cache every worker reaches: x_T in the blob store under the local cache's key, so a
 * re-edit of the same image lands on any worker and still skips the inversion half of the work.
 * Writes go out in the background (the edit goes on) and the job processor awaits them before it
 * reports the job done, so a re-edit submitted after "done" always finds the entry.
 */
import type { SharedInversionCache } from '../service/engine-service.js';
import type { Logger } from '../../log/logger.js';
import type { BlobStore } from './blob-store.js';
import { clusterKeys } from './contract.js';

export class BlobInversionCache implements SharedInversionCache {
  hits = 0;
  misses = 0;
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly blobs: BlobStore,
    private readonly prefix: string,
    private readonly log: Logger,
  ) {}

  async get(modelId: string, key: string, length: number): Promise<Float32Array | null> {
    try {
      const bytes = await this.blobs.get(clusterKeys.inversion(this.prefix, modelId, key));
      // A wrong length is another model's shape under a colliding key, or a torn value: a miss.
      if (!bytes || bytes.length !== length * 4) {
        this.misses++;
        return null;
      }
      this.hits++;
      return new Float32Array(new Uint8Array(bytes).buffer);
    } catch (e) {
      this.misses++;
      this.log.warn('shared inversion cache unreadable (the edit runs the inversion)', { err: e });
      return null;
    }
  }

  put(modelId: string, key: string, xT: Float32Array): void {
    const bytes = new Uint8Array(xT.buffer, xT.byteOffset, xT.byteLength);
    const write = this.blobs
      .put(clusterKeys.inversion(this.prefix, modelId, key), bytes)
      .catch((e: unknown) => this.log.warn('shared inversion cache not written (a re-edit elsewhere runs the inversion again)', { err: e }))
      .finally(() => this.pending.delete(write));
    this.pending.add(write);
  }

  /** Resolves once every write started so far has ended (never rejects). */
  async flush(): Promise<void> {
    await Promise.all([...this.pending]);
  }
}
