/**
 * Thrown out of a running edit when the bot shuts down: the engine keeps the job, the edit stays on the
 * persisted pending list (as after a crash), and the next start follows it to its end and posts the
 * result. Adapters treat it as neither success nor failure: no error is shown and the status stays.
 */
export class HandedOver extends Error {
  constructor() {
    super('handed over to the next start of the bot');
    this.name = 'HandedOver';
  }
}
