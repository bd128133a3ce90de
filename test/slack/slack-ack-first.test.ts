/**
 * Ack first (issue #31): no listener reads or writes the database, or calls the engine, before the app
 * has written its HTTP answer to Slack. The storage and the engine client handed to the app record each
 * call; Node's http diagnostics channels record when the app's own server took a request in and when it
 * finished answering it. Each command, modal submission and button is sent alone and must leave no
 * storage or engine call inside its request's window; the answers themselves must still arrive (text
 * commands through response_url, edits as results in the image's thread).
 */
import diagnostics from 'node:diagnostics_channel';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineApi } from '../../src/bots/core/types.js';
import { openStorage } from '../../src/storage/index.js';
import type { Storage } from '../../src/storage/index.js';
import { tempDir } from '../helpers/paths.js';
import { selectValue, shortcutPayload, submitPayload, textValue } from './support/interactions.js';
import { actionIds, buttonPayload, CHANNEL, resultIn, samplePng, settled, useSlackSuite } from './support/slack-harness.js';
import { recording } from '../helpers/call-recorder.js';

/** What happened, in order: the app's requests opening and closing, and every storage or engine call. */
const trail: string[] = [];


const dir = tempDir('asyrp-slack-ackfirst-');
const storage: Storage = recording(openStorage({ path: join(dir, 'bot.db') }), 'storage', 1, trail);
afterAll(() => storage.close()); // registered first, so it runs after the suite has stopped the app
const { h, guard } = useSlackSuite({ storage, dataDir: dir, engine: (client) => recording(client as unknown as EngineApi, 'engine', 0, trail) });

let appPort = 0;
const opened = new WeakMap<IncomingMessage, number>();
let requests = 0;
const onStart = (m: unknown) => {
  const { request, server } = m as { request: IncomingMessage; server: Server };
  if ((server.address() as AddressInfo | null)?.port !== appPort) return;
  opened.set(request, ++requests);
  trail.push(`open ${requests}`);
};
const onFinish = (m: unknown) => {
  const { request } = m as { request: IncomingMessage };
  const n = opened.get(request);
  if (n !== undefined) trail.push(`answered ${n}`);
};

beforeAll(() => {
  appPort = Number(new URL(h.fake.appUrl).port);
  diagnostics.subscribe('http.server.request.start', onStart);
  diagnostics.subscribe('http.server.response.finish', onFinish);
});

afterAll(() => {
  diagnostics.unsubscribe('http.server.request.start', onStart);
  diagnostics.unsubscribe('http.server.response.finish', onFinish);
});

/** The storage and engine calls made while one of the app's requests was open (none, when acks come first). */
function callsBeforeAnswers(): string[] {
  const open = new Set<string>();
  const early: string[] = [];
  for (const entry of trail) {
    const [what, n] = entry.split(' ');
    if (what === 'open') open.add(n!);
    else if (what === 'answered') open.delete(n!);
    else if (open.size > 0) early.push(`${entry} (request ${[...open].join(', ')} not answered yet)`);
  }
  return early;
}

/** Runs one delivery to its end and returns what it did, checked to have touched nothing before its answer. */
async function alone(deliver: () => Promise<unknown>): Promise<string[]> {
  await settled(h);
  const from = trail.length;
  await deliver();
  await settled(h);
  await new Promise((r) => setImmediate(r)); // the dedupe ledger writes its keys on the next turn
  return trail.slice(from);
}

describe('Slack answers before it touches the database or the engine', () => {
  it('text commands are acked empty and answered through response_url afterwards', async () => {
    const { fake } = h;
    for (const [text, expected] of [
      ['help', /Directions:/],
      ['history', /edits|No edits/i],
      ['link', /link code/],
      ['preset save calm global:0.3', /Saved \*calm\*/],
      ['preset list mine', /calm/],
      ['preset info calm', /global:0.3/],
      ['admin limits 50 none', /Limits: each person 50 per hour/],
    ] as const) {
      let answer = '';
      const done = await alone(async () => {
        const asked = await fake.ask(fake.users.admin, CHANNEL, text);
        expect(asked.delivery.text).toBe('');
        answer = asked.text;
      });
      expect(answer, text).toMatch(expected);
      expect(done.some((e) => e.startsWith('storage.')), `${text} used the database`).toBe(true);
    }
    expect(callsBeforeAnswers()).toEqual([]);
  });

  it('an edit is acked before its limits, presets, account and job, and its result still comes', async () => {
    const { fake } = h;
    const image = fake.postImage(fake.users.alice, CHANNEL, samplePng());
    const done = await alone(async () => {
      const asked = await fake.ask(fake.users.alice, CHANNEL, 'global 0.4');
      expect(asked.text).toContain('Working on `global:0.4`');
      await fake.waitFor(() => resultIn(h, CHANNEL, image.ts), 'the result');
    });
    expect(done).toEqual(expect.arrayContaining(['storage.accounts.ensureIdentity', 'engine.submit']));
    expect(callsBeforeAnswers()).toEqual([]);
  });

  it('the edit modal, a result button and the save modal answer first too', async () => {
    const { fake } = h;
    const image = fake.postImage(fake.users.bob, 'C0ACKMODAL', samplePng());
    await alone(() => fake.interactive(shortcutPayload(h, fake.users.bob, image)));
    const modal = await fake.waitFor(() => fake.state.views.find((v) => String(v.view.private_metadata ?? '').includes(image.ts)), 'the edit modal');
    const refused = await fake.interactive(submitPayload(h, fake.users.bob, modal, { what: selectValue('d:global'), strength: textValue('0.5'), extra: textValue('stepz:3') }));
    expect(refused.json()).toMatchObject({ response_action: 'errors', errors: { extra: expect.stringContaining('Unknown option "stepz"') } });
    await alone(async () => {
      await fake.interactive(submitPayload(h, fake.users.bob, modal, { what: selectValue('d:global'), strength: textValue('0.5'), extra: textValue(null) }));
      await fake.waitFor(() => resultIn(h, 'C0ACKMODAL', image.ts), 'the modal result');
    });
    const result = resultIn(h, 'C0ACKMODAL', image.ts)!;
    await alone(() => fake.interactive(buttonPayload(h, fake.users.bob, result, actionIds(result).find((a) => a.includes(':save:'))!)));
    const save = await fake.waitFor(() => fake.state.views.find((v) => String(v.view.callback_id).startsWith('asyrp:save:')), 'the save modal');
    const badName = await fake.interactive(submitPayload(h, fake.users.bob, save, { name: textValue('Not OK!'), scope: selectValue('private') }));
    expect(badName.json()).toMatchObject({ response_action: 'errors', errors: { name: expect.stringContaining('Preset names are') } });
    await alone(() => fake.interactive(submitPayload(h, fake.users.bob, save, { name: textValue('gentle'), scope: selectValue('private') })));
    await fake.waitFor(() => fake.state.ephemerals.find((e) => e.user === fake.users.bob.id && e.text.includes('Saved *gentle*')), 'the saved note');
    // The same name again: taken, which only the database knows, so it is said after the modal closed.
    const again = await fake.interactive(submitPayload(h, fake.users.bob, save, { name: textValue('gentle'), scope: selectValue('private') }));
    expect(again.text).toBe('');
    await fake.waitFor(() => fake.state.ephemerals.find((e) => e.user === fake.users.bob.id && e.text.startsWith('❌ Not saved')), 'the refusal');
    expect(callsBeforeAnswers()).toEqual([]);
    expect(guard.violations).toEqual([]);
  });
});
