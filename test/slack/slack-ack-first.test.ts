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
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineApi } from '../../src/bots/core/types.js';
import { openStorage } from '../../src/storage/index.js';
import type { Storage } from '../../src/storage/index.js';
import { tempDir } from '../helpers/paths.js';
import { selectValue, shortcutPayload, submitPayload, textValue } from './support/interactions.js';
import { actionIds, buttonPayload, CHANNEL, resultIn, samplePng, settled, useSlackSuite } from './support/slack-harness.js';
import { recording } from '../helpers/call-recorder.js';
import { formBody, signature } from '../fake-slack/signed-requests.js';

/** What happened, in order: the app's requests opening and closing, and every storage or engine call. */
const trail: string[] = [];


const dir = tempDir('asyrp-slack-ackfirst-');
const storage: Storage = recording(openStorage({ path: join(dir, 'bot.db') }), 'storage', 1, trail);
afterAll(() => storage.close()); // registered first, so it runs after the suite has stopped the app
// A connection that has sent nothing yet holds work back for a minute here (500 ms in production), so
// the test below does not depend on how fast this machine is.
const { h, guard } = useSlackSuite({ storage, dataDir: dir, unreadConnectionMs: 60_000, engine: (client) => recording(client as unknown as EngineApi, 'engine', 0, trail) });

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

  it("a connection accepted before its request is read holds an earlier command's work back until it is answered", async () => {
    // In a burst the connections are accepted together and their requests read one by one: an
    // earlier command's work must not run in the gap before the next request is read.
    const { fake } = h;
    const image = fake.postImage(fake.users.alice, 'C0ACKCONN', samplePng());
    await settled(h);
    const app = new URL(fake.appUrl);
    const waiting = connect(Number(app.port), app.hostname);
    await once(waiting, 'connect');
    const from = trail.length;
    const asked = await fake.ask(fake.users.alice, 'C0ACKCONN', 'global 0.4');
    expect(asked.text).toContain('Working on `global:0.4`');
    // Only now the waiting connection sends its request (a signed `help`).
    const body = formBody(fake.commandFields(fake.users.bob, 'C0ACKCONN', 'help'));
    const ts = Math.floor(Date.now() / 1000);
    const answer = new Promise<string>((resolve) => {
      const chunks: Buffer[] = [];
      waiting.on('data', (c: Buffer) => chunks.push(c));
      waiting.once('end', () => resolve(Buffer.concat(chunks).toString()));
    });
    waiting.write(
      `POST ${app.pathname} HTTP/1.1\r\nHost: ${app.host}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `X-Slack-Request-Timestamp: ${ts}\r\nX-Slack-Signature: ${signature(fake.signingSecret, ts, body)}\r\nConnection: close\r\n\r\n${body}`,
    );
    expect(await answer).toMatch(/^HTTP\/1.1 200/);
    await fake.waitFor(() => resultIn(h, 'C0ACKCONN', image.ts), 'the result');
    await settled(h);
    const after = trail.slice(from);
    const secondAnswer = after.findIndex((e, i) => e.startsWith('answered') && after.slice(0, i).some((x) => x.startsWith('answered')));
    const firstCall = after.findIndex((e) => e.startsWith('storage.') || e.startsWith('engine.'));
    expect(secondAnswer, after.join('\n')).toBeGreaterThan(0);
    expect(firstCall, after.join('\n')).toBeGreaterThan(secondAnswer);
    expect(after).toEqual(expect.arrayContaining(['storage.accounts.ensureIdentity', 'engine.submit']));
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
