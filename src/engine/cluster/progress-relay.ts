/**
 * Progress for the event-stream clients of this API node, whichever worker runs the job and whichever
 * API node took the submit: BullMQ's QueueEvents (a Redis stream every node reads) carries each worker's
 * job.updateProgress and each job's end. Relayed at most once per progressMinIntervalMs per job, except
 * phase changes and the final state, which go out at once; previews are read from the `preview` blob
 * when its counter moves. A job that has been silent for a while is re-read, so an event lost in a
 * Redis reconnect cannot leave a stream open after its job ended.
 */
import { QueueEvents, type ConnectionOptions } from 'bullmq';
import type { RedisOptions } from 'ioredis';
import type { JobEvent, JobStatus } from '../client/api-types.js';
import type { Logger } from '../../log/logger.js';
import type { BlobStore } from './blob-store.js';
import { clusterKeys, queueName } from './contract.js';
import { FINAL_STATES, asStatus, withoutPreview } from './cluster-status.js';

interface Subscriber {
  readonly previews: boolean;
  readonly send: (e: JobEvent) => void;
}

interface Watch {
  readonly subs: Set<Subscriber>;
  lastSentAt: number;
  lastSent: JobStatus | null;
  pending: { status: JobStatus; preview: number } | null;
  timer: NodeJS.Timeout | null;
  previewSeen: number;
  /** Deliveries in order, even when one waits for a preview read. */
  chain: Promise<void>;
  heardAt: number;
}

export interface RelayOptions {
  /** For QueueEvents: each holds its own blocking connection. */
  readonly connection: RedisOptions;
  readonly prefix: string;
  readonly blobs: BlobStore;
  readonly minIntervalMs: number;
  /** A job's current status (null when unknown): for ends that carry none, and for the silent-job check. */
  readonly readStatus: (id: string) => Promise<JobStatus | null>;
  readonly log: Logger;
  /** A watched job with no event for this long is re-read (ms). */
  readonly silentMs?: number;
}

export class ProgressRelay {
  private readonly watches = new Map<string, Watch>();
  private readonly events = new Map<string, QueueEvents>();
  private readonly poll: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly opts: RelayOptions) {
    const silentMs = opts.silentMs ?? 2000;
    this.poll = setInterval(() => this.checkSilent(silentMs), Math.max(250, silentMs / 2));
    this.poll.unref();
  }

  /** Starts reading the events of a model's queue (once per model; resolves when the reader is connected). */
  async watch(modelId: string): Promise<void> {
    if (this.closed || this.events.has(modelId)) return;
    const qe = new QueueEvents(queueName(modelId), { connection: this.opts.connection as ConnectionOptions, prefix: this.opts.prefix });
    this.events.set(modelId, qe);
    qe.on('error', (err) => this.opts.log.warn('queue events reader error (it reconnects)', { model: modelId, err }));
    qe.on('progress', ({ jobId, data }) => {
      const s = asStatus(data);
      if (s) this.deliver(jobId, s, s.preview ?? 0);
    });
    qe.on('completed', ({ jobId, returnvalue }) => {
      const s = asStatus(returnvalue);
      if (s) this.deliver(jobId, { ...s, id: jobId }, 0);
      else this.reread(jobId);
    });
    // A failure (the processor threw, or every attempt stalled) and a removal (cancelled while waiting)
    // carry no status: it is read back.
    qe.on('failed', ({ jobId }) => this.reread(jobId));
    qe.on('removed', ({ jobId }) => this.reread(jobId));
    await qe.waitUntilReady();
  }

  subscribe(id: string, previews: boolean, send: (e: JobEvent) => void): () => void {
    let w = this.watches.get(id);
    if (!w) {
      w = { subs: new Set(), lastSentAt: 0, lastSent: null, pending: null, timer: null, previewSeen: 0, chain: Promise.resolve(), heardAt: Date.now() };
      this.watches.set(id, w);
    }
    const sub: Subscriber = { previews, send };
    w.subs.add(sub);
    const watch = w;
    return () => {
      watch.subs.delete(sub);
      if (watch.subs.size === 0 && this.watches.get(id) === watch) {
        if (watch.timer) clearTimeout(watch.timer);
        this.watches.delete(id);
      }
    };
  }

  /** Jobs with at least one listener on this node. */
  get watched(): number {
    return this.watches.size;
  }

  private reread(jobId: string): void {
    if (!this.watches.has(jobId)) return;
    this.opts.readStatus(jobId).then(
      (s) => s && this.deliver(jobId, s, 0),
      (err: unknown) => this.opts.log.warn('could not read a job status for its listeners', { job: jobId, err }),
    );
  }

  private deliver(jobId: string, status: JobStatus & { preview?: number }, preview: number): void {
    const w = this.watches.get(jobId);
    if (!w) return;
    w.heardAt = Date.now();
    // The listener asked about this id: whatever a worker put in the payload, the event says this id.
    const s = { ...withoutPreview(status), id: jobId };
    const last = w.lastSent;
    if (last && FINAL_STATES.has(last.state)) return;
    const now = Date.now();
    const urgent = FINAL_STATES.has(s.state) || !last || last.phase !== s.phase || last.state !== s.state;
    if (urgent || now - w.lastSentAt >= this.opts.minIntervalMs) {
      if (w.timer) clearTimeout(w.timer);
      const carried = w.pending?.preview ?? 0;
      w.timer = null;
      w.pending = null;
      this.send(w, s, Math.max(preview, carried));
      return;
    }
    // Throttled: the latest one goes out when the interval is up (a preview counter seen meanwhile is kept).
    w.pending = { status: s, preview: Math.max(preview, w.pending?.preview ?? 0) };
    w.timer ??= setTimeout(() => {
      w.timer = null;
      const p = w.pending;
      w.pending = null;
      if (p) this.send(w, p.status, p.preview);
    }, this.opts.minIntervalMs - (now - w.lastSentAt));
  }

  private send(w: Watch, status: JobStatus, preview: number): void {
    w.lastSent = status;
    w.lastSentAt = Date.now();
    const wantPreview = preview > w.previewSeen && [...w.subs].some((s) => s.previews);
    if (preview > w.previewSeen) w.previewSeen = preview;
    w.chain = w.chain
      .then(async () => {
        const png = wantPreview ? await this.opts.blobs.get(clusterKeys.blob(this.opts.prefix, status.id, 'preview')).catch(() => null) : null;
        const previewBase64 = png?.toString('base64');
        for (const sub of [...w.subs]) sub.send(sub.previews && previewBase64 ? { status, previewBase64 } : { status });
      })
      .catch((err: unknown) => this.opts.log.error('progress relay failed', { job: status.id, err }));
  }

  private checkSilent(silentMs: number): void {
    const now = Date.now();
    for (const [id, w] of this.watches) {
      if (now - w.heardAt < silentMs) continue;
      w.heardAt = now;
      this.opts.readStatus(id).then(
        (s) => {
          const last = w.lastSent;
          if (s && (!last || s.state !== last.state || s.phase !== last.phase || s.step !== last.step)) this.deliver(id, s, 0);
        },
        () => undefined,
      );
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.poll);
    for (const w of this.watches.values()) if (w.timer) clearTimeout(w.timer);
    this.watches.clear();
    await Promise.all([...this.events.values()].map((qe) => qe.close()));
    this.events.clear();
  }
}
