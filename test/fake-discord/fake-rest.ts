/**
 * The fake's REST API (/api/v10/...) and CDN (/cdn/...). Only the routes the bot uses, each answering
 * like Discord does, including the errors the bot must survive: 10062 (late first callback), 40060
 * (second callback), 50027 (expired token), 160004 (thread exists), scripted 429s.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FakeGateway } from './fake-gateway.js';
import { MESSAGE_CONTENT_INTENT } from './fake-gateway.js';
import type { InteractionBook } from './fake-interactions.js';
import type { FakeState, StoredAttachment, StoredMessage } from './fake-state.js';
import { snowflake } from './snowflake.js';

export interface RecordedFile {
  readonly field: string;
  readonly filename: string;
  readonly contentType: string;
  readonly bytes: Uint8Array;
}

export interface RecordedCall {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly authorization: string | undefined;
  readonly json: Record<string, unknown> | undefined;
  readonly files: RecordedFile[];
  readonly status: number;
}

export interface RestContext {
  readonly state: FakeState;
  readonly book: InteractionBook;
  readonly gateway: () => FakeGateway;
  readonly token: string;
  readonly baseUrl: () => string;
  readonly calls: RecordedCall[];
  /** Scripted failures: the first matching request gets a 429 with this Retry-After (seconds). */
  readonly rateLimits: { match: (method: string, path: string) => boolean; retryAfter: number; scope?: string }[];
  /** User ids whose DMs are closed to the bot. */
  readonly closedDms: ReadonlySet<string>;
}

type Reply = { status: number; body?: unknown };
const err = (status: number, code: number, message: string): Reply => ({ status, body: { code, message } });

async function readBody(req: IncomingMessage): Promise<{ json?: Record<string, unknown>; files: RecordedFile[] }> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const raw = Buffer.concat(chunks);
  const type = req.headers['content-type'] ?? '';
  if (raw.length === 0) return { files: [] };
  if (type.startsWith('multipart/form-data')) {
    const form = await new Request('http://fake/', { method: 'POST', headers: { 'content-type': type }, body: raw }).formData();
    const files: RecordedFile[] = [];
    let json: Record<string, unknown> | undefined;
    for (const [field, value] of form.entries()) {
      if (field === 'payload_json') json = JSON.parse(String(value)) as Record<string, unknown>;
      else if (typeof value !== 'string') files.push({ field, filename: value.name, contentType: value.type, bytes: new Uint8Array(await value.arrayBuffer()) });
    }
    return { json, files };
  }
  return { json: JSON.parse(raw.toString('utf8')) as Record<string, unknown>, files: [] };
}

function stripForIntents(ctx: RestContext, m: StoredMessage): StoredMessage {
  const seesContent = (ctx.gateway().intents & MESSAGE_CONTENT_INTENT) !== 0 || m.author.id === ctx.state.botUser.id;
  return seesContent ? m : { ...m, content: '', attachments: [], embeds: [], components: [] };
}

function storeFiles(ctx: RestContext, channelId: string, files: RecordedFile[]): StoredAttachment[] {
  return files.map((f) => {
    const id = snowflake();
    const path = `/cdn/attachments/${channelId}/${id}/${f.filename}`;
    ctx.state.files.set(path, { bytes: f.bytes, contentType: f.contentType || 'application/octet-stream' });
    const url = `${ctx.baseUrl()}${path}`;
    return { id, filename: f.filename, size: f.bytes.length, content_type: f.contentType, url, proxy_url: url };
  });
}

/** Applies a message body (create or edit) to a stored message. */
function applyBody(ctx: RestContext, m: StoredMessage, json: Record<string, unknown> | undefined, files: RecordedFile[]): StoredMessage {
  if (json?.content !== undefined) m.content = String(json.content ?? '');
  if (json?.components !== undefined) m.components = (json.components as unknown[]) ?? [];
  if (json?.embeds !== undefined) m.embeds = (json.embeds as unknown[]) ?? [];
  if (json?.allowed_mentions !== undefined) m.allowed_mentions = json.allowed_mentions;
  if (json?.message_reference !== undefined) m.message_reference = json.message_reference;
  if (files.length) m.attachments = storeFiles(ctx, m.channel_id, files);
  else if (Array.isArray(json?.attachments) && json.attachments.length === 0) m.attachments = [];
  if (typeof json?.flags === 'number') m.flags = (m.flags & ~4) | (json.flags & 4);
  m.flags &= ~128; // no longer "thinking"
  return m;
}

async function interactionCallback(ctx: RestContext, id: string, token: string, body: { json?: Record<string, unknown>; files: RecordedFile[] }): Promise<Reply> {
  const i = ctx.book.byIdAndToken(id, token);
  if (!i || Date.now() - i.createdAt > 3000) return err(404, 10062, 'Unknown interaction');
  if (i.ackedAt !== undefined) return err(400, 40060, 'Interaction has already been acknowledged.');
  const type = Number(body.json?.type);
  const data = (body.json?.data ?? {}) as Record<string, unknown>;
  i.ackedAt = Date.now();
  i.callbackType = type;
  i.callbackData = data;
  const flags = Number(data.flags ?? 0);
  i.ephemeral = (flags & 64) !== 0;
  const bot = ctx.state.botUser;
  if (type === 4 || type === 5) {
    const m = ctx.state.addMessage(i.channelId, bot, { flags: (flags & 64) | (type === 5 ? 128 : 0), application_id: ctx.state.appId, webhook_id: ctx.state.appId, type: 20, interactionToken: token });
    if (type === 4) applyBody(ctx, m, data, body.files);
    i.originalMessageId = m.id;
    i.originalEdited = type === 4;
  } else if (type === 6 || type === 7) {
    i.originalMessageId = i.sourceMessageId;
    i.originalEdited = true;
    const m = i.sourceMessageId ? ctx.state.messages.get(i.sourceMessageId) : undefined;
    if (type === 7 && m) applyBody(ctx, m, data, body.files);
  }
  return { status: 204 };
}

function webhook(ctx: RestContext, method: string, parts: string[], body: { json?: Record<string, unknown>; files: RecordedFile[] }): Reply {
  const [appId, token, sub, msgId] = parts;
  const i = token ? ctx.book.get(token) : undefined;
  if (!i || appId !== ctx.state.appId) return err(404, 10015, 'Unknown Webhook');
  if (i.expired) return err(401, 50027, 'Invalid Webhook Token');
  if (sub === undefined && method === 'POST') {
    if (i.callbackType === 5 && !i.originalEdited && i.originalMessageId) {
      i.originalEdited = true;
      return { status: 200, body: applyBody(ctx, ctx.state.messages.get(i.originalMessageId)!, body.json, body.files) };
    }
    const flags = Number(body.json?.flags ?? 0) & 64;
    const m = ctx.state.addMessage(i.channelId, ctx.state.botUser, { flags, webhook_id: appId, application_id: appId, interactionToken: token });
    return { status: 200, body: applyBody(ctx, m, body.json, body.files) };
  }
  if (sub !== 'messages' || !msgId) return err(404, 0, 'Unknown route');
  const target = msgId === '@original' ? i.originalMessageId : msgId;
  const m = target ? ctx.state.messages.get(target) : undefined;
  if (!m || m.deleted) return err(404, 10008, 'Unknown Message');
  if (method === 'GET') return { status: 200, body: m };
  if (method === 'DELETE') {
    m.deleted = true;
    return { status: 204 };
  }
  if (method === 'PATCH') {
    if (msgId === '@original') i.originalEdited = true;
    return { status: 200, body: applyBody(ctx, m, body.json, body.files) };
  }
  return err(405, 0, 'Method not allowed');
}

function channels(ctx: RestContext, method: string, parts: string[], body: { json?: Record<string, unknown>; files: RecordedFile[] }, query: URLSearchParams): Reply {
  const [channelId, sub, msgId, sub2] = parts;
  const channel = channelId ? ctx.state.channels.get(channelId) : undefined;
  if (!channel) return err(404, 10003, 'Unknown Channel');
  if (sub === undefined && method === 'GET') return { status: 200, body: channel };
  if (sub === undefined && method === 'DELETE') {
    ctx.state.channels.delete(channelId!);
    return { status: 200, body: channel };
  }
  if (sub !== 'messages') return err(404, 0, 'Unknown route');
  if (msgId === undefined) {
    if (method === 'GET') {
      const limit = Number(query.get('limit') ?? 50);
      const list = ctx.state.channelMessages(channelId!).reverse().slice(0, limit).map((m) => stripForIntents(ctx, m));
      return { status: 200, body: list };
    }
    if (method === 'POST') {
      if (channel.type === 1 && channel.recipients?.some((u) => ctx.closedDms.has(u.id))) return err(403, 50007, 'Cannot send messages to this user');
      const m = ctx.state.addMessage(channelId!, ctx.state.botUser);
      return { status: 200, body: applyBody(ctx, m, body.json, body.files) };
    }
  }
  const m = msgId ? ctx.state.messages.get(msgId) : undefined;
  if (!m || m.deleted || m.channel_id !== channelId) return err(404, 10008, 'Unknown Message');
  if (sub2 === 'threads' && method === 'POST') {
    if (ctx.state.channels.has(m.id)) return err(400, 160004, 'A thread has already been created for this message');
    return { status: 201, body: ctx.state.addThread(channelId!, String(body.json?.name ?? 'thread'), m.id) };
  }
  if (sub2 === 'reactions' && (method === 'PUT' || method === 'DELETE')) return { status: 204 };
  if (sub2 !== undefined) return err(404, 0, 'Unknown route');
  if (method === 'GET') return { status: 200, body: stripForIntents(ctx, m) };
  if (method === 'PATCH') return { status: 200, body: applyBody(ctx, m, body.json, body.files) };
  if (method === 'DELETE') {
    m.deleted = true;
    return { status: 204 };
  }
  return err(405, 0, 'Method not allowed');
}

async function route(ctx: RestContext, req: IncomingMessage, url: URL, body: { json?: Record<string, unknown>; files: RecordedFile[] }): Promise<Reply> {
  const method = req.method ?? 'GET';
  const parts = url.pathname.replace(/^\/api\/v10\//, '').split('/').map(decodeURIComponent);
  const [root, ...rest] = parts;
  if (root === 'interactions') return interactionCallback(ctx, rest[0]!, rest[1]!, body);
  if (root === 'webhooks') return webhook(ctx, method, rest, body);
  // Everything else needs the bot token.
  if (req.headers.authorization !== `Bot ${ctx.token}`) return err(401, 0, '401: Unauthorized');
  if (root === 'gateway' && rest[0] === 'bot') {
    return { status: 200, body: { url: `${ctx.baseUrl().replace(/^http/, 'ws')}/gateway`, shards: 1, session_start_limit: { total: 1000, remaining: 999, reset_after: 0, max_concurrency: 1 } } };
  }
  if (root === 'channels') return channels(ctx, method, rest, body, url.searchParams);
  if (root === 'applications' && method === 'PUT') {
    const list = (body.json as unknown as { name: string }[]) ?? [];
    return { status: 200, body: list.map((c) => ({ ...c, id: snowflake(), application_id: ctx.state.appId, version: snowflake() })) };
  }
  if (root === 'users' && rest[0] === '@me' && rest[1] === 'channels' && method === 'POST') {
    const recipient = String(body.json?.recipient_id ?? '');
    return { status: 200, body: ctx.state.dmChannel({ id: recipient }) };
  }
  if (root === 'users' && rest[0] === '@me') return { status: 200, body: { id: ctx.state.botUser.id, username: 'asyrp', discriminator: '0', bot: true, avatar: null } };
  return err(404, 0, `fake: no route ${method} ${url.pathname}`);
}

export async function handleRest(ctx: RestContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://fake');
  if (url.pathname.startsWith('/cdn/')) {
    const file = ctx.state.files.get(url.pathname);
    ctx.calls.push({ method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, authorization: req.headers.authorization, json: undefined, files: [], status: file ? 200 : 404 });
    if (!file) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': file.contentType, 'content-length': String(file.bytes.length) });
    return void res.end(file.bytes);
  }
  const body = await readBody(req);
  const method = req.method ?? 'GET';
  const limited = ctx.rateLimits.findIndex((r) => r.match(method, url.pathname));
  let reply: Reply;
  if (limited >= 0) {
    const r = ctx.rateLimits.splice(limited, 1)[0]!;
    reply = { status: 429, body: { message: 'You are being rate limited.', retry_after: r.retryAfter, global: false } };
    res.setHeader('retry-after', String(r.retryAfter));
    res.setHeader('x-ratelimit-scope', r.scope ?? 'user');
    res.setHeader('x-ratelimit-remaining', '0');
    res.setHeader('x-ratelimit-reset-after', String(r.retryAfter));
    res.setHeader('x-ratelimit-bucket', 'fake-bucket');
    res.setHeader('x-ratelimit-limit', '5');
  } else {
    reply = await route(ctx, req, url, body);
  }
  ctx.calls.push({ method, path: decodeURIComponent(url.pathname), query: url.searchParams, authorization: req.headers.authorization, json: body.json, files: body.files, status: reply.status });
  if (reply.body === undefined) return void res.writeHead(reply.status).end();
  res.writeHead(reply.status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(reply.body));
}
