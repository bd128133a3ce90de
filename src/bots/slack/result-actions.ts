/**
 * The result buttons. Everything they need is in the database, found by the edit id in the action_id,
 * so they work after a restart; the person pressing is re-checked on every press (Slack's payload says
 * who pressed; the button's own value is never trusted):
 *   weaker / stronger / sweep - a child edit of the same input (parent = this edit);
 *   undo - the parent edit's result again, with its own buttons;
 *   save - a modal asking for a preset name and scope; delete - the edit's owner only.
 */
import type { AllMiddlewareArgs, BlockAction, SlackActionMiddlewareArgs, SlackViewMiddlewareArgs } from '@slack/bolt';
import type { PresetScope } from '../../storage/index.js';
import { checkPresetName } from '../../storage/index.js';
import { actorFor } from '../core/actors.js';
import { describeForLog, toFriendlyError } from '../core/friendly-errors.js';
import { performSlackEdit } from './edit-flow.js';
import { errorMrkdwn, escapeMrkdwn, mention } from './mrkdwn.js';
import { parseResultAction, SAVE_VIEW_PATTERN, saveViewId } from './result-blocks.js';
import type { SlackBotContext } from './slack-context.js';
import { requesterOf } from './slack-requester.js';
import { uploadResult } from './upload-result.js';

const PRESET_SCOPES: readonly PresetScope[] = ['private', 'server', 'public'];

const CAPTION = { weaker: 'Weaker', stronger: 'Stronger', sweep: 'Strength sweep' } as const;

type ActionArgs = SlackActionMiddlewareArgs<BlockAction> & AllMiddlewareArgs;

export async function handleResultAction(ctx: SlackBotContext, { action, body, ack, client }: ActionArgs): Promise<void> {
  await ack();
  const parsed = 'action_id' in action ? parseResultAction(action.action_id) : undefined;
  const channel = body.channel?.id ?? body.container?.channel_id;
  const messageTs: string | undefined = body.message?.ts ?? body.container?.message_ts;
  if (!parsed || !channel || !messageTs) return;
  const user = body.user.id;
  const threadTs: string = (body.message?.thread_ts as string | undefined) ?? body.container?.thread_ts ?? messageTs;
  const tell = (text: string) => client.chat.postEphemeral({ channel, user, thread_ts: threadTs, text });
  const requester = requesterOf({ teamId: body.team?.id ?? body.user.team_id ?? '', channelId: channel, userId: user, userName: body.user.name });
  if (!ctx.dedupe.admitAcked(`slack:action:${body.trigger_id}`)) return;
  const actor = actorFor(ctx.storage, requester);
  try {
    const { action: what, editId } = parsed;
    if (what === 'save') {
      ctx.edits.edit(actor, editId); // visible to this person?
      await client.views.open({ trigger_id: body.trigger_id, view: saveView(editId, { c: channel, th: threadTs }) });
      return;
    }
    if (what === 'delete') {
      const edit = ctx.edits.edit(actor, editId);
      if (edit.accountId !== actor.accountId) {
        await tell('Only the person who made this edit can delete it.');
        return;
      }
      await client.chat.delete({ channel, ts: messageTs });
      // The message is gone; its files would stay reachable by permalink, so they go too.
      const files = ((body.message as { files?: { id?: string }[] } | undefined)?.files ?? []).map((f) => f.id).filter((id): id is string => Boolean(id));
      for (const file of files) await client.files.delete({ file }).catch(() => undefined);
      return;
    }
    if (what === 'undo') {
      const target = ctx.edits.undoTarget(actor, editId);
      if (!target) {
        await tell('This is the first edit of this image; the original is at the top of the thread.');
        return;
      }
      await uploadResult(ctx, {
        editId: target.entry.id,
        channel,
        threadTs,
        captionMrkdwn: `↩️ Back to \`${escapeMrkdwn(target.entry.recipe)}\` for ${mention(user)}`,
        after: target.image,
        compare: null,
        original: target.original,
      });
      return;
    }
    const job = ctx.edits.followUpJob(actor, editId, what);
    ctx.edits.admit(requester);
    await performSlackEdit(ctx, {
      requester,
      actor,
      recipe: job.recipe,
      caption: `${CAPTION[what]}: ${job.recipe}`,
      parentId: job.parentId ?? null,
      kind: job.kind ?? 'edit',
      ...(job.modelId ? { modelId: job.modelId } : {}),
      idempotencyKey: `slack:action:${body.trigger_id}`,
      input: async () => job.input,
      where: { channel, sourceTs: null, threadTs },
    });
  } catch (e) {
    await tell(`❌ ${errorMrkdwn(toFriendlyError(e).text)}`).catch(() => undefined);
  }
}

function saveView(editId: number, place: { c: string; th: string }) {
  return {
    type: 'modal' as const,
    callback_id: saveViewId(editId),
    private_metadata: JSON.stringify(place),
    title: { type: 'plain_text' as const, text: 'Save as preset' },
    submit: { type: 'plain_text' as const, text: 'Save' },
    blocks: [
      { type: 'input' as const, block_id: 'name', label: { type: 'plain_text' as const, text: 'Preset name (a-z, 0-9, - and _)' }, element: { type: 'plain_text_input' as const, action_id: 'value', max_length: 32 } },
      {
        type: 'input' as const,
        block_id: 'scope',
        label: { type: 'plain_text' as const, text: 'Who can use it' },
        element: {
          type: 'static_select' as const,
          action_id: 'value',
          initial_option: { text: { type: 'plain_text' as const, text: 'private' }, value: 'private' },
          options: PRESET_SCOPES.map((s) => ({ text: { type: 'plain_text' as const, text: s }, value: s })),
        },
      },
    ],
  };
}

type Values = Record<string, Record<string, { value?: string | null; selected_option?: { value: string } | null }>>;

/**
 * The save modal's submission. What can be checked in memory (the name's form) is answered in the modal
 * itself; the modal is then closed (the ack) before the database is read or written, and a refusal
 * that needs the database (a name already taken, an edit not visible) comes as a private message in
 * the result's thread, named in the modal's private_metadata.
 */
export async function handleSaveSubmit(ctx: SlackBotContext, { view, body, ack, client }: SlackViewMiddlewareArgs & AllMiddlewareArgs): Promise<void> {
  const editId = Number(SAVE_VIEW_PATTERN.exec(view.callback_id)?.[1]);
  const values = view.state.values as unknown as Values;
  const name = (values.name?.value?.value ?? '').trim();
  const scope = (values.scope?.value?.selected_option?.value ?? 'private') as PresetScope;
  try {
    checkPresetName(name);
  } catch (e) {
    await ack({ response_action: 'errors', errors: { name: toFriendlyError(e).text.slice(0, 150) } });
    return;
  }
  await ack();
  const where = saveViewPlace(view.private_metadata);
  const user = body.user.id;
  const actor = actorFor(ctx.storage, requesterOf({ teamId: body.team?.id ?? '', channelId: where?.c ?? '', userId: user, userName: body.user.name }));
  let text: string;
  let place = where;
  try {
    const edit = ctx.edits.edit(actor, editId);
    place = { c: edit.channelId, ...(edit.threadId ? { th: edit.threadId } : {}) };
    const preset = ctx.storage.presets.create(actor, { name, recipe: edit.recipe, modelId: edit.modelId, scope: PRESET_SCOPES.includes(scope) ? scope : 'private' });
    text = `💾 Saved *${escapeMrkdwn(preset.name)}* (${preset.scope}): \`${escapeMrkdwn(preset.recipe)}\`. Use it with \`/asyrp preset use ${escapeMrkdwn(preset.name)}\`.`;
  } catch (e) {
    text = `❌ Not saved: ${errorMrkdwn(toFriendlyError(e).text)}`;
  }
  if (!place) {
    ctx.log.warn('a preset save has no channel to answer in');
    return;
  }
  await client.chat
    .postEphemeral({ channel: place.c, user, ...(place.th ? { thread_ts: place.th } : {}), text })
    .catch((e: unknown) => ctx.log.warn(`could not answer a preset save: ${describeForLog(e)}`));
}

/** Where the save button was pressed ({c, th}), as saveView stored it; null for anything else. */
function saveViewPlace(metadata: string | undefined): { c: string; th?: string } | null {
  try {
    const m = JSON.parse(metadata ?? '') as { c?: unknown; th?: unknown };
    return typeof m.c === 'string' ? { c: m.c, ...(typeof m.th === 'string' ? { th: m.th } : {}) } : null;
  } catch {
    return null;
  }
}
