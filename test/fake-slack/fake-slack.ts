/**
 * An in-repo fake Slack on 127.0.0.1: the Web API (/api/<method>), upload URLs, private file hosting
 * (/files-pri/, bot token required, else a redirect to an HTML login page), response_url endpoints
 * and a Socket Mode WebSocket. Test helpers play the Slack side: post a user's image, then deliver a
 * signed slash command, event or interaction to the app (HTTP) or an envelope over the socket.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';
import type { ApiEnv } from './fake-web-api.js';
import { callMethod, hostFile } from './fake-web-api.js';
import type { FakeMessage } from './fake-slack-state.js';
import { FakeSlackState } from './fake-slack-state.js';
import type { Delivery, SignOptions } from './signed-requests.js';
import { formBody, postSigned } from './signed-requests.js';

export interface ApiCall {
  readonly method: string;
  readonly args: Record<string, string>;
  readonly auth: string | null;
  readonly at: number;
}

const read = (req: IncomingMessage) =>
  new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });

export class FakeSlack {
  readonly state = new FakeSlackState();
  readonly calls: ApiCall[] = [];
  readonly responses: { id: string; body: Record<string, unknown> }[] = [];
  readonly fileRequests: { path: string; auth: string | null }[] = [];
  readonly botToken = 'xoxb-fake-bot-token-123';
  readonly appToken = 'xapp-fake-app-token-456';
  readonly signingSecret = 'fake-signing-secret';
  readonly teamId = 'T0FAKE';
  readonly botUserId = 'U0BOT';
  readonly users = { alice: { id: 'U0ALICE', name: 'alice' }, bob: { id: 'U0BOB', name: 'bob' }, admin: { id: 'U0ADMIN', name: 'boss', is_admin: true } };
  /** Serve an HTML login page even with the token (a revoked files:read scope). */
  htmlFiles = false;
  /** Answer file requests with a redirect to this URL, even with the token (an off-host hop). */
  redirectFilesTo: string | null = null;
  /** Milliseconds a Web API method waits before answering (a slow Slack). */
  readonly delays = new Map<string, number>();
  /** Scripted failures: the next `times` calls of a method get a 429 (with Retry-After) or {ok:false,error}. */
  readonly faults = new Map<string, { times: number; status?: 429; retryAfterS?: number; error?: string }>();
  /** Channels the bot was never invited to: reading or posting there gives not_in_channel. */
  readonly notMember = new Set<string>();
  /** The app's POST /slack/events URL (HTTP mode). */
  appUrl = '';
  private server: Server | null = null;
  private wss: WebSocketServer | null = null;
  private sockets = new Set<WebSocket>();
  private acks = new Map<string, (payload: unknown) => void>();
  private counter = 0;
  base = '';

  async start(): Promise<this> {
    for (const u of Object.values(this.users)) this.state.users.set(u.id, u);
    this.server = createServer((req, res) => void this.route(req, res).catch((e: unknown) => this.send(res, 500, { ok: false, error: String(e) })));
    this.wss = new WebSocketServer({ noServer: true });
    this.server.on('upgrade', (req, socket, head) => {
      if (!req.url?.startsWith('/link')) return socket.destroy();
      this.wss!.handleUpgrade(req, socket, head, (ws) => this.onSocket(ws));
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  get apiUrl(): string {
    return `${this.base}/api/`;
  }

  get fileHost(): string {
    return new URL(this.base).host;
  }

  private env(): ApiEnv {
    return { state: this.state, base: this.base, teamId: this.teamId, botUserId: this.botUserId, botId: 'B0BOT', socketUrl: () => `${this.base.replace('http', 'ws')}/link/?ticket=t${++this.counter}` };
  }

  private send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.base);
    const body = await read(req);
    const auth = req.headers.authorization ?? null;
    if (req.method === 'POST' && url.pathname.startsWith('/api/')) {
      const method = url.pathname.slice(5);
      const type = req.headers['content-type'] ?? '';
      const args: Record<string, string> = type.includes('json') ? (JSON.parse(body.toString() || '{}') as Record<string, string>) : Object.fromEntries(new URLSearchParams(body.toString()));
      this.calls.push({ method, args, auth, at: Date.now() });
      const expected = method === 'apps.connections.open' ? this.appToken : this.botToken;
      if (auth !== `Bearer ${expected}`) return this.send(res, 200, { ok: false, error: 'invalid_auth' });
      const delay = this.delays.get(method);
      if (delay) await new Promise((r) => setTimeout(r, delay));
      if (this.notMember.has(args.channel ?? args.channel_id ?? '')) return this.send(res, 200, { ok: false, error: 'not_in_channel' });
      const fault = this.faults.get(method);
      if (fault && fault.times > 0) {
        fault.times--;
        if (fault.status === 429) return this.send(res, 429, { ok: false, error: 'ratelimited' }, { 'retry-after': String(fault.retryAfterS ?? 1) });
        return this.send(res, 200, { ok: false, error: fault.error ?? 'internal_error' });
      }
      return this.send(res, 200, callMethod(this.env(), method, args));
    }
    if (req.method === 'POST' && url.pathname.startsWith('/upload/')) {
      const id = url.pathname.slice(8);
      const form = await new Response(body, { headers: { 'content-type': req.headers['content-type'] ?? '' } }).formData().catch(() => null);
      const part = form?.get('body') ?? form?.get('file');
      const bytes = part && typeof part !== 'string' ? new Uint8Array(await part.arrayBuffer()) : new Uint8Array(body);
      this.state.uploads.set(id, { filename: url.searchParams.get('name') ?? 'file', bytes });
      res.writeHead(200, { 'content-type': 'text/plain' });
      return void res.end(`OK - ${bytes.length}`);
    }
    if (req.method === 'GET' && url.pathname.startsWith('/files-pri/')) {
      this.fileRequests.push({ path: url.pathname, auth });
      const id = url.pathname.split('/')[2]?.split('-').slice(1).join('-') ?? '';
      const file = this.state.files.get(id);
      if (auth !== `Bearer ${this.botToken}`) return this.send(res, 302, '', { location: `${this.base}/login` });
      if (this.redirectFilesTo) return this.send(res, 302, '', { location: this.redirectFilesTo });
      if (this.htmlFiles || !file) return this.send(res, 200, '<!DOCTYPE html><html><body>Sign in to Slack</body></html>', { 'content-type': 'text/html' });
      res.writeHead(200, { 'content-type': file.mimetype, 'content-length': String(file.bytes.length) });
      return void res.end(Buffer.from(file.bytes));
    }
    if (req.method === 'POST' && url.pathname.startsWith('/response/')) {
      this.responses.push({ id: url.pathname.slice(10), body: JSON.parse(body.toString() || '{}') as Record<string, unknown> });
      return this.send(res, 200, { ok: true });
    }
    this.send(res, 404, { ok: false, error: 'not_found' });
  }

  /** A person uploads an image into a channel (or a thread): the message the bot will look for. */
  postImage(user: { id: string }, channel: string, bytes: Uint8Array, o: { thread_ts?: string; text?: string; name?: string; mimetype?: string } = {}): FakeMessage {
    const id = `FU${String(++this.counter).padStart(5, '0')}`;
    const file = hostFile(this.env(), id, o.name ?? 'face.png', bytes, undefined, o.mimetype ?? 'image/png');
    return this.state.add({ channel, user: user.id, text: o.text ?? '', files: [file], ...(o.thread_ts ? { thread_ts: o.thread_ts } : {}) });
  }

  sign(o: Partial<SignOptions> = {}): SignOptions {
    return { secret: this.signingSecret, ...o };
  }

  commandFields(user: { id: string; name: string }, channel: string, text: string): Record<string, string> {
    const n = ++this.counter;
    return {
      token: 'legacy-verification-token', team_id: this.teamId, team_domain: 'fake', channel_id: channel, channel_name: 'general', user_id: user.id, user_name: user.name,
      command: '/asyrp', text, api_app_id: 'A0FAKE', is_enterprise_install: 'false', response_url: `${this.base}/response/c${n}`, trigger_id: `${n}.trigger`,
    };
  }

  command(user: { id: string; name: string }, channel: string, text: string, o: Partial<SignOptions> = {}): Promise<Delivery> {
    return postSigned(this.appUrl, formBody(this.commandFields(user, channel, text)), 'application/x-www-form-urlencoded', this.sign(o));
  }

  /**
   * A command and its private answer as the person sees it: the ack body when it carries text (an edit's
   * "working on it", a recipe the grammar refused), else the first response_url POST for this command
   * (the words that read storage are acked empty and answered there).
   */
  async ask(user: { id: string; name: string }, channel: string, text: string, o: Partial<SignOptions> = {}): Promise<{ delivery: Delivery; text: string; body: Record<string, unknown>; responseId: string }> {
    const fields = this.commandFields(user, channel, text);
    const delivery = await postSigned(this.appUrl, formBody(fields), 'application/x-www-form-urlencoded', this.sign(o));
    const responseId = fields.response_url!.split('/response/')[1]!;
    const acked = delivery.text ? delivery.json() : {};
    if (typeof acked.text === 'string' && acked.text) return { delivery, text: acked.text, body: acked, responseId };
    const answer = await this.responseTo(responseId, `the answer to "${text}"`);
    return { delivery, text: String(answer.text ?? ''), body: answer, responseId };
  }

  /** The first POST to one command's response_url (responseId from ask()). */
  async responseTo(responseId: string, what = 'a response_url answer'): Promise<Record<string, unknown>> {
    return (await this.waitFor(() => this.responses.find((r) => r.id === responseId), `${what} through response_url`)).body;
  }

  eventEnvelope(event: Record<string, unknown>, eventId = `Ev${++this.counter}`): Record<string, unknown> {
    return { token: 'legacy', team_id: this.teamId, api_app_id: 'A0FAKE', type: 'event_callback', event_id: eventId, event_time: Math.floor(Date.now() / 1000), authorizations: [{ team_id: this.teamId, user_id: this.botUserId, is_bot: true }], event };
  }

  event(envelope: Record<string, unknown>, o: Partial<SignOptions> = {}): Promise<Delivery> {
    return postSigned(this.appUrl, JSON.stringify(envelope), 'application/json', this.sign(o));
  }

  interactive(payload: Record<string, unknown>, o: Partial<SignOptions> = {}): Promise<Delivery> {
    return postSigned(this.appUrl, formBody({ payload: JSON.stringify(payload) }), 'application/x-www-form-urlencoded', this.sign(o));
  }

  triggerId(): string {
    return `${++this.counter}.trigger`;
  }

  /** Messages in a thread other than its parent, oldest first. */
  threadReplies(channel: string, threadTs: string): FakeMessage[] {
    return this.state.inThread(channel, threadTs).filter((m) => m.ts !== threadTs);
  }

  private onSocket(ws: WebSocket): void {
    this.sockets.add(ws);
    ws.on('close', () => this.sockets.delete(ws));
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data)) as { envelope_id?: string; payload?: unknown };
      if (msg.envelope_id) this.acks.get(msg.envelope_id)?.(msg.payload ?? null);
    });
    ws.send(JSON.stringify({ type: 'hello', num_connections: 1, connection_info: { app_id: 'A0FAKE' }, debug_info: { host: 'fake' } }));
  }

  get socketCount(): number {
    return this.sockets.size;
  }

  /** Sends a Socket Mode envelope and resolves with the app's ack payload. */
  envelope(type: 'slash_commands' | 'events_api' | 'interactive', payload: unknown, retryAttempt = 0): Promise<unknown> {
    const ws = [...this.sockets][0];
    if (!ws) throw new Error('fake slack: no socket connected');
    const envelope_id = `env-${++this.counter}`;
    const acked = new Promise<unknown>((resolve) => this.acks.set(envelope_id, resolve));
    ws.send(JSON.stringify({ envelope_id, type, payload, accepts_response_payload: type !== 'events_api', retry_attempt: retryAttempt, retry_reason: retryAttempt ? 'timeout' : '' }));
    return acked;
  }

  async waitFor<T>(probe: () => T | undefined | false | null, what: string, timeoutMs = 30_000): Promise<T> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const v = probe();
      if (v) return v;
      if (Date.now() > until) throw new Error(`fake slack: timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async stop(): Promise<void> {
    for (const ws of this.sockets) ws.terminate();
    this.wss?.close();
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}
