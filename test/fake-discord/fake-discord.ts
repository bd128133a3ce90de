/**
 * An in-repo fake Discord on 127.0.0.1: REST + CDN + gateway on one port, plus "actor" helpers that
 * do what a person in the guild would (post an image, run a slash command, press a button, react),
 * and a recorder of every REST call for assertions. The real discord.js client talks to it.
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FakeGateway, MESSAGE_CONTENT_INTENT } from './fake-gateway.js';
import type { FakeInteraction } from './fake-interactions.js';
import { InteractionBook } from './fake-interactions.js';
import type { RecordedCall, RestContext } from './fake-rest.js';
import { handleRest } from './fake-rest.js';
import type { FakeUser, StoredAttachment, StoredMessage } from './fake-state.js';
import { apiUser, FakeState } from './fake-state.js';
import { snowflake } from './snowflake.js';

const MEMBER_PERMISSIONS = (1n << 10n) | (1n << 11n) | (1n << 15n) | (1n << 16n) | (1n << 31n) | (1n << 6n);
const MANAGE_GUILD = 1n << 5n;

export interface ImageUpload {
  readonly filename?: string;
  readonly bytes: Uint8Array;
  readonly contentType?: string;
  readonly width?: number;
  readonly height?: number;
}

export interface FakeDiscordOptions {
  readonly token?: string;
  /** Intents the app may use (the developer portal's switches); others close with 4014. */
  readonly allowedIntents?: number;
}

export class FakeDiscord {
  readonly state = new FakeState();
  readonly book = new InteractionBook();
  readonly calls: RecordedCall[] = [];
  readonly rateLimits: RestContext['rateLimits'] = [];
  /** People who accept no DMs from the bot (server privacy setting): sending them one gets 50007. */
  readonly closedDms = new Set<string>();
  readonly token: string;
  readonly users = {
    alice: { id: snowflake(), username: 'alice' } as FakeUser,
    bob: { id: snowflake(), username: 'bob' } as FakeUser,
    admin: { id: snowflake(), username: 'root' } as FakeUser,
  };
  gateway!: FakeGateway;
  private server!: Server;
  baseUrl = '';

  constructor(private readonly options: FakeDiscordOptions = {}) {
    this.token = options.token ?? 'fake-bot-token';
  }

  async start(): Promise<this> {
    const ctx: RestContext = {
      state: this.state,
      book: this.book,
      gateway: () => this.gateway,
      token: this.token,
      baseUrl: () => this.baseUrl,
      calls: this.calls,
      rateLimits: this.rateLimits,
      closedDms: this.closedDms,
    };
    this.server = createServer((req, res) => {
      handleRest(ctx, req, res).catch((e: unknown) => {
        res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 0, message: String(e) }));
      });
    });
    this.gateway = new FakeGateway(this.server, this.state, { token: this.token, ...(this.options.allowedIntents !== undefined ? { allowedIntents: this.options.allowedIntents } : {}) });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.baseUrl = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    this.gateway.setUrl(`${this.baseUrl.replace(/^http/, 'ws')}/gateway`);
    return this;
  }

  get restApi(): string {
    return `${this.baseUrl}/api`;
  }

  /** The host the bot's CDN allow-list must name to download from this fake. */
  get cdnHost(): string {
    return '127.0.0.1';
  }

  async stop(): Promise<void> {
    await this.gateway.close();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  attachment(channelId: string, upload: ImageUpload): StoredAttachment {
    const id = snowflake();
    const filename = upload.filename ?? 'photo.png';
    const path = `/cdn/attachments/${channelId}/${id}/${filename}`;
    const contentType = upload.contentType ?? 'image/png';
    this.state.files.set(path, { bytes: upload.bytes, contentType });
    const url = `${this.baseUrl}${path}?ex=1&is=2&hm=3`;
    return { id, filename, size: upload.bytes.length, content_type: contentType, width: upload.width ?? 16, height: upload.height ?? 16, url, proxy_url: url };
  }

  /** A person posts a message with an image in a channel (MESSAGE_CREATE is dispatched). */
  postImage(user: FakeUser, upload: ImageUpload, channelId = this.state.mainChannelId): StoredMessage {
    const m = this.state.addMessage(channelId, user, { content: 'look', attachments: [this.attachment(channelId, upload)] });
    // Like Discord: without the MESSAGE_CONTENT intent, other people's messages arrive without content.
    const visible = this.gateway.intents & MESSAGE_CONTENT_INTENT ? m : { ...m, content: '', attachments: [], embeds: [] };
    this.gateway.dispatch('MESSAGE_CREATE', { ...visible, guild_id: this.state.guildId, member: this.member(user, false) });
    return m;
  }

  member(user: FakeUser, admin: boolean): Record<string, unknown> {
    const permissions = admin ? MEMBER_PERMISSIONS | MANAGE_GUILD : MEMBER_PERMISSIONS;
    return { user: apiUser(user), roles: [], permissions: permissions.toString(), joined_at: new Date().toISOString(), deaf: false, mute: false, flags: 0 };
  }

  /** The person's DM channel with the bot (type 1, no guild), made on first use. */
  dmChannel(user: FakeUser): string {
    return this.state.dmChannel(user).id;
  }

  /** Messages the bot sent the person in a DM, oldest first. */
  dmsTo(user: FakeUser): StoredMessage[] {
    return this.state.channelMessages(`dm-${user.id}`);
  }

  private interaction(type: number, user: FakeUser, data: unknown, o: { channelId?: string; admin?: boolean; message?: StoredMessage; dm?: boolean } = {}): FakeInteraction {
    const channelId = o.dm ? this.dmChannel(user) : (o.channelId ?? o.message?.channel_id ?? this.state.mainChannelId);
    const channel = this.state.channels.get(channelId)!;
    const id = snowflake();
    const token = `itoken-${id}`;
    const fi: FakeInteraction = { id, token, type, channelId, createdAt: Date.now(), ...(o.message ? { sourceMessageId: o.message.id } : {}) };
    this.book.add(fi);
    this.gateway.dispatch('INTERACTION_CREATE', {
      id,
      application_id: this.state.appId,
      type,
      token,
      version: 1,
      // A DM: no guild, the user instead of a member, context 1 (BotDM).
      ...(o.dm
        ? { channel_id: channelId, channel: { id: channel.id, type: 1 }, user: apiUser(user), context: 1 }
        : {
            guild_id: this.state.guildId,
            channel_id: channelId,
            channel: { id: channel.id, type: channel.type, guild_id: this.state.guildId, name: channel.name, ...(channel.parent_id ? { parent_id: channel.parent_id } : {}) },
            member: this.member(user, o.admin ?? false),
            context: 0,
          }),
      app_permissions: (MEMBER_PERMISSIONS | (1n << 35n) | (1n << 38n)).toString(),
      locale: 'en-US',
      guild_locale: 'en-US',
      entitlements: [],
      authorizing_integration_owners: { '0': this.state.guildId },
      attachment_size_limit: 10 * 1024 * 1024,
      ...(o.message ? { message: o.message } : {}),
      data,
    });
    return fi;
  }

  /**
   * `/asyrp <sub> ...` (or `/asyrp <group> <sub> ...`). Options are name -> value; an `image` upload
   * becomes an attachment option with its resolved attachment.
   */
  slash(user: FakeUser, path: string[], options: Record<string, string | number | boolean | { type: number; value: unknown }> = {}, o: { image?: ImageUpload; channelId?: string; admin?: boolean; focused?: string; dm?: boolean } = {}): FakeInteraction {
    const channelId = o.channelId ?? this.state.mainChannelId;
    // Numbers are NUMBER options (type 10); pass { type: 4, value } for an INTEGER option.
    const opts: Record<string, unknown>[] = Object.entries(options).map(([name, value]) => ({
      name,
      ...(typeof value === 'object' ? value : { type: typeof value === 'number' ? 10 : typeof value === 'boolean' ? 5 : 3, value }),
      ...(o.focused === name ? { focused: true } : {}),
    }));
    const resolved: Record<string, unknown> = {};
    if (o.image) {
      const a = this.attachment(channelId, o.image);
      opts.push({ name: 'image', type: 11, value: a.id });
      resolved.attachments = { [a.id]: a };
    }
    const [first, second] = path;
    const sub = second ? { name: second, type: 1, options: opts } : { name: first, type: 1, options: opts };
    const top = second ? [{ name: first, type: 2, options: [sub] }] : [sub];
    return this.interaction(o.focused ? 4 : 2, user, { id: snowflake(), name: 'asyrp', type: 1, options: top, resolved }, o);
  }

  messageCommand(user: FakeUser, name: string, message: StoredMessage, o: { dm?: boolean } = {}): FakeInteraction {
    return this.interaction(2, user, { id: snowflake(), name, type: 3, target_id: message.id, resolved: { messages: { [message.id]: message } } }, { channelId: message.channel_id, ...o });
  }

  button(user: FakeUser, message: StoredMessage, customId: string, o: { admin?: boolean } = {}): FakeInteraction {
    return this.interaction(3, user, { custom_id: customId, component_type: 2 }, { message, ...o });
  }

  select(user: FakeUser, message: StoredMessage, customId: string, values: string[]): FakeInteraction {
    return this.interaction(3, user, { custom_id: customId, component_type: 3, values }, { message });
  }

  modalSubmit(user: FakeUser, customId: string, fields: Record<string, string>, channelId = this.state.mainChannelId): FakeInteraction {
    const components = Object.entries(fields).map(([id, value]) => ({ type: 1, components: [{ type: 4, custom_id: id, value }] }));
    return this.interaction(5, user, { custom_id: customId, components }, { channelId });
  }

  react(user: FakeUser, message: StoredMessage, emoji: string): void {
    this.gateway.dispatch('MESSAGE_REACTION_ADD', {
      user_id: user.id,
      channel_id: message.channel_id,
      message_id: message.id,
      guild_id: this.state.guildId,
      emoji: { id: null, name: emoji },
      burst: false,
      type: 0,
      member: this.member(user, false),
      message_author_id: message.author.id,
    });
  }

  /** Messages in a channel or thread, oldest first (ephemeral ones excluded). */
  messagesIn(channelId: string): StoredMessage[] {
    return this.state.channelMessages(channelId);
  }

  original(i: FakeInteraction): StoredMessage | undefined {
    const fresh = this.book.get(i.token);
    return fresh?.originalMessageId ? this.state.messages.get(fresh.originalMessageId) : undefined;
  }

  async waitFor<T>(probe: () => T | undefined | false | null, what: string, timeoutMs = 20_000): Promise<T> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const v = probe();
      if (v) return v;
      if (Date.now() > until) throw new Error(`fake discord: timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
