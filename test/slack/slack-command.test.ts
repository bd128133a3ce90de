/**
 * End to end: the real Bolt app over HTTP against the fake Slack Web API, with a real engine server on
 * the analytic test model. A signed `/asyrp global strength:0.8` is acked within 3 s, finds the
 * person's latest image in the channel, shows ⏳ and a status message in the image's thread, and
 * uploads the result there with files.uploadV2 and the result buttons.
 */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { actionIds, CHANNEL, resultIn, samplePng, settled, useSlackSuite } from './support/slack-harness.js';

const { h, guard } = useSlackSuite();


const isPng = (b: Uint8Array) => b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47;

describe('/asyrp with a recipe', () => {
  it('acks within 3 s and uploads the result into the image thread with buttons', async () => {
    const { fake } = h;
    const older = fake.postImage(fake.users.alice, CHANNEL, samplePng(), { name: 'old.png' });
    fake.postImage(fake.users.bob, CHANNEL, samplePng(), { name: 'bobs.png' }); // someone else's, newer
    const image = fake.postImage(fake.users.alice, CHANNEL, samplePng());

    const res = await fake.command(fake.users.alice, CHANNEL, 'global strength:0.8');
    expect(res.status).toBe(200);
    expect(res.ms).toBeLessThan(3000);
    expect(res.json()).toMatchObject({ response_type: 'ephemeral' });
    expect(res.json<{ text: string }>().text).toContain('global:0.8');

    const result = await fake.waitFor(() => resultIn(h, CHANNEL, image.ts), 'the result in the image thread');
    expect(fake.threadReplies(CHANNEL, older.ts)).toEqual([]);

    // files.uploadV2: upload URL, bytes, then completeUploadExternal with the thread and the blocks.
    const complete = fake.calls.find((c) => c.method === 'files.completeUploadExternal')!;
    expect(complete.args.channel_id).toBe(CHANNEL);
    expect(complete.args.thread_ts).toBe(image.ts);
    expect(fake.calls.some((c) => c.method === 'files.upload')).toBe(false);
    // Enlarged for display (the 16 px test model, nearest neighbour ×32), with the model's own pixels beside.
    expect(result.files!.map((f) => f.name)).toEqual([expect.stringMatching(/^asyrp-\d+\.png$/), expect.stringMatching(/before-after\.png$/), expect.stringMatching(/^asyrp-\d+-original\.png$/)]);
    expect(result.files!.every((f) => isPng(f.bytes))).toBe(true);
    const sizes = await Promise.all(result.files!.map(async (f) => sharp(f.bytes).metadata().then((m) => `${m.width}x${m.height}`)));
    expect(sizes).toEqual(['512x512', '540x240', '16x16']);
    expect(JSON.stringify(complete.args.blocks)).toContain('Enlarged for display');

    const edit = await fake.waitFor(() => h.storage.history.findByMessage('slack', result.files![0]!.id), 'the edit remembered by its file');
    expect(edit).toMatchObject({ status: 'done', recipe: 'global:0.8', platform: 'slack', channelId: CHANNEL });
    expect(actionIds(result)).toEqual(['weaker', 'stronger', 'sweep', 'undo', 'save', 'delete'].map((a) => `asyrp:r:${a}:${edit.id}`));

    // The image got ⏳ then ✅; the one status message in the thread was updated in place.
    await fake.waitFor(() => image.reactions.some((r) => r.name === 'white_check_mark'), 'the done reaction');
    const reacts = fake.calls.filter((c) => c.method.startsWith('reactions.')).map((c) => `${c.method}:${c.args.name}`);
    expect(reacts).toEqual(['reactions.add:hourglass_flowing_sand', 'reactions.remove:hourglass_flowing_sand', 'reactions.add:white_check_mark']);
    expect(image.reactions.map((r) => r.name)).toEqual(['white_check_mark']);
    const statusPosts = fake.calls.filter((c) => c.method === 'chat.postMessage');
    expect(statusPosts).toHaveLength(1);
    expect(statusPosts[0]!.args.thread_ts).toBe(image.ts);
    const status = fake.state.message(CHANNEL, fake.threadReplies(CHANNEL, image.ts)[0]!.ts)!;
    expect(status.text).toMatch(/✅ Done/);
    expect(fake.calls.filter((c) => c.method === 'chat.update').length).toBeGreaterThan(0);

    // The private file was fetched with the bot token from the allow-listed host.
    expect(fake.fileRequests.at(-1)?.auth).toBe(`Bearer ${fake.botToken}`);
    expect(h.logs.join('\n')).not.toContain(fake.botToken);
    expect(guard.violations).toEqual([]);
  });
});

describe('/asyrp on an image outside the model\'s domain', () => {
  it('edits a photo given to a toy model and says so in one line with the result', async () => {
    const { fake } = h;
    const photo = await sharp({ create: { width: 256, height: 200, channels: 3, background: '#6a8caf' } }).png().toBuffer();
    const image = fake.postImage(fake.users.alice, 'C0DOMAIN', new Uint8Array(photo));
    expect((await fake.command(fake.users.alice, 'C0DOMAIN', 'global 0.5')).status).toBe(200);
    const result = await fake.waitFor(() => resultIn(h, 'C0DOMAIN', image.ts), 'the result');
    const blocks = JSON.stringify(fake.calls.filter((c) => c.method === 'files.completeUploadExternal').at(-1)!.args.blocks);
    expect(blocks).toContain(':warning: Note: this model only edits per-pixel Gaussian test images, 16 px; this looks like a photo');
    expect(blocks).toContain('Real models: docs/models.md.');
    expect(result.files!.length).toBeGreaterThan(0);
  });
});

describe('/asyrp with a mistake in the recipe', () => {
  it('names an unknown option with the closest valid one, privately, the caret lined up in a code block', async () => {
    const { fake } = h;
    fake.postImage(fake.users.alice, CHANNEL, samplePng());
    const callsBefore = fake.calls.length;
    const res = await fake.command(fake.users.alice, CHANNEL, 'global 0.8 stepz:20');
    const body = res.json<{ response_type: string; text: string }>();
    expect(body.response_type).toBe('ephemeral');
    expect(body.text).toContain('Unknown option "stepz"; did you mean steps?');
    expect(body.text).toContain('```\nglobal 0.8 stepz:20\n           ^^^^^^^^\n```');
    await settled(h);
    expect(fake.calls.slice(callsBefore).filter((c) => c.method === 'chat.postMessage')).toEqual([]);
  });
});

