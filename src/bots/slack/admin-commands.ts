/**
 * `/asyrp admin emoji|limits|channels|reactions`, for workspace admins and owners (users.info). Slack
 * has no per-command permissions, so this check (and storage's own) is the only gate.
 */
import { parseRecipe } from '../../engine/recipe/parse-recipe.js';
import { actorFor } from '../core/actors.js';
import type { Requester } from '../core/types.js';
import { UserFacingError } from '../core/user-facing-error.js';
import { emojiKeyFromText } from './slack-emoji.js';
import { escapeMrkdwn } from './mrkdwn.js';
import type { SlackBotContext } from './slack-context.js';

const limitOf = (v: string | undefined): number | null => {
  if (v === undefined || /^(none|off|-)$/i.test(v)) return null;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new UserFacingError('input', 'Limits are whole numbers of edits per hour, or `none`.');
  return n;
};

export function adminCommand(ctx: SlackBotContext, requester: Requester, sub: string, args: string[]): string {
  if (!requester.isServerAdmin) throw new UserFacingError('forbidden', 'Only workspace admins and owners can change the bot settings.');
  const actor = actorFor(ctx.storage, requester);
  const settings = ctx.storage.serverSettings;
  switch (sub) {
    case 'emoji': {
      if (!args[0]) throw new UserFacingError('input', 'Usage: `/asyrp admin emoji :smile: <recipe>` (no recipe removes the mapping).');
      const emoji = emojiKeyFromText(args[0]);
      const recipe = args.slice(1).join(' ');
      if (!recipe) return settings.removeEmoji(actor, emoji) ? `Removed the mapping for ${escapeMrkdwn(emoji)}.` : `${escapeMrkdwn(emoji)} was not mapped.`;
      // Check the directions now, so a typo does not wait for the first reaction to show up.
      parseRecipe(recipe, { directions: ctx.catalog.directionNames, allowPresets: true });
      const saved = settings.setEmoji(actor, emoji, { recipe });
      return `${escapeMrkdwn(emoji)} now runs \`${escapeMrkdwn(saved.recipe ?? '')}\`.`;
    }
    case 'limits': {
      const s = settings.update(actor, { userEditsPerHour: limitOf(args[0]), serverEditsPerHour: limitOf(args[1]) });
      const show = (n: number | null) => (n === null ? 'no limit' : `${n} per hour`);
      return `Limits: each person ${show(s.userEditsPerHour)}; the workspace ${show(s.serverEditsPerHour)}.`;
    }
    case 'channels': {
      const raw = args.join(' ').trim();
      const all = raw.toLowerCase() === 'all';
      // Channel ids (C…/G…), `<#C123|name>` when the command escapes channels, or `here`.
      const here = /\bhere\b/i.test(raw) ? [requester.channelId] : [];
      const ids = all ? [] : [...here, ...[...raw.matchAll(/<#([CG][A-Z0-9]+)(?:\|[^>]*)?>|\b([CG][A-Z0-9]{6,})\b/g)].map((m) => (m[1] ?? m[2])!)];
      if (!all && ids.length === 0) throw new UserFacingError('input', 'Name channels by id (channel details → bottom), say `here` for this one, or `all`.');
      settings.setAllowedChannels(actor, ids);
      return ids.length ? `Edits are allowed in ${ids.map((c) => `<#${c}>`).join(', ')}.` : 'Edits are allowed in every channel.';
    }
    case 'reactions': {
      const on = /^(on|true|yes|enable)/i.test(args[0] ?? '');
      const s = settings.update(actor, { reactionsEnabled: on });
      return s.reactionsEnabled ? 'Emoji reactions are on.' : 'Emoji reactions are off.';
    }
    default:
      return 'Admin commands: `emoji :smile: <recipe>`, `limits <per-user|none> <per-workspace|none>`, `channels here|<ids>|all`, `reactions on|off`.';
  }
}
