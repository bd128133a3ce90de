/**
 * The fake's world: one guild with text channels, the messages in them, threads and uploaded files.
 * Objects are shaped like Discord API v10 payloads with the fields discord.js reads.
 */
import { snowflake } from './snowflake.js';

export interface FakeUser {
  readonly id: string;
  readonly username: string;
  readonly bot?: boolean;
}

export interface StoredAttachment {
  id: string;
  filename: string;
  size: number;
  content_type: string;
  width?: number;
  height?: number;
  url: string;
  proxy_url: string;
}

export interface StoredMessage {
  id: string;
  channel_id: string;
  author: ApiUser;
  content: string;
  timestamp: string;
  edited_timestamp: string | null;
  tts: false;
  mention_everyone: false;
  mentions: [];
  mention_roles: [];
  attachments: StoredAttachment[];
  embeds: unknown[];
  components: unknown[];
  pinned: false;
  type: number;
  flags: number;
  webhook_id?: string;
  application_id?: string;
  message_reference?: unknown;
  allowed_mentions?: unknown;
  /** Not part of the API: which interaction made it (for assertions). */
  interactionToken?: string;
  deleted?: boolean;
}

export interface ApiUser {
  id: string;
  username: string;
  discriminator: '0';
  global_name: null;
  avatar: null;
  bot?: boolean;
}

export const apiUser = (u: FakeUser): ApiUser => ({ id: u.id, username: u.username, discriminator: '0', global_name: null, avatar: null, ...(u.bot ? { bot: true } : {}) });

export interface ApiChannel {
  id: string;
  type: number;
  name: string;
  guild_id: string;
  parent_id?: string;
  permission_overwrites: [];
  owner_id?: string;
  thread_metadata?: unknown;
  position?: number;
  /** DM channels (type 1): the person at the other end. */
  recipients?: ApiUser[];
}

export class FakeState {
  readonly guildId = snowflake();
  readonly appId = snowflake();
  readonly botUser: FakeUser = { id: this.appId, username: 'asyrp', bot: true };
  readonly channels = new Map<string, ApiChannel>();
  readonly messages = new Map<string, StoredMessage>();
  /** CDN path -> bytes and content type. */
  readonly files = new Map<string, { bytes: Uint8Array; contentType: string }>();
  readonly mainChannelId: string;

  constructor() {
    this.mainChannelId = this.addChannel('general').id;
  }

  addChannel(name: string): ApiChannel {
    const c: ApiChannel = { id: snowflake(), type: 0, name, guild_id: this.guildId, permission_overwrites: [], position: this.channels.size };
    this.channels.set(c.id, c);
    return c;
  }

  /** A public thread; Discord gives a thread started from a message the message's id. */
  addThread(parentId: string, name: string, id: string = snowflake()): ApiChannel {
    const t: ApiChannel = {
      id,
      type: 11,
      name,
      guild_id: this.guildId,
      parent_id: parentId,
      permission_overwrites: [],
      owner_id: this.appId,
      thread_metadata: { archived: false, auto_archive_duration: 1440, archive_timestamp: new Date().toISOString(), locked: false },
    };
    this.channels.set(t.id, t);
    return t;
  }

  addMessage(channelId: string, author: FakeUser, fields: Partial<StoredMessage> = {}): StoredMessage {
    const m: StoredMessage = {
      id: snowflake(),
      channel_id: channelId,
      author: apiUser(author),
      content: '',
      timestamp: new Date().toISOString(),
      edited_timestamp: null,
      tts: false,
      mention_everyone: false,
      mentions: [],
      mention_roles: [],
      attachments: [],
      embeds: [],
      components: [],
      pinned: false,
      type: 0,
      flags: 0,
      ...fields,
    };
    this.messages.set(m.id, m);
    return m;
  }

  /** The person's DM channel with the bot (type 1, no guild), made on first use. */
  dmChannel(user: { id: string; username?: string }): ApiChannel {
    const id = `dm-${user.id}`;
    let c = this.channels.get(id);
    if (!c) {
      c = { id, type: 1, name: '', guild_id: '', permission_overwrites: [], recipients: [apiUser({ id: user.id, username: user.username ?? 'someone' })] };
      this.channels.set(id, c);
    }
    return c;
  }

  channelMessages(channelId: string): StoredMessage[] {
    return [...this.messages.values()].filter((m) => m.channel_id === channelId && !m.deleted && !(m.flags & 64));
  }
}
