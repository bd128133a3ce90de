/**
 * End to end: the real discord.js client against the fake Discord, with a real engine server on the
 * analytic test model. A slash command with an attachment is deferred within 3 s, its status edited in
 * place, and the result posted as a multipart PNG in a thread with working buttons.
 */
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineServer } from '../../src/engine/service/start-engine-server.js';
import { startTestEngine } from '../helpers/engine.js';
import type { NetworkGuard } from '../fake-discord/network-guard.js';
import { installNetworkGuard } from '../fake-discord/network-guard.js';
import type { Harness } from './support/discord-harness.js';
import { samplePng, startHarness } from './support/discord-harness.js';

let guard: NetworkGuard;
let engine: EngineServer;
let h: Harness;

beforeAll(async () => {
  guard = installNetworkGuard();
  const started = await startTestEngine();
  engine = started.server;
  h = await startHarness(started.client);
});

afterAll(async () => {
  await h?.stop();
  await engine?.close();
  guard?.restore();
});

const isPng = (b: Uint8Array) => b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47;

describe('slash command with an attachment', () => {
  it('defers, edits the status in place, and posts the PNG with buttons in a thread', async () => {
    const { fake } = h;
    const i = fake.slash(fake.users.alice, ['global'], { strength: 0.8 }, { image: { bytes: samplePng(), filename: 'face.png' } });

    const original = await fake.waitFor(() => fake.original(i), 'the deferred reply');
    const thread = await fake.waitFor(() => fake.state.channels.get(original.id), 'a thread on the reply');
    const result = await fake.waitFor(() => fake.messagesIn(thread.id).find((m) => m.attachments.length > 0), 'the result in the thread');

    const ack = fake.book.get(i.token)!;
    expect(ack.callbackType).toBe(5);
    expect(ack.ackedAt! - ack.createdAt).toBeLessThan(3000);

    // The upload was multipart: files[0] is the edited PNG enlarged for display (the 16 px test model by
    // nearest neighbour, ×32), files[1] the before/after, likewise, files[2] the model's own 16×16 pixels.
    const upload = fake.calls.find((c) => c.method === 'POST' && c.path === `/api/v10/channels/${thread.id}/messages`)!;
    expect(upload.files.map((f) => f.field)).toEqual(['files[0]', 'files[1]', 'files[2]']);
    expect(upload.files.every((f) => isPng(f.bytes))).toBe(true);
    expect(upload.files.map((f) => f.filename)).toEqual(['asyrp-edit.png', 'before-after.png', 'asyrp-edit-original-16x16.png']);
    const sizes = await Promise.all(upload.files.map(async (f) => sharp(f.bytes).metadata().then((m) => `${m.width}x${m.height}`)));
    expect(sizes).toEqual(['512x512', '540x240', '16x16']);
    expect(result.content).toContain("Enlarged for display; the model's own pixels (16×16) are attached");
    expect(upload.json?.allowed_mentions).toEqual({ parse: [], replied_user: false });
    expect(result.content).toContain('global:0.8');

    await fake.waitFor(() => fake.original(i)?.content.startsWith('✅ Done:'), 'the final status');
    const ids = (result.components as { components: { custom_id: string }[] }[]).flatMap((r) => r.components.map((c) => c.custom_id));
    const edit = h.storage.history.findByMessage('discord', result.id)!;
    expect(edit.status).toBe('done');
    expect(ids).toEqual(['weaker', 'stronger', 'sweep', 'undo', 'save', 'delete'].map((a) => `asyrp:r:${a}:${edit.id}`));

    // Status edits of the deferred reply, then the final line with a link to the result.
    const edits = fake.calls.filter((c) => c.method === 'PATCH' && c.path.endsWith('/messages/@original')).map((c) => String(c.json?.content));
    expect(edits[0]).toMatch(/^⏳ Queued|^🔄|^🎨|^✨|^📦/);
    expect(edits.at(-1)).toContain(result.id);
    expect(guard.violations).toEqual([]);
  });
});
