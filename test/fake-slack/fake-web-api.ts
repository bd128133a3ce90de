/**
 * The Web API methods the app calls, answered from FakeSlackState the way Slack answers them:
 * HTTP 200 with {ok:true,...} or {ok:false,error}. Requests must carry the bot token (the app token
 * for apps.connections.open), like the real API.
 */
import type { FakeFile, FakeMessage, FakeSlackState } from './fake-slack-state.js';
import { nextTs } from './fake-slack-state.js';

export interface ApiEnv {
  readonly state: FakeSlackState;
  readonly base: string;
  readonly teamId: string;
  readonly botUserId: string;
  readonly botId: string;
  socketUrl(): string;
}

type Args = Record<string, string>;
type Result = Record<string, unknown>;

const json = <T>(v: string | undefined, dflt: T): T => (v ? (JSON.parse(v) as T) : dflt);
let fileCounter = 0;

export function callMethod(env: ApiEnv, method: string, a: Args): Result {
  const { state } = env;
  switch (method) {
    case 'auth.test':
      return { ok: true, url: 'https://fake.slack.test/', team: 'Fake', user: 'asyrp', team_id: env.teamId, user_id: env.botUserId, bot_id: env.botId };
    case 'apps.connections.open':
      return { ok: true, url: env.socketUrl() };
    case 'chat.postMessage': {
      if (a.thread_ts && !state.message(a.channel!, a.thread_ts)) return { ok: false, error: 'thread_not_found' };
      const m = state.add({ channel: a.channel!, bot_id: env.botId, user: env.botUserId, text: a.text ?? '', ...(a.thread_ts ? { thread_ts: a.thread_ts } : {}), blocks: json(a.blocks, []) });
      return { ok: true, channel: m.channel, ts: m.ts, message: m };
    }
    case 'chat.update': {
      const m = state.message(a.channel!, a.ts!);
      if (!m) return { ok: false, error: 'message_not_found' };
      m.text = a.text ?? m.text;
      if (a.blocks) m.blocks = json(a.blocks, []);
      return { ok: true, channel: m.channel, ts: m.ts };
    }
    case 'chat.delete': {
      const m = state.message(a.channel!, a.ts!);
      if (!m) return { ok: false, error: 'message_not_found' };
      m.deleted = true;
      return { ok: true, channel: m.channel, ts: m.ts };
    }
    case 'chat.postEphemeral':
      state.ephemerals.push({ channel: a.channel!, user: a.user!, text: a.text ?? '', ...(a.thread_ts ? { thread_ts: a.thread_ts } : {}) });
      return { ok: true, message_ts: nextTs() };
    case 'reactions.add':
    case 'reactions.remove': {
      const m = state.message(a.channel!, a.timestamp!);
      if (!m) return { ok: false, error: 'message_not_found' };
      let r = m.reactions.find((x) => x.name === a.name);
      if (method === 'reactions.add') {
        if (r?.users.includes(env.botUserId)) return { ok: false, error: 'already_reacted' };
        if (!r) m.reactions.push((r = { name: a.name!, users: [] }));
        r.users.push(env.botUserId);
      } else {
        if (!r?.users.includes(env.botUserId)) return { ok: false, error: 'no_reaction' };
        r.users = r.users.filter((u) => u !== env.botUserId);
        if (r.users.length === 0) m.reactions = m.reactions.filter((x) => x !== r);
      }
      return { ok: true };
    }
    case 'conversations.history': {
      const oldest = Number(a.oldest ?? 0);
      const latest = a.latest ? Number(a.latest) : Infinity;
      const list = state.history(a.channel!).filter((m) => Number(m.ts) >= oldest && (a.inclusive === 'true' ? Number(m.ts) <= latest : Number(m.ts) < latest));
      return { ok: true, messages: list.slice(0, Number(a.limit ?? 100)).map(wire), has_more: false };
    }
    case 'conversations.replies': {
      const list = state.thread(a.channel!, a.ts!);
      if (list.length === 0) return { ok: false, error: 'thread_not_found' };
      return { ok: true, messages: list.slice(0, Number(a.limit ?? 1000)).map(wire), has_more: false };
    }
    case 'users.info': {
      const u = state.users.get(a.user!);
      return u ? { ok: true, user: { ...u, team_id: env.teamId } } : { ok: false, error: 'user_not_found' };
    }
    case 'files.delete': {
      const f = state.files.get(a.file!);
      if (!f) return { ok: false, error: 'file_not_found' };
      state.files.delete(f.id);
      return { ok: true };
    }
    case 'views.open': {
      const id = `V${++fileCounter}`;
      state.views.push({ trigger_id: a.trigger_id!, view: json(a.view, {}), id });
      return { ok: true, view: { id } };
    }
    case 'files.getUploadURLExternal': {
      const id = `F${String(++fileCounter).padStart(6, '0')}`;
      return { ok: true, file_id: id, upload_url: `${env.base}/upload/${id}?name=${encodeURIComponent(a.filename ?? 'file')}` };
    }
    case 'files.completeUploadExternal': {
      const list = json<{ id: string; title?: string }[]>(a.files, []);
      const files: FakeFile[] = [];
      for (const f of list) {
        const up = state.uploads.get(f.id);
        if (!up) return { ok: false, error: 'file_not_found' };
        files.push(hostFile(env, f.id, up.filename, up.bytes, f.title));
      }
      if (a.channel_id) {
        if (a.thread_ts && !state.message(a.channel_id, a.thread_ts)) return { ok: false, error: 'invalid_thread_ts' };
        state.add({ channel: a.channel_id, bot_id: env.botId, user: env.botUserId, text: a.initial_comment ?? '', ...(a.thread_ts ? { thread_ts: a.thread_ts } : {}), blocks: json(a.blocks, []), files });
      }
      return { ok: true, files: files.map((f) => ({ id: f.id, title: f.title, name: f.name, permalink: f.permalink })) };
    }
    default:
      return { ok: false, error: 'unknown_method' };
  }
}

/** Registers bytes as a private Slack file served under /files-pri/ (the bot token is required). */
export function hostFile(env: ApiEnv, id: string, name: string, bytes: Uint8Array, title?: string, mimetype = 'image/png'): FakeFile {
  const url = `${env.base}/files-pri/${env.teamId}-${id}/${encodeURIComponent(name)}`;
  const f: FakeFile = { id, name, title: title ?? name, mimetype, size: bytes.length, url_private: url, url_private_download: `${url}?download=1`, permalink: `https://fake.slack.test/files/${id}`, bytes };
  env.state.files.set(id, f);
  return f;
}

const wire = (m: FakeMessage) => ({
  ...m,
  type: 'message',
  files: m.files?.map(({ bytes: _bytes, ...rest }) => rest),
});
