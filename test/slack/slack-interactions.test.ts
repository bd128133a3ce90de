/**
 * Interactivity over HTTP, end to end with the real engine: the "Edit with Asyrp" message shortcut
 * opens a modal whose submission runs the edit; the result buttons make a child edit (stronger), go
 * back (undo), save a preset through a modal, delete for the owner only, and keep working after the
 * app restarts (their state is the edit id and the database).
 */
import { describe, expect, it } from 'vitest';
import type { FakeMessage } from '../fake-slack/fake-slack-state.js';
import { selectValue, shortcutPayload, submitPayload, textValue } from './support/interactions.js';
import { actionIds, buttonPayload, resultIn, samplePng, useSlackSuite } from './support/slack-harness.js';

const { h, guard } = useSlackSuite();


const CH = 'C0SHORTCUT';
const editOf = (m: FakeMessage) => h.fake.waitFor(() => h.storage.history.findByMessage('slack', m.files![0]!.id), 'the edit of a result');
let image: FakeMessage;
let first: FakeMessage;

describe('message shortcut', () => {
  it('opens a modal; an invalid strength is refused in the modal; a valid submit posts the result', async () => {
    const { fake } = h;
    image = fake.postImage(fake.users.alice, CH, samplePng());
    const res = await fake.interactive(shortcutPayload(h, fake.users.alice, image));
    expect(res.status).toBe(200);
    expect(res.ms).toBeLessThan(3000);
    const opened = await fake.waitFor(() => fake.state.views.at(-1), 'views.open');
    expect(opened.view.callback_id).toBe('asyrp_edit_modal');
    expect(JSON.stringify(opened.view.blocks)).toContain('d:global');

    const bad = await fake.interactive(submitPayload(h, fake.users.alice, opened, { what: selectValue('d:global'), strength: textValue('lots'), extra: textValue(null) }));
    expect(bad.json()).toMatchObject({ response_action: 'errors', errors: { strength: expect.any(String) } });

    const ok = await fake.interactive(submitPayload(h, fake.users.alice, opened, { what: selectValue('d:global'), strength: textValue('0.8'), extra: textValue(null) }));
    expect(ok.status).toBe(200);
    first = await fake.waitFor(() => resultIn(h, CH, image.ts), 'the shortcut result');
    expect(await editOf(first)).toMatchObject({ recipe: 'global:0.8', parentId: null });
  });

  it('adds the optional extra directions from the modal', async () => {
    const { fake } = h;
    const other = fake.postImage(fake.users.bob, 'C0EXTRA', samplePng());
    await fake.interactive(shortcutPayload(h, fake.users.bob, other));
    const opened = await fake.waitFor(() => fake.state.views.find((v) => v.view.private_metadata && String(v.view.private_metadata).includes(other.ts)), 'the modal');
    await fake.interactive(submitPayload(h, fake.users.bob, opened, { what: selectValue('d:global'), strength: textValue('-0.5'), extra: textValue('shift:0.3') }));
    const result = await fake.waitFor(() => resultIn(h, 'C0EXTRA', other.ts), 'the result');
    expect(await editOf(result)).toMatchObject({ recipe: 'global:-0.5 shift:0.3' });
  });

  it('says so privately when the message has no image', async () => {
    const { fake } = h;
    const text = fake.state.add({ channel: CH, user: fake.users.bob.id, text: 'just words' });
    const views = fake.state.views.length;
    await fake.interactive(shortcutPayload(h, fake.users.bob, text));
    await fake.waitFor(() => fake.state.ephemerals.find((e) => e.user === fake.users.bob.id && e.text.includes('no image')), 'the private note');
    expect(fake.state.views.length).toBe(views);
  });
});

describe('result buttons', () => {
  let child: FakeMessage;

  it('stronger makes a child edit in the same thread', async () => {
    const { fake } = h;
    const parent = await editOf(first);
    const id = actionIds(first).find((a) => a.includes(':stronger:'))!;
    const res = await fake.interactive(buttonPayload(h, fake.users.bob, first, id));
    expect(res.status).toBe(200);
    child = await fake.waitFor(() => resultIn(h, CH, image.ts, 1), 'the stronger result');
    expect(await editOf(child)).toMatchObject({ parentId: parent.id, recipe: 'global:1.2' });
  });

  it('undo posts the parent result again with its buttons', async () => {
    const { fake } = h;
    const parent = await editOf(first);
    await fake.interactive(buttonPayload(h, fake.users.alice, child, actionIds(child).find((a) => a.includes(':undo:'))!));
    const undone = await fake.waitFor(() => resultIn(h, CH, image.ts, 2), 'the undo result');
    expect(undone.blocks && JSON.stringify(undone.blocks)).toContain('Back to');
    expect(actionIds(undone)[0]).toBe(`asyrp:r:weaker:${parent.id}`);
  });

  it('sweep posts one strength grid as a child edit', async () => {
    const { fake } = h;
    const shown = fake.threadReplies(CH, image.ts).filter((m) => m.files?.length).length;
    await fake.interactive(buttonPayload(h, fake.users.alice, first, actionIds(first).find((a) => a.includes(':sweep:'))!));
    const grid = await fake.waitFor(() => resultIn(h, CH, image.ts, shown), 'the sweep result');
    // The grid of 16 px tiles, enlarged for display, and the grid at the model's pixels beside it.
    expect(grid.files!.map((f) => f.name)).toEqual([expect.stringMatching(/^asyrp-\d+-sweep\.png$/), expect.stringMatching(/^asyrp-\d+-original\.png$/)]);
    expect(grid.files![0]!.bytes.length).toBeGreaterThan(grid.files![1]!.bytes.length);
    expect(await editOf(grid)).toMatchObject({ parentId: (await editOf(first)).id, recipe: 'global:0.8' });
  });

  it('save opens a modal and its submission creates a preset', async () => {
    const { fake } = h;
    await fake.interactive(buttonPayload(h, fake.users.alice, first, actionIds(first).find((a) => a.includes(':save:'))!));
    const opened = await fake.waitFor(() => fake.state.views.find((v) => String(v.view.callback_id).startsWith('asyrp:save:')), 'the save modal');
    const res = await fake.interactive(submitPayload(h, fake.users.alice, opened, { name: textValue('soft-glow'), scope: selectValue('public') }));
    expect(res.status).toBe(200);
    expect(res.text).toBe('');
    const listed = await fake.ask(fake.users.alice, CH, 'preset list mine');
    expect(listed.text).toContain('soft-glow');
  });

  it('delete works for the owner only', async () => {
    const { fake } = h;
    const del = actionIds(first).find((a) => a.includes(':delete:'))!;
    await fake.interactive(buttonPayload(h, fake.users.bob, first, del));
    await fake.waitFor(() => fake.state.ephemerals.find((e) => e.user === fake.users.bob.id && e.text.includes('Only the person')), 'the refusal');
    expect(fake.state.message(CH, first.ts)).toBeDefined();
    await fake.interactive(buttonPayload(h, fake.users.alice, first, del));
    await fake.waitFor(() => first.deleted, 'the deletion');
    await fake.waitFor(() => first.files!.every((f) => !fake.state.files.has(f.id)), 'the files deleted');
  });

  it('keep working after the app restarts', async () => {
    const { fake } = h;
    await h.restart();
    const shown = fake.threadReplies(CH, image.ts).filter((m) => m.files?.length).length;
    const weaker = actionIds(child).find((a) => a.includes(':weaker:'))!;
    const res = await fake.interactive(buttonPayload(h, fake.users.alice, child, weaker));
    expect(res.status).toBe(200);
    const after = await fake.waitFor(() => resultIn(h, CH, image.ts, shown), 'the result after a restart');
    expect(await editOf(after)).toMatchObject({ recipe: 'global:0.8', parentId: (await editOf(child)).id });
    expect(guard.violations).toEqual([]);
  });
});
