/**
 * Where inputs, results, previews and inversion-cache entries live so that every host reaches them
 * (no shared filesystem): a small interface, with Redis behind it. Every blob expires (blobTtlSeconds)
 * and none may be larger than maxBlobBytes, since Redis keeps them all in memory. An S3-compatible store
 * would be a second implementation of BlobStore.
 */
import type { Redis } from 'ioredis';
import { ClusterError } from './cluster-error.js';

export interface BlobStore {
  /** Stores `bytes` under `key` for `ttlSeconds` (the store's default when absent); throws BLOB_TOO_LARGE. */
  put(key: string, bytes: Uint8Array, ttlSeconds?: number): Promise<void>;
  /** The bytes, or null when there are none (never stored, expired, deleted). */
  get(key: string): Promise<Buffer | null>;
  delete(...keys: string[]): Promise<void>;
}

export interface BlobLimits {
  readonly maxBytes: number;
  readonly ttlSeconds: number;
}

export class RedisBlobStore implements BlobStore {
  constructor(
    private readonly redis: Redis,
    private readonly limits: BlobLimits,
  ) {}

  async put(key: string, bytes: Uint8Array, ttlSeconds = this.limits.ttlSeconds): Promise<void> {
    if (bytes.byteLength > this.limits.maxBytes) {
      throw new ClusterError('BLOB_TOO_LARGE', `${bytes.byteLength} bytes is over the ${this.limits.maxBytes}-byte limit of the shared store`, { bytes: bytes.byteLength, maxBytes: this.limits.maxBytes });
    }
    const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    await this.redis.set(key, buf, 'EX', Math.max(1, Math.round(ttlSeconds)));
  }

  async get(key: string): Promise<Buffer | null> {
    return this.redis.getBuffer(key);
  }

  async delete(...keys: string[]): Promise<void> {
    if (keys.length) await this.redis.del(...keys);
  }
}
