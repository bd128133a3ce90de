/**
 * How many edits may be in their set-up at once (after the ack, until the engine accepted the job:
 * status message, thread, download, submission). A burst of commands is acknowledged at once, but
 * setting up fifty edits at the same time floods the event loop with platform and engine calls that
 * then delay the acknowledgements of the commands still arriving; the engine queues the jobs anyway, so
 * a few at a time costs the person nothing they would notice.
 */
export class SetupSlots {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  /** Resolves with a release function once a slot is free; call it exactly once. */
  async acquire(): Promise<() => void> {
    if (this.active >= this.limit) await new Promise<void>((r) => this.waiting.push(r));
    else this.active++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next(); // the slot passes straight to the next waiter
      else this.active--;
    };
  }
}
