/** `/asyrp help`, `/asyrp history` and `/asyrp link`: private answers, built from the model and the database. */
import { modelDomainLines } from '../core/model-domains.js';
import type { ChatInputCommandInteraction } from 'discord.js';
import { actorFor } from '../core/actors.js';
import { defaultEmojiMap } from '../core/default-emoji.js';
import { historyText } from '../core/history-text.js';
import type { DiscordBotContext } from './bot-context.js';
import { answerPrivately } from './private-answer.js';
import { requesterOf } from './requester.js';

export async function handleHelp(ctx: DiscordBotContext, i: ChatInputCommandInteraction): Promise<void> {
  const model = ctx.catalog.current;
  const directions = model.directions.map((d) => `\`${d.name}\``).join(', ') || '(none)';
  const settings = i.guildId ? ctx.storage.serverSettings.get('discord', i.guildId) : null;
  const emoji = settings?.emoji.length
    ? settings.emoji.map((e) => `${e.emoji} \`${e.recipe ?? `preset ${e.presetId}`}\``)
    : [...defaultEmojiMap(model.directions.map((d) => d.name))].map(([e, d]) => `${e} \`${d}\``);
  const text = [
    `**Asyrp** edits faces in your images (model: ${model.title}).`,
    `• \`/asyrp <direction> strength:0.8 image:<upload>\`: one edit. Directions: ${directions}.`,
    '• `/asyrp edit recipe:smile:0.8 glasses:0.5`: mix directions, or use presets (`vintage`, `@alice/vintage`).',
    '• Right-click an image → **Apps → Edit with Asyrp** to pick an edit.',
    `• React to an image: ${emoji.join(' ') || '(no emoji mapped)'}${settings && !settings.reactionsEnabled ? ' (reactions are off here)' : ''}.`,
    '• Results come in a thread with buttons: weaker, stronger, sweep, undo, save as preset, delete.',
    '• `/asyrp preset ...` to save and share recipes; `/asyrp history` for your last edits.',
    ...modelDomainLines(ctx.catalog.all),
    'Strengths go from -3 to 3; negative means the opposite direction.',
  ].join('\n');
  await answerPrivately(i, { content: text.slice(0, 2000) });
}

export async function handleHistory(ctx: DiscordBotContext, i: ChatInputCommandInteraction): Promise<void> {
  const actor = actorFor(ctx.storage, requesterOf(i));
  const entries = ctx.storage.history.listForAccount(actor.accountId, { limit: 10 });
  const text = historyText(entries, {
    when: (ms) => `<t:${Math.floor(ms / 1000)}:R>`,
    link: (e) => (e.messageId && e.platform === 'discord' ? `https://discord.com/channels/${e.serverId === 'dm' ? '@me' : e.serverId}/${e.threadId ?? e.channelId}/${e.messageId}` : null),
  });
  await answerPrivately(i, { content: text.slice(0, 2000) });
}

/**
 * `/asyrp link` issues a one-time code to redeem on Slack; `/asyrp link code:<code>` redeems a code
 * issued on Slack. Either way the two identities become one account (presets and history together).
 */
export async function handleLink(ctx: DiscordBotContext, i: ChatInputCommandInteraction): Promise<void> {
  const actor = actorFor(ctx.storage, requesterOf(i));
  const code = i.options.getString('code')?.trim();
  let content: string;
  if (!code) {
    const issued = ctx.storage.accounts.issueLinkCode({ accountId: actor.accountId, platform: 'discord' });
    const minutes = Math.max(1, Math.round((issued.expiresAt - Date.now()) / 60_000));
    content = `🔗 Your link code is \`${issued.code}\` (valid for ${minutes} min). On Slack, type \`/asyrp link ${issued.code}\` to join your accounts; your presets and history come along.`;
  } else {
    const account = ctx.storage.accounts.redeemLinkCode(code, { accountId: actor.accountId, platform: 'discord' });
    content = `🔗 Linked: you are **@${account.handle}** on ${account.identities.map((x) => x.platform).join(' and ')}.`;
  }
  await answerPrivately(i, { content, allowedMentions: { parse: [] } });
}
