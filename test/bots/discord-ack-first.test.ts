/**
 * Ack first on Discord (issue #31): no handler reads or writes the database, or calls the engine,
 * between the bot receiving an interaction and its acknowledgement (the interaction callback: reply,
 * deferReply, update, showModal) reaching Discord. The storage and the engine client handed to the bot
 * record each call; the bot's gateway "raw" event opens an interaction's window and the fake Discord's
 * HTTP server taking in the callback request (Node's `http.server.request.start` diagnostics channel)
 * closes it. Each interaction is sent alone; its answer must still come, and refusals stay private.
 */
import diagnostics from 'node:diagnostics_channel';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineApi } from '../../src/bots/core/types.js';
import type { EngineServer } from '../../src/engine/service/start-engine-server.js';
import type { Storage } from '../../src/storage/index.js';
import type { FakeInteraction } from '../fake-discord/fake-interactions.js';
import type { NetworkGuard } from '../fake-discord/network-guard.js';
import { installNetworkGuard } from '../fake-discord/network-guard.js';
import { startTestEngine } from '../helpers/engine.js';
import type { Harness } from './support/discord-harness.js';
import { answerOf, awaitResult, customIds, samplePng, settled, startHarness } from './support/discord-harness.js';
import { pickSelectId } from '../../src/bots/discord/custom-ids.js';
import { recording } from '../helpers/call-recorder.js';

/** What happened, in order: interactions received and acknowledged, and every storage or engine call. */
const trail: string[] = [];


let guard: NetworkGuard;
let engine: EngineServer;
let h: Harness;
let restPort = 0;

const onRequest = (m: unknown) => {
  const { request, server } = m as { request: IncomingMessage; server: Server };
  if ((server.address() as AddressInfo | null)?.port !== restPort) return;
  const id = /\/interactions\/(\d+)\/[^/]+\/callback/.exec(request.url ?? '')?.[1];
  if (id) trail.push(`acked ${id}`);
};

beforeAll(async () => {
  guard = installNetworkGuard();
  const started = await startTestEngine();
  engine = started.server;
  h = await startHarness(recording(started.client as unknown as EngineApi, 'engine', 0, trail), { wrapStorage: (s: Storage) => recording(s, 'storage', 1, trail) });
  restPort = Number(new URL(h.fake.restApi).port);
  diagnostics.subscribe('http.server.request.start', onRequest);
  // Interactions reach the bot as gateway dispatches; "raw" is emitted before discord.js routes them.
  h.bot.client.on('raw', (packet: { t?: string; d?: { id?: string } }) => {
    if (packet.t === 'INTERACTION_CREATE' && packet.d?.id) trail.push(`received ${packet.d.id}`);
  });
});

afterAll(async () => {
  diagnostics.unsubscribe('http.server.request.start', onRequest);
  await h?.stop();
  await engine?.close();
  guard?.restore();
});

/** The storage and engine calls made while an interaction was received and not yet acknowledged (since `from`). */
function callsBeforeAcks(from: number): string[] {
  const open = new Set<string>();
  const early: string[] = [];
  for (const entry of trail.slice(from)) {
    const [what, id] = entry.split(' ');
    if (what === 'received') open.add(id!);
    else if (what === 'acked') open.delete(id!);
    else if (open.size > 0) early.push(`${entry} (interaction ${[...open].join(', ')} not acknowledged yet)`);
  }
  return early;
}

/** Runs one interaction to its end and returns the calls it made (all after its ack, checked at the end). */
async function alone(send: () => FakeInteraction, until?: (i: FakeInteraction) => Promise<unknown>): Promise<{ i: FakeInteraction; calls: string[] }> {
  await settled(h);
  const from = trail.length;
  const i = send();
  if (until) await until(i);
  await settled(h);
  await new Promise((r) => setImmediate(r)); // the dedupe ledger writes its keys on the next turn
  return { i, calls: trail.slice(from) };
}

const image = () => ({ image: { bytes: samplePng(), filename: 'face.png' } });
const privately = async (i: FakeInteraction) => {
  const answer = await answerOf(h, i.token);
  expect(answer.ephemeral, answer.text).toBe(true);
  return answer.text;
};

describe('Discord acknowledges before it touches the database or the engine', () => {
  it('edits, preset use and their private refusals', async () => {
    const from = trail.length;
    const { fake } = h;
    const direct = await alone(() => fake.slash(fake.users.alice, ['global'], { strength: 0.5 }, image()), (i) => awaitResult(h, i));
    expect(direct.calls).toEqual(expect.arrayContaining(['storage.accounts.ensureIdentity', 'engine.submit']));
    const saved = await alone(() => fake.slash(fake.users.alice, ['preset', 'save'], { name: 'soft', recipe: 'global:0.3', scope: 'server' }), privately);
    expect(saved.calls).toContain('storage.presets.create');
    expect((await awaitResult(h, (await alone(() => fake.slash(fake.users.bob, ['edit'], { recipe: 'soft:2' }, image()))).i)).status).toMatch(/^✅/);
    expect((await awaitResult(h, (await alone(() => fake.slash(fake.users.alice, ['preset', 'use'], { name: 'soft' }, image()))).i)).status).toMatch(/^✅/);
    // Refusals found before the ack are the ack itself: private, and nothing was written.
    const unknown = await alone(() => fake.slash(fake.users.bob, ['edit'], { recipe: 'nosuch:0.5' }, image()), privately);
    expect(await privately(unknown.i)).toContain('Unknown direction or preset "nosuch"');
    h.storage.serverSettings.setAllowedChannels({ accountId: 0, platform: 'discord', serverId: fake.state.guildId, isServerAdmin: true }, ['123456789']);
    const closed = await alone(() => fake.slash(fake.users.bob, ['global'], { strength: 0.5 }, image()), privately);
    expect(await privately(closed.i)).toContain('not enabled in this channel');
    h.storage.serverSettings.setAllowedChannels({ accountId: 0, platform: 'discord', serverId: fake.state.guildId, isServerAdmin: true }, []);
    // Autocomplete's choices are its answer: from memory, and someone never seen before is not written down.
    const complete = await alone(() => fake.slash(fake.users.admin, ['edit'], { recipe: 'glo' }, { focused: 'recipe' }), (i) => fake.waitFor(() => fake.book.get(i.token)?.callbackType === 8 || undefined, 'the choices'));
    expect(JSON.stringify(fake.book.get(complete.i.token)!.callbackData)).toContain('global');
    const names = await alone(() => fake.slash(fake.users.admin, ['preset', 'info'], { name: 'sof' }, { focused: 'name' }), (i) => fake.waitFor(() => fake.book.get(i.token)?.callbackType === 8 || undefined, 'the names'));
    expect(JSON.stringify(fake.book.get(names.i.token)!.callbackData)).toContain('soft');
    expect([...complete.calls, ...names.calls].filter((c) => c.startsWith('storage.'))).toEqual([]);
    expect(callsBeforeAcks(from)).toEqual([]);
  });

  it('result buttons: stronger, sweep, undo, delete and save as preset', async () => {
    const from = trail.length;
    const { fake } = h;
    const first = await awaitResult(h, fake.slash(fake.users.alice, ['edit'], { recipe: 'global:0.5' }, image()));
    const parent = first.edit!;
    let child!: Awaited<ReturnType<typeof awaitResult>>;
    await alone(() => fake.button(fake.users.alice, first.message!, `asyrp:r:stronger:${parent.id}`), async (i) => (child = await awaitResult(h, i)));
    expect(child.edit!.parentId).toBe(parent.id);
    await alone(() => fake.button(fake.users.alice, first.message!, `asyrp:r:sweep:${parent.id}`), (i) => awaitResult(h, i));
    const undo = await alone(() => fake.button(fake.users.alice, child.message!, `asyrp:r:undo:${child.edit!.id}`), privately);
    expect(await privately(undo.i)).toMatch(/Undone/);
    const firstUndo = await alone(() => fake.button(fake.users.alice, first.message!, `asyrp:r:undo:${parent.id}`), privately);
    expect(await privately(firstUndo.i)).toContain('first edit of this image');
    const notMine = await alone(() => fake.button(fake.users.bob, child.message!, `asyrp:r:delete:${child.edit!.id}`), privately);
    expect(await privately(notMine.i)).toContain('Only the person who made this edit');
    expect(child.message!.deleted).toBeFalsy();
    await alone(() => fake.button(fake.users.alice, child.message!, `asyrp:r:delete:${child.edit!.id}`), privately);
    expect(child.message!.deleted).toBe(true);
    await alone(() => fake.button(fake.users.alice, first.message!, `asyrp:r:save:${parent.id}`), (i) => fake.waitFor(() => fake.book.get(i.token)?.callbackType === 9 || undefined, 'the modal'));
    const save = await alone(() => fake.modalSubmit(fake.users.alice, `asyrp:save:${parent.id}`, { name: 'halfway', scope: 'private' }), privately);
    expect(await privately(save.i)).toContain('Saved **halfway**');
    expect(callsBeforeAcks(from)).toEqual([]);
  });

  it('the context-menu picker, also one whose state only the database holds (opened by an earlier process)', async () => {
    const from = trail.length;
    const { fake } = h;
    const alice = h.storage.accounts.ensureIdentity({ platform: 'discord', serverId: fake.state.guildId, userId: fake.users.alice.id, displayName: 'alice' });
    h.storage.presets.create({ accountId: alice.accountId, platform: 'discord', serverId: fake.state.guildId, isServerAdmin: false }, { name: 'dim', recipe: 'global:-0.4', modelId: 'm1' });
    const posted = fake.postImage(fake.users.bob, { bytes: samplePng() });
    const menu = await alone(() => fake.messageCommand(fake.users.alice, 'Edit with Asyrp', posted), (i) => fake.waitFor(() => fake.book.get(i.token)?.callbackType === 4 || undefined, 'the picker'));
    const picker = fake.original(menu.i)!;
    expect(JSON.stringify(picker.components)).toContain('preset dim'); // the person's own presets, from memory
    // A picker this process never opened: its state is in the database only, as after a restart.
    const earlier = `9${menu.i.id.slice(1)}`;
    h.storage.idempotency.claim(`discord:pick:${earlier}`, 3_600_000);
    h.storage.idempotency.setResult(`discord:pick:${earlier}`, h.storage.idempotency.peek(`discord:pick:${menu.i.id}`)!);
    const select = await alone(() => fake.select(fake.users.alice, picker, pickSelectId(earlier), ['global']), (i) => fake.waitFor(() => fake.book.get(i.token)?.callbackType === 7 || undefined, 'the strength buttons'));
    expect(select.calls).toContain('storage.idempotency.peek');
    const strengthId = customIds(picker).find((c) => c.endsWith(':1'))!;
    expect(strengthId).toContain(earlier);
    const press = await alone(() => fake.button(fake.users.alice, picker, strengthId), (i) => awaitResult(h, i));
    expect(press.calls).toEqual(expect.arrayContaining(['storage.idempotency.peek', 'engine.submit']));
    // A picker nobody stored: the select is acknowledged, then the picker (private) says it expired.
    await alone(() => fake.select(fake.users.alice, picker, pickSelectId('1234'), ['global']), (i) => fake.waitFor(() => fake.book.get(i.token)?.callbackType === 7 || undefined, 'the update'));
    await fake.waitFor(() => (picker.content.includes('expired') ? true : undefined), 'the expiry note');
    expect(callsBeforeAcks(from)).toEqual([]);
  });
});
