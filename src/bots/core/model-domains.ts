/**
 * `help` says what each installed model edits (its package's "domain"), so nobody expects the 32 px toy
 * model to edit a holiday photo; docs/models.md has the real ones.
 */
import type { ModelInfo } from '../../engine/client/api-types.js';

export function modelDomainLines(models: readonly ModelInfo[]): string[] {
  return models.map((m, i) => `• Model **${m.title}**${i === 0 ? ' (used here)' : ''}: edits ${m.domain ?? 'what it was trained on'}. Real-photo models: docs/models.md.`);
}
