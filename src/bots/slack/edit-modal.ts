/**
 * The "Edit with Asyrp" message shortcut: a modal with a direction-or-preset select, a strength and an
 * optional extra recipe (options such as `steps=20`, or more directions). The modal remembers only
 * which message it is about (private_metadata); on submit that message is read back from Slack, so a
 * forged metadata value cannot point the bot at a file the person could not see.
 */
import type { AllMiddlewareArgs, MessageShortcut, SlackShortcutMiddlewareArgs, SlackViewMiddlewareArgs, types } from '@slack/bolt';
import { actorFor, knownActor } from '../core/actors.js';
import { toFriendlyError } from '../core/friendly-errors.js';
import { typedRecipe } from '../core/resolve-recipe.js';
import { errorMrkdwn } from './mrkdwn.js';
import { performSlackEdit } from './edit-flow.js';
import { foundIn, imageAt } from './find-image.js';
import type { SlackMessage } from './slack-files.js';
import { downloadSlackFile } from './slack-files.js';
import type { SlackBotContext } from './slack-context.js';
import { requesterOf } from './slack-requester.js';

export const SHORTCUT_ID = 'asyrp_edit';
export const EDIT_VIEW_ID = 'asyrp_edit_modal';

interface Meta {
  readonly c: string;
  readonly ts: string;
  readonly th?: string;
}

export async function handleShortcut(ctx: SlackBotContext, { shortcut, ack, client }: SlackShortcutMiddlewareArgs<MessageShortcut> & AllMiddlewareArgs): Promise<void> {
  await ack();
  const message = shortcut.message as unknown as SlackMessage & { ts: string };
  if (!foundIn(message)) {
    await client.chat.postEphemeral({ channel: shortcut.channel.id, user: shortcut.user.id, text: 'That message has no image I can edit (PNG, JPEG, WebP or GIF).' });
    return;
  }
  const actor = actorFor(ctx.storage, requesterOf({ teamId: shortcut.team?.id ?? '', channelId: shortcut.channel.id, userId: shortcut.user.id, userName: shortcut.user.name }));
  const meta: Meta = { c: shortcut.channel.id, ts: message.ts, ...(message.thread_ts ? { th: message.thread_ts } : {}) };
  await client.views.open({ trigger_id: shortcut.trigger_id, view: editView(ctx, actor, JSON.stringify(meta)) });
}

function editView(ctx: SlackBotContext, actor: ReturnType<typeof actorFor>, privateMetadata: string): types.View {
  const option = (text: string, value: string) => ({ text: { type: 'plain_text' as const, text: text.slice(0, 75) }, value });
  const directions = ctx.catalog.directionNames.map((d) => option(d, `d:${d}`));
  const presets = ctx.storage.presets.listOwn(actor, { limit: 50 }).map((p) => option(`${p.name} (${p.recipe})`, `p:${p.name}`));
  return {
    type: 'modal',
    callback_id: EDIT_VIEW_ID,
    private_metadata: privateMetadata,
    title: { type: 'plain_text', text: 'Edit with Asyrp' },
    submit: { type: 'plain_text', text: 'Edit' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      {
        type: 'input',
        block_id: 'what',
        label: { type: 'plain_text', text: 'Direction or preset' },
        element: {
          type: 'static_select',
          action_id: 'value',
          option_groups: [{ label: { type: 'plain_text', text: 'Directions' }, options: directions }, ...(presets.length ? [{ label: { type: 'plain_text' as const, text: 'Your presets' }, options: presets }] : [])],
        },
      },
      {
        type: 'input',
        block_id: 'strength',
        label: { type: 'plain_text', text: 'Strength (-3 to 3)' },
        element: { type: 'plain_text_input', action_id: 'value', initial_value: '0.8' },
      },
      {
        type: 'input',
        block_id: 'extra',
        optional: true,
        label: { type: 'plain_text', text: 'More (directions or options, e.g. `steps=20`)' },
        element: { type: 'plain_text_input', action_id: 'value' },
      },
    ],
  };
}

type ViewArgs = SlackViewMiddlewareArgs & AllMiddlewareArgs;
type Values = Record<string, Record<string, { value?: string | null; selected_option?: { value: string } | null }>>;

export async function handleEditSubmit(ctx: SlackBotContext, { view, body, ack, client }: ViewArgs): Promise<void> {
  const values = view.state.values as unknown as Values;
  const chosen = values.what?.value?.selected_option?.value ?? '';
  const strengthText = (values.strength?.value?.value ?? '').trim();
  const strength = Number(strengthText);
  if (!strengthText || !Number.isFinite(strength) || Math.abs(strength) > 3) {
    await ack({ response_action: 'errors', errors: { strength: 'A number from -3 to 3.' } });
    return;
  }
  let meta: Meta;
  try {
    meta = JSON.parse(view.private_metadata) as Meta;
  } catch {
    await ack({ response_action: 'errors', errors: { what: 'This form is out of date; open it again.' } });
    return;
  }
  const extra = (values.extra?.value?.value ?? '').trim();
  const recipe = `${chosen.slice(2)}:${strength}${extra ? ` ${extra}` : ''}`;
  const user = body.user.id;
  const requester = requesterOf({ teamId: body.team?.id ?? '', channelId: meta.c, userId: user, userName: body.user.name });
  const key = `slack:view:${view.id}`;
  try {
    // The grammar only, in memory: shown under the field in the still-open modal.
    typedRecipe(recipe, ctx.catalog.directionNames);
  } catch (e) {
    await ack({ response_action: 'errors', errors: { [extra ? 'extra' : 'what']: toFriendlyError(e).text.slice(0, 150) } });
    return;
  }
  if (!ctx.dedupe.admit(key)) {
    await ack(); // a double submit: the first one runs
    return;
  }
  await ack(); // closes the modal; presets, limits and the account are read after it
  ctx.dedupe.persist(key);
  let prepared;
  try {
    prepared = ctx.edits.prepare(knownActor(ctx.edits.model, requester), recipe);
    ctx.edits.admit(requester);
  } catch (e) {
    await client.chat.postEphemeral({ channel: meta.c, user, ...(meta.th ? { thread_ts: meta.th } : {}), text: `❌ ${errorMrkdwn(toFriendlyError(e).text)}` });
    return;
  }
  const actor = actorFor(ctx.storage, requester);
  const found = await imageAt(ctx, meta.c, meta.ts, meta.th);
  if (!found) {
    await client.chat.postEphemeral({ channel: meta.c, user, text: 'I could not find that image any more (was it deleted?).' });
    return;
  }
  await performSlackEdit(ctx, {
    requester,
    actor,
    recipe: prepared.engineText,
    caption: prepared.displayText,
    presetId: prepared.preset?.id ?? null,
    idempotencyKey: key,
    input: async () => ctx.edits.images.saveInput(await downloadSlackFile(found.file, { botToken: ctx.botToken, fileHosts: ctx.edits.allowedHosts, limits: ctx.edits.deps.limits })),
    where: { channel: meta.c, sourceTs: found.message.ts, threadTs: found.threadTs },
  });
}

