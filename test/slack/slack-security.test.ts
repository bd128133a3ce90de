/**
 * Security at the edges of the Slack app: every request must be signed with the signing secret and
 * recent (else 401, and nothing runs); oversized bodies are refused (413) before verification; files
 * come only from the allow-listed host, with the token, never through a redirect, never an HTML page;
 * people's text is escaped in mrkdwn; tokens never reach the log.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { formBody, postSigned } from '../fake-slack/signed-requests.js';
import { CHANNEL, samplePng, settled, useSlackSuite } from './support/slack-harness.js';

const { h, guard } = useSlackSuite();


/** A refusal about the person's own file: told to them alone, and nothing left in the thread or on the image. */
async function privateRefusal(user: { id: string }, channel: string, image: { ts: string; reactions: { name: string }[] }): Promise<string> {
  const { fake } = h;
  const told = await fake.waitFor(() => fake.state.ephemerals.find((e) => e.user === user.id && e.channel === channel), 'the private refusal');
  await settled(h);
  expect(fake.threadReplies(channel, image.ts).filter((m) => !m.deleted)).toEqual([]);
  expect(image.reactions.map((r) => r.name)).toEqual([]);
  return told.text;
}

const jobsStarted = () => h.fake.calls.filter((c) => c.method === 'conversations.history').length;

describe('request signatures', () => {
  it('accepts a signed request and refuses wrong secret, stale timestamp and missing headers with 401', async () => {
    const { fake } = h;
    expect((await fake.command(fake.users.alice, CHANNEL, 'help')).status).toBe(200);
    const before = jobsStarted();
    const wrong = await fake.command(fake.users.alice, CHANNEL, 'global 0.5', { secret: 'not-the-secret' });
    const stale = await fake.command(fake.users.alice, CHANNEL, 'global 0.5', { timestamp: Math.floor(Date.now() / 1000) - 6 * 60 });
    const unsigned = await fake.command(fake.users.alice, CHANNEL, 'global 0.5', { unsigned: true });
    expect([wrong.status, stale.status, unsigned.status]).toEqual([401, 401, 401]);
    const event = await fake.event(fake.eventEnvelope({ type: 'reaction_added', user: fake.users.alice.id, reaction: 'star', item: { type: 'message', channel: CHANNEL, ts: '1.000001' } }), { secret: 'nope' });
    expect(event.status).toBe(401);
    await settled(h);
    expect(jobsStarted()).toBe(before);
  });

  it('refuses a timestamp more than 5 minutes off in either direction, the future too, with 401 and runs nothing', async () => {
    const { fake } = h;
    const now = Math.floor(Date.now() / 1000);
    const before = jobsStarted();
    const future = await fake.command(fake.users.alice, CHANNEL, 'global 0.5', { timestamp: now + 10 * 60 });
    const justFuture = await fake.command(fake.users.alice, CHANNEL, 'global 0.5', { timestamp: now + 5 * 60 + 30 });
    const past = await fake.command(fake.users.alice, CHANNEL, 'global 0.5', { timestamp: now - 5 * 60 - 30 });
    expect([future.status, justFuture.status, past.status]).toEqual([401, 401, 401]);
    await settled(h);
    expect(jobsStarted()).toBe(before);
    // Within the window either way is a normal request.
    expect((await fake.command(fake.users.alice, CHANNEL, 'help', { timestamp: now + 4 * 60 })).status).toBe(200);
    expect((await fake.command(fake.users.alice, CHANNEL, 'help', { timestamp: now - 4 * 60 })).status).toBe(200);
  });

  it('refuses a 5 MB body with 413 before checking anything', async () => {
    const huge = formBody({ ...h.fake.commandFields(h.fake.users.alice, CHANNEL, 'global'), padding: 'x'.repeat(5 * 1024 * 1024) });
    const res = await postSigned(h.fake.appUrl, huge, 'application/x-www-form-urlencoded', h.fake.sign());
    expect(res.status).toBe(413);
  });
});

describe('file downloads', () => {
  const runAndWaitForFailure = async (user: { id: string; name: string }, channel: string) => {
    const { fake } = h;
    const image = fake.postImage(user, channel, samplePng());
    expect((await fake.command(user, channel, 'global 0.5')).status).toBe(200);
    await fake.waitFor(() => image.reactions.some((r) => r.name === 'warning'), 'the failure reaction');
    return fake.threadReplies(channel, image.ts).map((m) => m.text).join('\n');
  };

  it('rejects an HTML login page instead of an image', async () => {
    h.fake.htmlFiles = true;
    try {
      const text = await runAndWaitForFailure(h.fake.users.alice, 'C0HTML');
      expect(text).toMatch(/⚠️.*login page/);
    } finally {
      h.fake.htmlFiles = false;
    }
  });

  it('never follows a redirect to another host (and so never sends the token there)', async () => {
    const hits: string[] = [];
    const other = createServer((req, res) => {
      hits.push(String(req.headers.authorization));
      res.end('x');
    });
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
    h.fake.redirectFilesTo = `http://127.0.0.1:${(other.address() as AddressInfo).port}/steal`;
    try {
      const text = await runAndWaitForFailure(h.fake.users.alice, 'C0REDIR');
      expect(text).toContain('could not download');
      expect(hits).toEqual([]);
    } finally {
      h.fake.redirectFilesTo = null;
      await new Promise((r) => other.close(r));
    }
  });

  it('refuses files on hosts outside the allow-list without requesting them', async () => {
    const { fake } = h;
    const image = fake.postImage(fake.users.bob, 'C0HOST', samplePng());
    image.files![0]!.url_private = image.files![0]!.url_private_download = 'http://localhost:9/files-pri/evil.png';
    const before = fake.fileRequests.length;
    await fake.command(fake.users.bob, 'C0HOST', 'global 0.5');
    expect(await privateRefusal(fake.users.bob, 'C0HOST', image)).toContain('only download images that were uploaded');
    expect(fake.fileRequests.length).toBe(before);
  });
});

describe('declared metadata', () => {
  it('refuses oversized files and pixel bombs from Slack\'s metadata, before downloading', async () => {
    const { fake } = h;
    const big = fake.postImage(fake.users.bob, 'C0META', samplePng());
    big.files![0]!.size = 50_000_000;
    const wide = fake.postImage(fake.users.alice, 'C0META', samplePng());
    Object.assign(wide.files![0]!, { original_w: 20_000, original_h: 20_000 });
    const before = fake.fileRequests.length;
    await fake.command(fake.users.bob, 'C0META', 'global 0.5');
    await fake.command(fake.users.alice, 'C0META', 'global 0.5');
    expect(await privateRefusal(fake.users.bob, 'C0META', big)).toContain('larger than 5 MB');
    expect(await privateRefusal(fake.users.alice, 'C0META', wide)).toContain('20000×20000');
    expect(fake.fileRequests.length).toBe(before);
  });

  it('calls a 0-byte file empty, whether Slack declares the size or not, instead of "the wrong format"', async () => {
    const { fake } = h;
    const declared = fake.postImage(fake.users.bob, 'C0EMPTY', new Uint8Array(0));
    expect(declared.files![0]!.size).toBe(0);
    const before = fake.fileRequests.length;
    const undeclared = fake.postImage(fake.users.alice, 'C0EMPTY', new Uint8Array(0));
    delete (undeclared.files![0]! as { size?: number }).size;
    await fake.command(fake.users.bob, 'C0EMPTY', 'global 0.5');
    await fake.command(fake.users.alice, 'C0EMPTY', 'global 0.5');
    for (const [user, m] of [[fake.users.bob, declared], [fake.users.alice, undeclared]] as const) {
      const text = await privateRefusal(user, 'C0EMPTY', m);
      expect(text).toContain('That file is empty');
      expect(text).not.toMatch(/PNG, JPEG|format/);
    }
    expect(fake.fileRequests.length).toBe(before + 1); // the declared one is refused before downloading
  });
});

describe('text and secrets', () => {
  it('escapes what people typed and never logs tokens or response_url', async () => {
    const res = await h.fake.command(h.fake.users.alice, CHANNEL, '<!channel> <https://evil.example|click>');
    const text = res.json<{ text: string }>().text;
    expect(text).toMatch(/^❌/);
    expect(text).not.toMatch(/<!channel>|<https:/);
    const logs = h.logs.join('\n');
    expect(logs).not.toContain(h.fake.botToken);
    expect(logs).not.toMatch(/\/response\/c\d+/);
    expect(guard.violations).toEqual([]);
  });
});
