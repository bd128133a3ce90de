/**
 * One synchronous chunk of work per turn of the event loop. Jobs that are started or finished together
 * (a batch's jobs often end on the same tick) each have a synchronous part that waits on the disk: the
 * database commit, final.json and its folder synced (2-3 fsyncs, 5-20 ms on the shared VM). Run back to
 * back, sixteen of them held the event loop for a quarter of a second and `/v1/health` waited behind
 * them; taking turns, a request waits for one job's part at most.
 *
 * A turn is a setImmediate callback: an immediate queued from inside one runs on the next iteration,
 * after that iteration's poll phase has handled the I/O that arrived (HTTP requests among it).
 */
export class EventLoopTurns {
  private tail: Promise<void> = Promise.resolve();

  /**
   * Resolves on a turn of its own, after the turns handed out before it: the caller runs its
   * synchronous part right after the await, before the next caller's turn comes.
   */
  next(): Promise<void> {
    const turn = this.tail.then(() => new Promise<void>((resolve) => setImmediate(resolve)));
    this.tail = turn;
    return turn;
  }
}
