/**
 * Events over HTTP: a reaction mapped by a workspace admin queues exactly one edit however often the
 * event is delivered (Slack retries with the same event_id and X-Slack-Retry-Num) or the emoji is
 * re-added; a mention with a recipe in a thread edits the thread's image; admin commands are for
 * workspace admins only.
 */
import { describe, expect, it } from 'vitest';
import { CHANNEL, resultIn, samplePng, settled, useSlackSuite } from './support/slack-harness.js';

const { h, guard } = useSlackSuite();


const uploads = () => h.fake.calls.filter((c) => c.method === 'files.completeUploadExternal').length;

describe('admin commands', () => {
  it('refuses members and lets workspace admins map an emoji', async () => {
    const { fake } = h;
    const member = await fake.ask(fake.users.alice, CHANNEL, 'admin emoji :star: global:0.5');
    expect(member.text).toMatch(/^❌ Only workspace admins/);
    const admin = await fake.ask(fake.users.admin, CHANNEL, 'admin emoji :star: global:0.5');
    expect(admin.text).toContain('now runs `global:0.5`');
    expect(h.storage.serverSettings.get('slack', fake.teamId).emoji).toEqual([expect.objectContaining({ emoji: ':star:', recipe: 'global:0.5' })]);
    const help = await fake.ask(fake.users.alice, CHANNEL, 'help');
    expect(help.text).toContain(':star: `global:0.5`');
  });
});

describe('reactions', () => {
  it('runs one edit for a reaction delivered, retried with the same event_id, and re-added', async () => {
    const { fake } = h;
    const image = fake.postImage(fake.users.bob, CHANNEL, samplePng());
    const before = uploads();
    const event = { type: 'reaction_added', user: fake.users.alice.id, reaction: 'star', item_user: fake.users.bob.id, item: { type: 'message', channel: CHANNEL, ts: image.ts }, event_ts: image.ts };
    const envelope = fake.eventEnvelope(event, 'Ev0REACT1');
    const first = await fake.event(envelope);
    expect(first.status).toBe(200);
    expect(first.ms).toBeLessThan(3000);
    expect((await fake.event(envelope, { retryNum: 1 })).status).toBe(200);
    expect((await fake.event(envelope, { retryNum: 2 })).status).toBe(200);
    // Removed and added again: a new event_id, the same (message, emoji, user).
    await fake.event(fake.eventEnvelope(event, 'Ev0REACT2'));

    const result = await fake.waitFor(() => resultIn(h, CHANNEL, image.ts), 'the reaction result');
    await fake.waitFor(() => image.reactions.some((r) => r.name === 'white_check_mark'), 'the done reaction');
    await settled(h);
    expect(uploads() - before).toBe(1);
    // Both layers saw it: the event_id was claimed globally, the (message, emoji, user) by the handler.
    expect(h.storage.idempotency.claim('slack:event:Ev0REACT1').claimed).toBe(false);
    expect(h.storage.idempotency.claim('slack:event:Ev0REACT2').claimed).toBe(false);
    const edit = await fake.waitFor(() => h.storage.history.findByMessage('slack', result.files![0]!.id), 'the edit');
    expect(edit.recipe).toBe('global:0.5');
    // The edit belongs to the person who reacted, not the image's author.
    expect(h.storage.accounts.get(edit.accountId).identities.map((i) => i.userId)).toEqual([fake.users.alice.id]);
  });

  it('ignores unmapped emoji and messages without an image', async () => {
    const { fake } = h;
    const image = fake.postImage(fake.users.bob, CHANNEL, samplePng());
    const text = fake.state.add({ channel: CHANNEL, user: fake.users.bob.id, text: 'no image here' });
    const before = fake.calls.length;
    await fake.event(fake.eventEnvelope({ type: 'reaction_added', user: fake.users.alice.id, reaction: 'thumbsup', item: { type: 'message', channel: CHANNEL, ts: image.ts } }));
    await fake.event(fake.eventEnvelope({ type: 'reaction_added', user: fake.users.alice.id, reaction: 'star', item: { type: 'message', channel: CHANNEL, ts: text.ts } }));
    await settled(h);
    // The unmapped emoji costs no call at all; the mapped one reads the message, finds no image, stops.
    expect(fake.calls.slice(before).map((c) => c.method).filter((m) => m !== 'users.info')).toEqual(['conversations.replies']);
  });
});

describe('mentions', () => {
  it('edits the image of the thread it is mentioned in', async () => {
    const { fake } = h;
    const parent = fake.postImage(fake.users.bob, 'C0THREADS', samplePng(), { text: 'my photo' });
    fake.state.add({ channel: 'C0THREADS', user: fake.users.alice.id, text: 'nice', thread_ts: parent.ts });
    const mention = fake.state.add({ channel: 'C0THREADS', user: fake.users.alice.id, text: `<@${fake.botUserId}> global 0.3`, thread_ts: parent.ts });
    const res = await fake.event(fake.eventEnvelope({ type: 'app_mention', user: fake.users.alice.id, text: mention.text, ts: mention.ts, thread_ts: parent.ts, channel: 'C0THREADS', event_ts: mention.ts }));
    expect(res.status).toBe(200);
    const result = await fake.waitFor(() => resultIn(h, 'C0THREADS', parent.ts), 'the mention result');
    const edit = await fake.waitFor(() => h.storage.history.findByMessage('slack', result.files![0]!.id), 'the edit');
    expect(edit.recipe).toBe('global:0.3');
    expect(fake.calls.find((c) => c.method === 'files.completeUploadExternal' && c.args.channel_id === 'C0THREADS')!.args.thread_ts).toBe(parent.ts);
  });

  it('edits an image attached to the mentioning message itself', async () => {
    const { fake } = h;
    const m = fake.postImage(fake.users.bob, 'C0ATTACH', samplePng(), { text: `<@${fake.botUserId}> shift:0.2 global:0.1` });
    await fake.event(fake.eventEnvelope({ type: 'app_mention', user: fake.users.bob.id, text: m.text, ts: m.ts, channel: 'C0ATTACH', event_ts: m.ts, files: m.files!.map(({ bytes: _b, ...f }) => f) }));
    const result = await fake.waitFor(() => resultIn(h, 'C0ATTACH', m.ts), 'the result in the message thread');
    const edit = await fake.waitFor(() => h.storage.history.findByMessage('slack', result.files![0]!.id), 'the edit');
    expect(edit.recipe).toBe('shift:0.2 global:0.1');
  });

  it('answers privately when there is no image to edit', async () => {
    const { fake } = h;
    const m = fake.state.add({ channel: 'C0EMPTY', user: fake.users.alice.id, text: `<@${fake.botUserId}> global` });
    await fake.event(fake.eventEnvelope({ type: 'app_mention', user: fake.users.alice.id, text: m.text, ts: m.ts, channel: 'C0EMPTY', event_ts: m.ts }));
    const note = await fake.waitFor(() => fake.state.ephemerals.find((e) => e.channel === 'C0EMPTY'), 'the hint');
    expect(note.text).toContain('I need an image');
    expect(guard.violations).toEqual([]);
  });
});
