/**
 * Places held by submits that are still in progress (body being read, image being checked, files being
 * written). A submit takes its place before any of that work, so the queue and owner caps count it from
 * the start: a burst is refused at once, with nothing read, instead of each request doing the work and
 * finding out at the end that the others took the room.
 */
export class SubmitPlaces {
  private readonly byOwner = new Map<string, number>();
  private total = 0;

  get size(): number {
    return this.total;
  }

  countFor(owner: string): number {
    return this.byOwner.get(owner) ?? 0;
  }

  /** Holds a place for `owner`; the returned function gives it back (once, whatever calls it). */
  take(owner: string): () => void {
    this.byOwner.set(owner, this.countFor(owner) + 1);
    this.total++;
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.total--;
      const n = this.countFor(owner) - 1;
      if (n > 0) this.byOwner.set(owner, n);
      else this.byOwner.delete(owner);
    };
  }
}
