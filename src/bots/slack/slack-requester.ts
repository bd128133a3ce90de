/**
 * Who is asking, in the core's terms. Slack's payloads name the team and user but not whether the user
 * is a workspace admin; that comes from users.info and is cached for five minutes, and is only looked
 * up where it matters (admin commands, deleting others' presets), so an edit costs no extra call.
 */
import type { Requester } from '../core/types.js';
import type { SlackBotContext } from './slack-context.js';

export interface SlackWho {
  readonly teamId: string;
  readonly channelId: string;
  readonly userId: string;
  readonly userName?: string | undefined;
}

const ADMIN_TTL_MS = 5 * 60_000;
const adminCache = new Map<string, { admin: boolean; name: string; at: number }>();

export function requesterOf(who: SlackWho, isServerAdmin = false): Requester {
  return {
    platform: 'slack',
    serverId: who.teamId,
    channelId: who.channelId,
    userId: who.userId,
    displayName: (who.userName ?? who.userId).slice(0, 100),
    isServerAdmin,
  };
}

/** The requester with the admin flag from users.info (is_admin, is_owner or is_primary_owner). */
export async function requesterWithAdmin(ctx: SlackBotContext, who: SlackWho): Promise<Requester> {
  const key = `${who.teamId}:${who.userId}`;
  const hit = adminCache.get(key);
  if (hit && Date.now() - hit.at < ADMIN_TTL_MS) return requesterOf({ ...who, userName: who.userName ?? hit.name }, hit.admin);
  let admin = false;
  let name = who.userName ?? who.userId;
  try {
    const res = await ctx.client.users.info({ user: who.userId });
    const u = res.user;
    admin = Boolean(u?.is_admin || u?.is_owner || u?.is_primary_owner);
    name = who.userName ?? u?.name ?? name;
  } catch {
    // Without users:read the person is treated as a member: the safe direction.
  }
  adminCache.set(key, { admin, name, at: Date.now() });
  return requesterOf({ ...who, userName: name }, admin);
}
