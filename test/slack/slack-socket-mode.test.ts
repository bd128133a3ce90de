/**
 * The Socket Mode path: with an app token the bot opens apps.connections.open (app token, not the
 * bot token) and takes envelopes over the fake's WebSocket. A slash command envelope is acked with the
 * private "working" payload and the result is uploaded in the image thread; an events_api envelope
 * redelivered (retry_attempt 1, same event_id) runs once.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { CHANNEL, resultIn, samplePng, settled, useSlackSuite } from './support/slack-harness.js';

const { h, guard } = useSlackSuite({ socketMode: true });

beforeAll(async () => {
  await h.fake.waitFor(() => h.fake.socketCount > 0, 'the socket connection');
});

describe('Socket Mode', () => {
  it('connects with the app token and serves no HTTP endpoint', () => {
    const open = h.fake.calls.find((c) => c.method === 'apps.connections.open')!;
    expect(open.auth).toBe(`Bearer ${h.fake.appToken}`);
    expect(h.bot.eventsUrl).toBeNull();
  });

  it('acks a slash command envelope and uploads the result in the image thread', async () => {
    const { fake } = h;
    const image = fake.postImage(fake.users.alice, CHANNEL, samplePng());
    const started = Date.now();
    const ack = (await fake.envelope('slash_commands', fake.commandFields(fake.users.alice, CHANNEL, 'global strength:0.6'))) as { text?: string };
    expect(Date.now() - started).toBeLessThan(3000);
    expect(ack.text).toContain('global:0.6');
    const result = await fake.waitFor(() => resultIn(h, CHANNEL, image.ts), 'the result');
    const edit = await fake.waitFor(() => h.storage.history.findByMessage('slack', result.files![0]!.id), 'the edit');
    expect(edit.recipe).toBe('global:0.6');
  });

  it('runs a redelivered event once', async () => {
    const { fake } = h;
    const mapping = fake.commandFields(fake.users.admin, CHANNEL, 'admin emoji :zap: global:0.4');
    await fake.envelope('slash_commands', mapping);
    // Acked empty; the mapping is stored after the ack and confirmed through response_url.
    expect((await fake.responseTo(mapping.response_url!.split('/response/')[1]!)).text).toContain('now runs');
    const image = fake.postImage(fake.users.bob, CHANNEL, samplePng());
    const envelope = fake.eventEnvelope({ type: 'reaction_added', user: fake.users.bob.id, reaction: 'zap', item: { type: 'message', channel: CHANNEL, ts: image.ts } }, 'Ev0SOCKET');
    await fake.envelope('events_api', envelope);
    await fake.envelope('events_api', envelope, 1);
    await fake.waitFor(() => resultIn(h, CHANNEL, image.ts), 'the reaction result');
    await fake.waitFor(() => image.reactions.some((r) => r.name === 'white_check_mark'), 'the done reaction');
    await settled(h);
    expect(fake.threadReplies(CHANNEL, image.ts).filter((m) => m.files?.length)).toHaveLength(1);
    expect(guard.violations).toEqual([]);
  });
});
