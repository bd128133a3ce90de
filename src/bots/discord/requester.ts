/** Discord events -> the core's Requester (who, where, and whether they manage the server). */
import { PermissionFlagsBits } from 'discord.js';
import type { Interaction, User } from 'discord.js';
import type { Requester } from '../core/types.js';

/** Direct messages have no server; they share one pseudo-server id so settings and limits still apply. */
export const DM_SERVER = 'dm';

export function requesterOf(i: Interaction): Requester {
  return {
    platform: 'discord',
    serverId: i.guildId ?? DM_SERVER,
    channelId: i.channelId ?? 'unknown',
    userId: i.user.id,
    displayName: i.user.username,
    // The interaction payload's permissions already include channel overwrites.
    isServerAdmin: i.memberPermissions?.has(PermissionFlagsBits.ManageGuild) ?? false,
  };
}

export function requesterOfUser(user: User, where: { guildId: string | null; channelId: string }): Requester {
  return { platform: 'discord', serverId: where.guildId ?? DM_SERVER, channelId: where.channelId, userId: user.id, displayName: user.username, isServerAdmin: false };
}
