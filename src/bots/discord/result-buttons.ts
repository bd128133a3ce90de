/**
 * The buttons under a result. Everything they need is in the database, found by the edit id in the
 * custom_id, so they keep working after a restart:
 *   weaker / stronger / sweep - a child edit of the same input (parent = this edit);
 *   undo - the parent edit's result again, with its own buttons;
 *   save - a modal asking for a preset name; delete - the edit's owner only.
 * Ack first: before its acknowledgement a press touches no disk (the account and the limits come from
 * storage's read model); the edit is read, and the account, the history row and the preset written,
 * after it. Undo and delete acknowledge privately, so their refusals stay private.
 */
import { ActionRowBuilder, MessageFlags, ModalBuilder, TextInputBuilder, TextInputStyle } from 'discord.js';
import type { ButtonInteraction, ModalSubmitInteraction } from 'discord.js';
import { actorFor, knownActor } from '../core/actors.js';
import type { ResultAction } from './custom-ids.js';
import { saveModalId } from './custom-ids.js';
import type { DiscordBotContext } from './bot-context.js';
import { performEdit } from './edit-flow.js';
import { requesterOf } from './requester.js';
import { postResult } from './result-message.js';
import { interactionStatus } from './status-surface.js';
import type { EditService } from '../core/edit-service.js';
import { fenceIndented } from '../core/fence-indented.js';
import { toFriendlyError } from '../core/friendly-errors.js';

const CAPTION: Record<'weaker' | 'stronger' | 'sweep', string> = { weaker: 'Weaker', stronger: 'Stronger', sweep: 'Strength sweep' };

export async function handleResultButton(ctx: DiscordBotContext, i: ButtonInteraction, action: ResultAction, editId: number): Promise<void> {
  const requester = requesterOf(i);
  const actor = knownActor(ctx.edits.model, requester);
  if (action === 'save') return showSaveModal(i, editId);
  if (action === 'delete') {
    await i.deferReply({ flags: MessageFlags.Ephemeral });
    const edit = ctx.edits.edit(actor, editId);
    if (edit.accountId !== actor.accountId) {
      await i.editReply({ content: 'Only the person who made this edit can delete it.' });
      return;
    }
    await i.message.delete();
    await i.editReply({ content: '🗑️ Deleted.' });
    return;
  }
  if (action === 'undo') {
    // The edit and its parent's images are read after a private acknowledgement; the result itself is posted publicly.
    await i.deferReply({ flags: MessageFlags.Ephemeral });
    if (ctx.edits.edit(actor, editId).parentId === null) {
      await i.editReply({ content: 'This is the first edit of this image; the original is above.' });
      return;
    }
    const target = ctx.edits.undoTarget(actor, editId);
    if (!target) {
      await i.editReply({ content: 'The edit before this one has no result to go back to.' });
      return;
    }
    // Threads the client has not cached arrive without a channel object.
    const channel = i.channel ?? (await ctx.client.channels.fetch(i.channelId));
    if (!channel?.isSendable()) throw new Error('button channel is not sendable');
    const posted = await postResult(channel, {
      editId: target.entry.id,
      caption: `↩️ Back to **${target.entry.recipe}** for <@${i.user.id}>`,
      after: target.image,
      compare: null,
      original: target.original,
    });
    ctx.storage.history.setMessage(target.entry.id, posted.id);
    await i.editReply({ content: `✅ Undone: ${posted.url}` });
    return;
  }
  ctx.edits.admit(requester);
  await i.deferReply();
  const status = interactionStatus(i);
  let job: ReturnType<EditService['followUpJob']>;
  try {
    // The stored edit is read after the ack. A button sits under a finished edit of this server, so a
    // refusal here is rare (the edit's record is gone); it is still told privately.
    job = ctx.edits.followUpJob(actor, editId, action);
  } catch (e) {
    if (!(await status.finishPrivately?.(`❌ ${fenceIndented(toFriendlyError(e).text)}`.slice(0, 2000)))) throw e;
    return;
  }
  await performEdit(ctx, {
    requester,
    actor: actorFor(ctx.storage, requester),
    recipe: job.recipe,
    caption: `${CAPTION[action]}: **${job.recipe}**`,
    parentId: job.parentId ?? null,
    kind: job.kind ?? 'edit',
    modelId: job.modelId,
    idempotencyKey: `discord:i:${i.id}`,
    input: async () => job.input,
    anchor: { channelId: i.channelId, messageId: async () => i.message.id },
    status,
  });
}

/** The modal is the acknowledgement, so nothing is read first: the submission checks the edit (handleSaveModal). */
async function showSaveModal(i: ButtonInteraction, editId: number): Promise<void> {
  const name = new TextInputBuilder().setCustomId('name').setLabel('Preset name (a-z, 0-9, - and _)').setStyle(TextInputStyle.Short).setMaxLength(32).setRequired(true);
  const scope = new TextInputBuilder().setCustomId('scope').setLabel('Who can use it: private, server or public').setStyle(TextInputStyle.Short).setRequired(false).setValue('private');
  await i.showModal(
    new ModalBuilder()
      .setCustomId(saveModalId(editId))
      .setTitle('Save as preset')
      .addComponents(new ActionRowBuilder<TextInputBuilder>().addComponents(name), new ActionRowBuilder<TextInputBuilder>().addComponents(scope)),
  );
}

export async function handleSaveModal(ctx: DiscordBotContext, i: ModalSubmitInteraction, editId: number): Promise<void> {
  // Saving writes: acknowledge (privately) first; the answer, or the refusal, edits that reply.
  await i.deferReply({ flags: MessageFlags.Ephemeral });
  const actor = actorFor(ctx.storage, requesterOf(i));
  const edit = ctx.edits.edit(actor, editId);
  const scope = (i.fields.getTextInputValue('scope') || 'private').trim().toLowerCase();
  const preset = ctx.storage.presets.create(actor, {
    name: i.fields.getTextInputValue('name').trim(),
    recipe: edit.recipe,
    modelId: edit.modelId,
    scope: scope as 'private',
  });
  await i.editReply({ content: `💾 Saved **${preset.name}** (${preset.scope}): \`${preset.recipe}\`. Use it with \`/asyrp preset use name:${preset.name}\`.` });
}
