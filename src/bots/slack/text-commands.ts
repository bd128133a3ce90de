/**
 * The `/asyrp` words that are not edits: help, history, link, preset ..., admin .... Each returns the
 * private (ephemeral) mrkdwn answer; the slash command acks first and sends it through response_url
 * (everything here reads or writes storage, which never runs before an ack). Presets, history and
 * settings go through the same core and storage calls as on Discord.
 */
import { modelDomainLines } from '../core/model-domains.js';
import type { PresetScope } from '../../storage/index.js';
import { actorFor } from '../core/actors.js';
import { defaultEmojiMap } from '../core/default-emoji.js';
import { historyText } from '../core/history-text.js';
import { deletePreset, describePreset, forkPreset, listPresetsText, savePreset, sharePreset, starPreset } from '../core/preset-actions.js';
import { UserFacingError } from '../core/user-facing-error.js';
import type { CommandRoute } from './command-text.js';
import { adminCommand } from './admin-commands.js';
import { fromMarkdown } from './mrkdwn.js';
import type { SlackBotContext } from './slack-context.js';
import type { SlackWho } from './slack-requester.js';
import { requesterOf, requesterWithAdmin } from './slack-requester.js';

const PRESET_SCOPES: readonly PresetScope[] = ['private', 'server', 'public'];

export async function textCommand(ctx: SlackBotContext, who: SlackWho, route: Exclude<CommandRoute, { kind: 'edit' }>): Promise<string> {
  switch (route.kind) {
    case 'help':
      return helpText(ctx, who.teamId);
    case 'history':
      return historyOf(ctx, who);
    case 'link':
      return linkText(ctx, who, route.code);
    case 'preset':
      return presetCommand(ctx, who, route.sub, route.args);
    case 'admin':
      return adminCommand(ctx, await requesterWithAdmin(ctx, who), route.sub, route.args);
  }
}

function helpText(ctx: SlackBotContext, teamId: string): string {
  const model = ctx.catalog.current;
  const names = model.directions.map((d) => d.name);
  const settings = ctx.storage.serverSettings.get('slack', teamId);
  const emoji = settings.emoji.length ? settings.emoji.map((e) => `${e.emoji} \`${e.recipe ?? `preset ${e.presetId}`}\``) : [...defaultEmojiMap(names)].map(([e, d]) => `${e} \`${d}\``);
  return fromMarkdown(
    [
      `**Asyrp** edits faces in your images (model: ${model.title}).`,
      `• \`/asyrp <direction> strength:0.8\` edits your latest image in this channel. Directions: ${names.map((n) => `\`${n}\``).join(', ') || '(none)'}.`,
      '• `/asyrp smile:0.8 glasses:0.5` mixes directions; presets work too (`vintage`, `@alice/vintage`).',
      '• On any message with an image: ⋮ → *Edit with Asyrp*; or mention me with a recipe in its thread.',
      `• React to an image: ${emoji.join(' ') || '(no emoji mapped)'}${settings.reactionsEnabled ? '' : ' (reactions are off here)'}.`,
      '• Results come in the thread with buttons: weaker, stronger, sweep, undo, save as preset, delete.',
      '• `/asyrp preset save|use|list|info|share|star|delete|fork`, `/asyrp history`, `/asyrp link` (join your Discord account).',
      ...modelDomainLines(ctx.catalog.all),
      'Strengths go from -3 to 3; negative means the opposite direction.',
    ].join('\n'),
  );
}

function historyOf(ctx: SlackBotContext, who: SlackWho): string {
  const actor = actorFor(ctx.storage, requesterOf(who));
  const entries = ctx.storage.history.listForAccount(actor.accountId, { limit: 10 });
  return fromMarkdown(historyText(entries, { when: (ms) => new Date(ms).toISOString().slice(0, 16).replace('T', ' ') + ' UTC', link: () => null }));
}

function linkText(ctx: SlackBotContext, who: SlackWho, code: string | null): string {
  const actor = actorFor(ctx.storage, requesterOf(who));
  if (!code) {
    const issued = ctx.storage.accounts.issueLinkCode({ accountId: actor.accountId, platform: 'slack' });
    return `🔗 Your link code is \`${issued.code}\` (valid for ${Math.round((issued.expiresAt - Date.now()) / 60_000)} min). Redeem it on Discord to join your accounts; your presets and history come along.`;
  }
  const account = ctx.storage.accounts.redeemLinkCode(code.trim(), { accountId: actor.accountId, platform: 'slack' });
  return fromMarkdown(`🔗 Linked: you are **@${account.handle}** on ${account.identities.map((i) => i.platform).join(' and ')}.`);
}

const scopeOf = (v: string | undefined): PresetScope => {
  const s = (v ?? 'private').toLowerCase() as PresetScope;
  if (!PRESET_SCOPES.includes(s)) throw new UserFacingError('input', 'A scope is private, server or public.');
  return s;
};

async function presetCommand(ctx: SlackBotContext, who: SlackWho, sub: string, args: string[]): Promise<string> {
  const { storage } = ctx;
  const need = (i: number, what: string) => {
    const v = args[i];
    if (!v) throw new UserFacingError('input', `Say which ${what}: \`/asyrp preset ${sub} <${what}>\`.`);
    return v;
  };
  // Deleting someone else's preset is a workspace admin's right: only then is users.info asked.
  const actor = actorFor(storage, sub === 'delete' ? await requesterWithAdmin(ctx, who) : requesterOf(who));
  let text: string;
  switch (sub) {
    case 'save': {
      const scopeArg = args.find((a) => /^scope[:=]/i.test(a));
      const rest = args.filter((a) => a !== scopeArg);
      const name = need(0, 'name');
      if (rest.length < 2) throw new UserFacingError('input', 'Usage: `/asyrp preset save <name> <recipe> [scope:private|server|public]`.');
      text = savePreset(storage, actor, {
        name,
        recipe: rest.slice(1).join(' '),
        modelId: ctx.catalog.current.id,
        directions: ctx.catalog.directionNames,
        scope: scopeOf(scopeArg?.split(/[:=]/)[1]),
      });
      break;
    }
    case 'list': {
      const which = (args[0] ?? 'mine').toLowerCase();
      if (!['mine', 'top', 'new', 'trending'].includes(which)) throw new UserFacingError('input', 'List `mine`, `top`, `new` or `trending`.');
      text = listPresetsText(storage, actor, which as 'mine');
      break;
    }
    case 'info':
      text = describePreset(storage.presets.resolve(actor, need(0, 'name')));
      break;
    case 'share':
      text = sharePreset(storage, actor, need(0, 'name'), scopeOf(need(1, 'scope')));
      break;
    case 'star':
      text = starPreset(storage, actor, need(0, 'name'));
      break;
    case 'delete':
      text = deletePreset(storage, actor, need(0, 'name'));
      break;
    case 'fork':
      text = forkPreset(storage, actor, need(0, 'name'), args[1]);
      break;
    default:
      text = 'Preset commands: `save <name> <recipe> [scope:public]`, `use <name> [strength]`, `list [mine|top|new|trending]`, `info|star|delete <name>`, `share <name> <scope>`, `fork <name> [new-name]`.';
  }
  return fromMarkdown(text).slice(0, 3000);
}
