/**
 * The Block Kit message that carries a result: a caption and the buttons weaker, stronger, sweep,
 * undo, save as preset, delete. Each action_id holds the edit (history) id; everything else is read
 * back from the database, so the buttons keep working after a restart.
 */
import type { types } from '@slack/bolt';

export type ResultAction = 'weaker' | 'stronger' | 'sweep' | 'undo' | 'save' | 'delete';
export const RESULT_ACTIONS: readonly ResultAction[] = ['weaker', 'stronger', 'sweep', 'undo', 'save', 'delete'];

const LABEL: Record<ResultAction, string> = {
  weaker: '➖ Weaker',
  stronger: '➕ Stronger',
  sweep: '📊 Sweep',
  undo: '↩️ Undo',
  save: '💾 Save as preset',
  delete: '🗑️ Delete',
};

export const resultActionId = (action: ResultAction, editId: number) => `asyrp:r:${action}:${editId}`;
export const RESULT_ACTION_PATTERN = /^asyrp:r:(weaker|stronger|sweep|undo|save|delete):(\d+)$/;
export const saveViewId = (editId: number) => `asyrp:save:${editId}`;
export const SAVE_VIEW_PATTERN = /^asyrp:save:(\d+)$/;

export function parseResultAction(actionId: string): { action: ResultAction; editId: number } | undefined {
  const m = RESULT_ACTION_PATTERN.exec(actionId);
  return m ? { action: m[1] as ResultAction, editId: Number(m[2]) } : undefined;
}

export function resultBlocks(editId: number, captionMrkdwn: string): types.KnownBlock[] {
  return [
    { type: 'section', text: { type: 'mrkdwn', text: captionMrkdwn.slice(0, 3000) } },
    {
      type: 'actions',
      block_id: `asyrp:result:${editId}`,
      elements: RESULT_ACTIONS.map((a) => ({
        type: 'button' as const,
        action_id: resultActionId(a, editId),
        text: { type: 'plain_text' as const, text: LABEL[a], emoji: true },
        value: String(editId),
        ...(a === 'delete' ? { style: 'danger' as const } : {}),
      })),
    },
  ];
}
