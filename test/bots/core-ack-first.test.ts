/** AckFirst: work after an ack waits while any delivery is unanswered, goes one piece per turn, and never starves. */
import { describe, expect, it } from 'vitest';
import { AckFirst } from '../../src/bots/core/ack-first.js';

const turn = () => new Promise<void>((r) => setImmediate(r));
const turns = async (n: number) => {
  for (let i = 0; i < n; i++) await turn();
};

describe('AckFirst', () => {
  it('lets work go at once when nothing awaits an answer', async () => {
    const intake = new AckFirst();
    let went = false;
    void intake.idle().then(() => (went = true));
    await turns(2);
    expect(went).toBe(true);
  });

  it('holds work while a delivery is unanswered and lets it go once answered', async () => {
    const intake = new AckFirst(60_000);
    const answered = intake.arrive();
    expect(intake.outstanding).toBe(1);
    let went = false;
    void intake.idle().then(() => (went = true));
    await turns(5);
    expect(went).toBe(false);
    answered();
    answered(); // a second call changes nothing
    expect(intake.outstanding).toBe(0);
    await turns(2);
    expect(went).toBe(true);
  });

  it('lets one piece go per turn, so a delivery arriving in between is served first', async () => {
    const intake = new AckFirst(60_000);
    const order: string[] = [];
    const answered = intake.arrive();
    void intake.idle().then(() => order.push('first'));
    void intake.idle().then(() => {
      order.push('second');
    });
    answered();
    // Between the first and the second piece, a new request comes in and is not answered yet.
    while (order.length === 0) await turn();
    const next = intake.arrive();
    await turns(5);
    expect(order).toEqual(['first']);
    next();
    await turns(2);
    expect(order).toEqual(['first', 'second']);
  });

  it('lets work go after maxWaitMs even if deliveries never stop', async () => {
    const intake = new AckFirst(30);
    intake.arrive(); // never answered
    const t0 = Date.now();
    await intake.idle();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(25);
    // The deadline is each waiter's own: a later one waits its full time too, then goes.
    await intake.idle();
  });
});
