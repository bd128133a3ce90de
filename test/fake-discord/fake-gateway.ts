/**
 * The fake gateway: HELLO, IDENTIFY (token and intent checks), READY + GUILD_CREATE, heartbeats,
 * RESUME with replay of missed events, and scripted faults (RECONNECT, dropped sockets, a stale
 * resume that replays events the client already had, to prove the bot deduplicates).
 */
import type { WebSocket } from 'ws';
import { WebSocketServer } from 'ws';
import type { Server } from 'node:http';
import type { FakeState } from './fake-state.js';
import { apiUser } from './fake-state.js';

interface Session {
  id: string;
  seq: number;
  intents: number;
  events: { s: number; t: string; d: unknown }[];
  socket: WebSocket | null;
}

export const MESSAGE_CONTENT_INTENT = 1 << 15;

export interface GatewayOptions {
  readonly token: string;
  /** Intents the "developer portal" allows; others close the socket with 4014. */
  readonly allowedIntents?: number;
}

export class FakeGateway {
  readonly wss: WebSocketServer;
  private session: Session | null = null;
  identifies = 0;
  resumes = 0;
  /** When set, the next RESUME replays from this sequence number instead of the client's. */
  replayFromOnResume: number | null = null;
  private url = '';

  constructor(
    server: Server,
    private readonly state: FakeState,
    private readonly options: GatewayOptions,
  ) {
    this.wss = new WebSocketServer({ server, path: '/gateway' });
    this.wss.on('connection', (ws) => this.onConnection(ws));
  }

  setUrl(url: string): void {
    this.url = url;
  }

  get intents(): number {
    return this.session?.intents ?? 0;
  }

  get connected(): boolean {
    return this.session?.socket?.readyState === 1;
  }

  private send(ws: WebSocket, payload: { op: number; [key: string]: unknown }): void {
    if (ws.readyState !== 1) return;
    ws.send(JSON.stringify(payload));
    if (payload.op === 0) this.dispatchesSent++;
  }

  private onConnection(ws: WebSocket): void {
    this.send(ws, { op: 10, d: { heartbeat_interval: 30_000 } });
    ws.on('message', (raw) => {
      const msg = JSON.parse(String(raw)) as { op: number; d: Record<string, unknown> | number | null };
      if (msg.op === 1) this.send(ws, { op: 11 });
      else if (msg.op === 2) this.onIdentify(ws, msg.d as Record<string, unknown>);
      else if (msg.op === 6) this.onResume(ws, msg.d as Record<string, unknown>);
    });
    ws.on('close', () => {
      if (this.session?.socket === ws) this.session.socket = null;
    });
  }

  private onIdentify(ws: WebSocket, d: Record<string, unknown>): void {
    if (d.token !== this.options.token) return ws.close(4004, 'Authentication failed.');
    const intents = Number(d.intents);
    if (this.options.allowedIntents !== undefined && (intents & ~this.options.allowedIntents) !== 0) return ws.close(4014, 'Disallowed intent(s).');
    this.identifies++;
    this.session = { id: `session-${this.identifies}`, seq: 0, intents, events: [], socket: ws };
    const s = this.state;
    this.dispatch('READY', {
      v: 10,
      user: apiUser(s.botUser),
      guilds: [{ id: s.guildId, unavailable: true }],
      session_id: this.session.id,
      resume_gateway_url: this.url,
      shard: [0, 1],
      application: { id: s.appId, flags: 0 },
    });
    this.dispatch('GUILD_CREATE', this.guildPayload());
  }

  private onResume(ws: WebSocket, d: Record<string, unknown>): void {
    const session = this.session;
    if (!session || d.session_id !== session.id || d.token !== this.options.token) return this.send(ws, { op: 9, d: false });
    this.resumes++;
    session.socket = ws;
    const from = this.replayFromOnResume ?? Number(d.seq);
    this.replayFromOnResume = null;
    for (const e of session.events) if (e.s > from) this.send(ws, { op: 0, t: e.t, s: e.s, d: e.d });
    this.send(ws, { op: 0, t: 'RESUMED', s: session.seq, d: {} });
  }

  /** Dispatch packets (op 0) written to a socket so far, replays included: the bot's quiescence target. */
  dispatchesSent = 0;

  /** Sends an event now, or keeps it for the resume if the client is between sockets. */
  dispatch(t: string, d: unknown): void {
    const session = this.session;
    if (!session) throw new Error('fake gateway: no session (is the bot logged in?)');
    const s = ++session.seq;
    session.events.push({ s, t, d });
    if (session.socket) this.send(session.socket, { op: 0, t, s, d });
  }

  /** Op 7: the client closes and resumes on resume_gateway_url. */
  requestReconnect(): void {
    if (this.session?.socket) this.send(this.session.socket, { op: 7, d: null });
  }

  /** An abrupt TCP drop (close code 1006 on the client): it resumes. */
  dropConnection(): void {
    this.session?.socket?.terminate();
    if (this.session) this.session.socket = null;
  }

  private guildPayload(): unknown {
    const s = this.state;
    return {
      id: s.guildId,
      name: 'Fake Guild',
      icon: null,
      owner_id: '100000000000000001',
      afk_timeout: 300,
      verification_level: 0,
      default_message_notifications: 0,
      explicit_content_filter: 0,
      roles: [{ id: s.guildId, name: '@everyone', permissions: '2248473465835073', position: 0, color: 0, hoist: false, managed: false, mentionable: false, flags: 0 }],
      emojis: [],
      stickers: [],
      features: [],
      mfa_level: 0,
      system_channel_flags: 0,
      channels: [...s.channels.values()].filter((c) => c.type === 0),
      threads: [],
      members: [{ user: apiUser(s.botUser), roles: [], joined_at: new Date().toISOString(), deaf: false, mute: false, flags: 0 }],
      voice_states: [],
      presences: [],
      stage_instances: [],
      guild_scheduled_events: [],
      joined_at: new Date().toISOString(),
      member_count: 3,
      large: false,
      unavailable: false,
      premium_tier: 0,
      preferred_locale: 'en-US',
      nsfw_level: 0,
    };
  }

  close(): Promise<void> {
    for (const c of this.wss.clients) c.terminate();
    return new Promise((r) => this.wss.close(() => r()));
  }
}
