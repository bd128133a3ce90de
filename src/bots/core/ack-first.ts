/**
 * Acknowledgements before everything else. A platform drops a command that is not acknowledged in
 * time (Slack: 3 s), and a burst of commands arrives together; the work each command does after its
 * ack (account, Slack and engine calls, files) is the same event loop's work, so when it runs straight
 * after its own ack it delays the acks of every command still waiting. Measured on a 2-core VM (issue
 * #31, docs/benchmarks.md): a 50-command Slack burst spent more of its ack time in the earlier commands'
 * post-ack work than in its own parsing.
 *
 * The intake counts the deliveries that await an answer (arrive() ... the returned done()); work that
 * follows an ack waits in idle() until none is outstanding, and is let go one piece per event-loop turn,
 * so a request that arrived in the meantime is read (and counted) before the next piece starts. A
 * steady stream that never leaves a gap cannot starve the work: after maxWaitMs it goes anyway.
 */
export class AckFirst {
  private outstandingCount = 0;
  private readonly waiting: { resolve: () => void; deadline: number }[] = [];
  private turn: NodeJS.Immediate | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly maxWaitMs = 2000,
    private readonly now: () => number = Date.now,
  ) {}

  /** A delivery that expects an answer arrived; call the returned function once it is answered (or gone). */
  arrive(): () => void {
    this.outstandingCount++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.outstandingCount--;
      this.schedule();
    };
  }

  /** Deliveries received and not yet answered. */
  get outstanding(): number {
    return this.outstandingCount;
  }

  /** Resolves once no acknowledgement is outstanding (one waiter per turn), or after maxWaitMs. */
  idle(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.waiting.push({ resolve, deadline: this.now() + this.maxWaitMs });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.waiting.length === 0) return;
    // setImmediate runs after the poll phase: connections and data that arrived meanwhile are taken in first.
    this.turn ??= setImmediate(() => {
      this.turn = null;
      this.releaseOne();
    });
    if (!this.timer) {
      // Wakes the oldest waiter at its deadline even if no delivery is answered until then.
      this.timer = setTimeout(() => {
        this.timer = null;
        this.schedule();
      }, Math.max(0, this.waiting[0]!.deadline - this.now()));
      this.timer.unref();
    }
  }

  private releaseOne(): void {
    const first = this.waiting[0];
    if (!first) return;
    if (this.outstandingCount > 0 && first.deadline > this.now()) return; // done() or the timer schedules again
    this.waiting.shift();
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    first.resolve();
    this.schedule();
  }
}
