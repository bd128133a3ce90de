/** `/asyrp history` in words: the person's last edits, newest first, with links the adapter builds. */
import type { HistoryEntry } from '../../storage/index.js';

const ICON: Record<HistoryEntry['status'], string> = { queued: '⏳', running: '🔄', done: '✅', failed: '❌', cancelled: '🛑' };

export function historyText(entries: readonly HistoryEntry[], format: { link: (e: HistoryEntry) => string | null; when: (ms: number) => string }): string {
  if (entries.length === 0) return 'No edits yet. Try `/asyrp edit recipe:smile` on an image.';
  return entries
    .map((e) => {
      const when = format.when(e.queuedAt);
      const url = format.link(e);
      return `${ICON[e.status]} \`${e.recipe}\` ${when}${e.parentId ? ' (follow-up)' : ''}${url ? ` · ${url}` : ''}`;
    })
    .join('\n');
}
