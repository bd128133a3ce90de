/**
 * What the fake Slack workspace holds: users, channels of messages (with threads, files, blocks and
 * reactions), hosted file bytes, and the modals the app opened. Timestamps are Slack-style
 * "seconds.micro" strings, strictly increasing.
 */
export interface FakeFile {
  id: string;
  name: string;
  title?: string;
  mimetype: string;
  size: number;
  original_w?: number;
  original_h?: number;
  url_private: string;
  url_private_download: string;
  permalink: string;
  bytes: Uint8Array;
}

export interface FakeMessage {
  ts: string;
  channel: string;
  user?: string;
  bot_id?: string;
  text: string;
  thread_ts?: string;
  blocks?: unknown[];
  files?: FakeFile[];
  reactions: { name: string; users: string[] }[];
  deleted?: boolean;
}

export interface FakeUser {
  id: string;
  name: string;
  is_admin?: boolean;
  is_owner?: boolean;
}

let lastMicros = 0;
export function nextTs(): string {
  lastMicros = Math.max(lastMicros + 1, Date.now() * 1000);
  return `${Math.floor(lastMicros / 1e6)}.${String(lastMicros % 1e6).padStart(6, '0')}`;
}

export class FakeSlackState {
  readonly users = new Map<string, FakeUser>();
  readonly messages: FakeMessage[] = [];
  readonly files = new Map<string, FakeFile>();
  readonly views: { trigger_id: string; view: Record<string, unknown>; id: string }[] = [];
  readonly ephemerals: { channel: string; user: string; text: string; thread_ts?: string }[] = [];
  /** Bytes posted to upload URLs, by file id (files.getUploadURLExternal → POST). */
  readonly uploads = new Map<string, { filename: string; bytes: Uint8Array }>();

  message(channel: string, ts: string): FakeMessage | undefined {
    return this.messages.find((m) => m.channel === channel && m.ts === ts && !m.deleted);
  }

  /** Top-level messages of a channel, newest first (conversations.history). */
  history(channel: string): FakeMessage[] {
    return this.messages.filter((m) => m.channel === channel && !m.deleted && (!m.thread_ts || m.thread_ts === m.ts)).reverse();
  }

  /** A thread: its parent, then replies, oldest first (conversations.replies). */
  thread(channel: string, ts: string): FakeMessage[] {
    const anchor = this.message(channel, ts);
    const root = anchor?.thread_ts ?? ts;
    return this.messages.filter((m) => m.channel === channel && !m.deleted && (m.ts === root || m.thread_ts === root));
  }

  inThread(channel: string, threadTs: string): FakeMessage[] {
    return this.messages.filter((m) => m.channel === channel && !m.deleted && m.thread_ts === threadTs);
  }

  add(m: Omit<FakeMessage, 'ts' | 'reactions'> & { ts?: string }): FakeMessage {
    const msg: FakeMessage = { ...m, ts: m.ts ?? nextTs(), reactions: [] };
    this.messages.push(msg);
    return msg;
  }
}
