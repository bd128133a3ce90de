/**
 * Posts a result with files.uploadV2 (files.upload was sunset in 2025): the edited image and the
 * before/after go into the image's thread (thread_ts is always the thread's parent), in one message
 * whose blocks carry the caption and the buttons.
 */
import type { SlackBotContext } from './slack-context.js';
import { resultBlocks } from './result-blocks.js';
import { escapeMrkdwn } from './mrkdwn.js';
import { enlargedNote, pngSize } from '../core/display-note.js';

export interface ResultUpload {
  readonly editId: number;
  readonly channel: string;
  readonly threadTs: string;
  readonly captionMrkdwn: string;
  readonly after: Uint8Array;
  readonly compare: Uint8Array | null;
  /** The model-resolution result when `after` is enlarged for display: uploaded beside it. */
  readonly original?: Uint8Array | null;
  /** The input is clearly outside the model's domain: one line under the caption (plain text, escaped here). */
  readonly note?: string | null;
  readonly sweep?: boolean;
}

export async function uploadResult(ctx: SlackBotContext, r: ResultUpload): Promise<{ fileId: string | null; permalink: string | null }> {
  const files = [
    { file: Buffer.from(r.after), filename: `asyrp-${r.editId}${r.sweep ? '-sweep' : ''}.png`, title: r.sweep ? 'Strength sweep' : 'Edited', alt_text: 'The edited image' },
    ...(r.compare ? [{ file: Buffer.from(r.compare), filename: `asyrp-${r.editId}-before-after.png`, title: 'Before | after', alt_text: 'The original and the edit side by side' }] : []),
    ...(r.original ? [{ file: Buffer.from(r.original), filename: `asyrp-${r.editId}-original.png`, title: "The model's own pixels", alt_text: 'The edit at the model resolution, not enlarged' }] : []),
  ];
  const size = r.original ? pngSize(r.original) : null;
  const caption = [r.captionMrkdwn, ...(r.note ? [`:warning: ${escapeMrkdwn(r.note)}`] : []), ...(r.original ? [`_${enlargedNote(size)}_`] : [])].join('\n');
  const res = await ctx.client.files.uploadV2({
    channel_id: r.channel,
    thread_ts: r.threadTs,
    blocks: resultBlocks(r.editId, caption),
    file_uploads: files,
  });
  // uploadV2 resolves to { files: [ completeUploadExternal results ] }, each with its own files list.
  const completed = (res as unknown as { files?: { files?: { id?: string; permalink?: string }[] }[] }).files ?? [];
  const first = completed.flatMap((c) => c.files ?? [])[0];
  return { fileId: first?.id ?? null, permalink: first?.permalink ?? null };
}
