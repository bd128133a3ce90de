/**
 * Queued jobs, served round robin by owner: one owner with fifty jobs waits its turn behind everyone
 * with one. Per-owner caps on queued and running jobs, and a global cap, are enforced at submit time.
 */
export interface QueueItem {
  readonly id: string;
  readonly owner: string;
}

/**
 * The seam for a shared queue (docs/scaling.md): the service only needs these operations, so a queue on
 * Redis (BullMQ groups give the same per-owner round robin) can stand in for the in-process one when
 * several GPU hosts serve one API.
 */
export interface JobQueue<T extends QueueItem> {
  readonly size: number;
  countFor(owner: string): number;
  push(item: T): void;
  remove(id: string): T | undefined;
  shift(eligible?: (item: T) => boolean): T | undefined;
  position(id: string): number;
  /** 1-based positions of an owner's queued jobs, in their order. */
  positionsFor(owner: string): number[];
}

export class FairQueue<T extends QueueItem> implements JobQueue<T> {
  private readonly byOwner = new Map<string, T[]>();
  /** Owners in service order; the head is served next. */
  private rotation: string[] = [];

  get size(): number {
    let n = 0;
    for (const q of this.byOwner.values()) n += q.length;
    return n;
  }

  countFor(owner: string): number {
    return this.byOwner.get(owner)?.length ?? 0;
  }

  push(item: T): void {
    const q = this.byOwner.get(item.owner);
    if (q) q.push(item);
    else {
      this.byOwner.set(item.owner, [item]);
      this.rotation.push(item.owner);
    }
  }

  remove(id: string): T | undefined {
    for (const [owner, q] of this.byOwner) {
      const i = q.findIndex((x) => x.id === id);
      if (i >= 0) {
        const [item] = q.splice(i, 1);
        if (q.length === 0) this.dropOwner(owner);
        return item;
      }
    }
    return undefined;
  }

  private dropOwner(owner: string): void {
    this.byOwner.delete(owner);
    this.rotation = this.rotation.filter((o) => o !== owner);
  }

  /** Takes the next job whose owner passes `eligible` (e.g. under its running cap), rotating owners. */
  shift(eligible: (item: T) => boolean = () => true): T | undefined {
    for (let i = 0; i < this.rotation.length; i++) {
      const owner = this.rotation[i]!;
      const q = this.byOwner.get(owner)!;
      if (!eligible(q[0]!)) continue;
      const item = q.shift()!;
      // The served owner goes to the back of the line.
      this.rotation.splice(i, 1);
      if (q.length) this.rotation.push(owner);
      else this.byOwner.delete(owner);
      return item;
    }
    return undefined;
  }

  /** Service order as it stands now (round robin over owners), for queue positions. */
  order(): T[] {
    const queues = this.rotation.map((o) => [...this.byOwner.get(o)!]);
    const out: T[] = [];
    for (let round = 0; queues.some((q) => q.length); round++) for (const q of queues) if (q.length) out.push(q.shift()!);
    return out;
  }

  /** 1-based position of a job in service order, 0 if not queued. */
  position(id: string): number {
    for (const [owner, q] of this.byOwner) {
      const k = q.findIndex((x) => x.id === id);
      if (k >= 0) return this.positionAt(owner, k);
    }
    return 0;
  }

  positionsFor(owner: string): number[] {
    const n = this.countFor(owner);
    return Array.from({ length: n }, (_, k) => this.positionAt(owner, k));
  }

  /**
   * The position of an owner's k-th job (0-based) without building the order (a refused burst asks this
   * hundreds of times): it is served in round k, after the k jobs of its owner before it, the first
   * k + 1 of each owner ahead in the rotation and the first k of each owner behind.
   */
  private positionAt(owner: string, k: number): number {
    let before = k;
    let ahead = true;
    for (const o of this.rotation) {
      if (o === owner) {
        ahead = false;
        continue;
      }
      before += Math.min(this.byOwner.get(o)!.length, ahead ? k + 1 : k);
    }
    return before + 1;
  }
}
