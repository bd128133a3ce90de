/**
 * Who may see and change a preset. Pure functions, so the rules read in one place and the repository
 * applies them to every call:
 * - the owner sees and changes their presets, from any platform their account is linked to;
 * - private presets are invisible to everyone else (admins included);
 * - server presets are visible to members of that server on that platform;
 * - public presets are visible to everyone on this instance, on Discord and Slack alike;
 * - only the owner edits; the owner deletes, and so may an admin of the server a server preset belongs to.
 */
import type { Actor, Preset } from '../types.js';

type PresetPlace = Pick<Preset, 'ownerId' | 'scope' | 'platform' | 'serverId'>;

const inServerOf = (actor: Actor, p: PresetPlace) => actor.platform === p.platform && actor.serverId === p.serverId;

export function canView(actor: Actor, p: PresetPlace): boolean {
  if (p.ownerId === actor.accountId) return true;
  if (p.scope === 'public') return true;
  return p.scope === 'server' && inServerOf(actor, p);
}

export function canEdit(actor: Actor, p: PresetPlace): boolean {
  return p.ownerId === actor.accountId;
}

export function canDelete(actor: Actor, p: PresetPlace): boolean {
  return canEdit(actor, p) || (p.scope === 'server' && actor.isServerAdmin && inServerOf(actor, p));
}

/** The same visibility rule as canView, for WHERE clauses (parameters @accountId, @platform, @serverId). */
export const VISIBLE_SQL = `(p.owner_id = @accountId OR p.scope = 'public'
  OR (p.scope = 'server' AND p.platform = @platform AND p.server_id = @serverId))`;

export const actorParams = (actor: Actor) => ({ accountId: actor.accountId, platform: actor.platform, serverId: actor.serverId });
