/**
 * The message context-menu command "Edit with Asyrp": works on any message with an image, with no
 * privileged intent (Discord sends the target message). It answers with a private picker: a select of
 * directions and presets, then strength buttons. The picker's state (which image) is kept in memory
 * and, after the reply, in the database under the command's interaction id, which the controls carry
 * (so a picker still works after a restart). Every step acknowledges before it touches the disk: the
 * person's presets come from storage's read model, and a picker's state stored by an earlier process is
 * read after the step's update (the picker is private, so a refusal then is private too).
 */
import { ActionRowBuilder, ButtonBuilder, ButtonStyle, MessageFlags, StringSelectMenuBuilder } from 'discord.js';
import type { ButtonInteraction, MessageContextMenuCommandInteraction, StringSelectMenuInteraction } from 'discord.js';
import { actorFor, knownActor } from '../core/actors.js';
import { checkAttachment } from '../core/image-fetch.js';
import type { AttachmentMeta } from '../core/image-fetch.js';
import { presetSuggestions } from '../core/preset-actions.js';
import { UserFacingError } from '../core/user-facing-error.js';
import type { DiscordBotContext } from './bot-context.js';
import { pickSelectId, pickStrengthId } from './custom-ids.js';
import { performEdit } from './edit-flow.js';
import { imageIn, metaOf } from './find-image.js';
import { requesterOf } from './requester.js';
import { interactionStatus } from './status-surface.js';

interface PickState {
  readonly channelId: string;
  readonly messageId: string;
  readonly image: AttachmentMeta;
}

const PICK_TTL_MS = 24 * 3_600_000;
const STRENGTHS = [0.5, 1, 1.5, 2, -1];
const pickKey = (pickId: string) => `discord:pick:${pickId}`;

/** Pickers opened by this process; the database holds them for the next one. Entries live a day. */
const openPicks = new Map<string, { state: PickState; expiresAt: number }>();

function loadPick(ctx: DiscordBotContext, pickId: string): PickState {
  const held = openPicks.get(pickId);
  if (held && held.expiresAt > Date.now()) return held.state;
  const stored = ctx.storage.idempotency.peek(pickKey(pickId)); // a read: callers run this after their ack
  if (!stored) throw new UserFacingError('not-found', 'This picker has expired; right-click the image again.');
  return JSON.parse(stored) as PickState;
}

function rememberPick(ctx: DiscordBotContext, pickId: string, state: PickState): void {
  const now = Date.now();
  for (const [id, p] of openPicks) if (p.expiresAt <= now) openPicks.delete(id);
  openPicks.set(pickId, { state, expiresAt: now + PICK_TTL_MS });
}

function persistPick(ctx: DiscordBotContext, pickId: string, state: PickState): void {
  ctx.storage.idempotency.claim(pickKey(pickId), PICK_TTL_MS);
  ctx.storage.idempotency.setResult(pickKey(pickId), JSON.stringify(state));
}

export async function handleContextMenu(ctx: DiscordBotContext, i: MessageContextMenuCommandInteraction): Promise<void> {
  const attachment = imageIn(i.targetMessage.attachments);
  if (!attachment) throw new UserFacingError('input', 'That message has no image I can edit.');
  checkAttachment(metaOf(attachment), ctx.edits.deps.limits, ctx.edits.allowedHosts);
  const state: PickState = { channelId: i.targetMessage.channelId, messageId: i.targetMessage.id, image: metaOf(attachment) };
  rememberPick(ctx, i.id, state);
  const actor = knownActor(ctx.edits.model, requesterOf(i));
  const options = [
    ...ctx.catalog.current.directions.map((d) => ({ label: d.name, description: (d.description || 'direction').slice(0, 100), value: d.name })),
    ...presetSuggestions(ctx.edits.model, actor, '', 10).map((p) => ({ label: `preset ${p.ref}`.slice(0, 100), description: p.label.slice(0, 100), value: p.ref.slice(0, 100) })),
  ].slice(0, 25);
  const select = new StringSelectMenuBuilder().setCustomId(pickSelectId(i.id)).setPlaceholder('Pick an edit').addOptions(options);
  await i.reply({ content: 'What should I do to this image?', components: [new ActionRowBuilder<StringSelectMenuBuilder>().addComponents(select)], flags: MessageFlags.Ephemeral });
  persistPick(ctx, i.id, state);
}

export async function handlePickSelect(ctx: DiscordBotContext, i: StringSelectMenuInteraction, pickId: string): Promise<void> {
  const term = i.values[0] ?? '';
  const buttons = STRENGTHS.map((s) =>
    new ButtonBuilder().setCustomId(pickStrengthId(pickId, term, s)).setLabel(s > 0 ? `${s}×` : `opposite`).setStyle(s === 1 ? ButtonStyle.Primary : ButtonStyle.Secondary),
  );
  await i.update({ content: `How strong should **${term}** be?`, components: [new ActionRowBuilder<ButtonBuilder>().addComponents(buttons)] });
  // After the ack: a picker from before a restart is found in the database (an expired one says so in its place).
  loadPick(ctx, pickId);
}

export async function handlePickStrength(ctx: DiscordBotContext, i: ButtonInteraction, id: { pickId: string; term: string; strength: number }): Promise<void> {
  const requester = requesterOf(i);
  const isDirection = ctx.catalog.directionNames.includes(id.term);
  const strength = isDirection ? id.strength * ctx.catalog.defaultStrength(id.term) : id.strength;
  const prepared = ctx.edits.prepare(knownActor(ctx.edits.model, requester), `${id.term}:${Number(strength.toPrecision(6))}`);
  ctx.edits.admit(requester);
  await i.update({ content: '⏳ Queued', components: [] });
  const state = loadPick(ctx, id.pickId);
  const actor = actorFor(ctx.storage, requester);
  await performEdit(ctx, {
    requester,
    actor,
    recipe: prepared.engineText,
    caption: `**${prepared.displayText}**`,
    presetId: prepared.preset?.id ?? null,
    idempotencyKey: `discord:i:${i.id}`,
    input: () => ctx.edits.fetchInput(state.image),
    anchor: { channelId: state.channelId, messageId: async () => state.messageId },
    status: interactionStatus(i),
  });
}
