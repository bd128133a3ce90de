/**
 * When things around the bot go wrong: a slow Slack API must not make the bot miss the 3 s ack (the
 * answer then comes through response_url); a 429 from Slack is waited out and retried; an engine that
 * went away gives a friendly ⚠️ in the thread instead of silence or a raw error.
 */
import { describe, expect, it } from 'vitest';
import { CHANNEL, resultIn, samplePng, useSlackSuite } from './support/slack-harness.js';

const { h, engine, guard } = useSlackSuite();


describe('a slow or rate-limiting Slack', () => {
  it('acks an admin command at once when users.info is slow, and answers through response_url', async () => {
    const { fake } = h;
    const slowAdmin = { id: 'U0SLOWADM', name: 'slowadmin', is_admin: true };
    fake.state.users.set(slowAdmin.id, slowAdmin);
    fake.delays.set('users.info', 2600);
    try {
      const asked = await fake.ask(slowAdmin, CHANNEL, 'admin reactions off');
      expect(asked.delivery.status).toBe(200);
      expect(asked.delivery.text).toBe(''); // the ack went out before users.info was even asked
      expect(asked.delivery.ms).toBeLessThan(2600);
      expect(asked.body).toMatchObject({ response_type: 'ephemeral', text: 'Emoji reactions are off.' });
      expect(h.storage.serverSettings.get('slack', fake.teamId).reactionsEnabled).toBe(false);
    } finally {
      fake.delays.delete('users.info');
    }
  });

  it('waits out a 429 on the status message and still delivers the result', async () => {
    const { fake } = h;
    const image = fake.postImage(fake.users.alice, 'C0BUSY', samplePng());
    fake.faults.set('chat.postMessage', { times: 1, status: 429, retryAfterS: 1 });
    await fake.command(fake.users.alice, 'C0BUSY', 'global 0.5');
    await fake.waitFor(() => resultIn(h, 'C0BUSY', image.ts), 'the result');
    expect(fake.calls.filter((c) => c.method === 'chat.postMessage' && c.args.channel === 'C0BUSY')).toHaveLength(2);
    await fake.waitFor(() => fake.threadReplies('C0BUSY', image.ts).find((m) => !m.files && m.text.includes('✅ Done')), 'the status message');
  });
});

describe('a channel the bot is not in', () => {
  it('tells the person to invite the bot, privately', async () => {
    const { fake } = h;
    fake.notMember.add('C0NOTIN');
    fake.postImage(fake.users.alice, 'C0NOTIN', samplePng());
    const res = await fake.command(fake.users.alice, 'C0NOTIN', 'global 0.5');
    expect(res.status).toBe(200);
    const answer = await fake.waitFor(() => fake.responses.find((r) => String(r.body.text).includes('/invite @asyrp')), 'the hint');
    expect(answer.body).toMatchObject({ response_type: 'ephemeral' });
    expect(h.logs.join('\n')).toContain('conversations.history failed: not_in_channel');
    // The line carries the id of the request it belongs to (the command's trigger id).
    const line = h.logRecords.find((r) => String(r.msg).includes('conversations.history failed'));
    expect(line?.interaction).toMatch(/\.trigger$/);
  });
});

describe('an engine that went away', () => {
  it('marks the image ⚠️ and says so in plain words', async () => {
    const { fake } = h;
    const image = fake.postImage(fake.users.bob, 'C0DOWN', samplePng());
    await engine.close();
    const res = await fake.command(fake.users.bob, 'C0DOWN', 'global 0.5');
    expect(res.status).toBe(200);
    await fake.waitFor(() => image.reactions.some((r) => r.name === 'warning'), 'the failure reaction');
    const status = fake.threadReplies('C0DOWN', image.ts).map((m) => m.text).join('\n');
    expect(status).toContain('⚠️ The edit engine is offline right now');
    expect(status).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|Error:/);
    expect(guard.violations).toEqual([]);
  });
});
