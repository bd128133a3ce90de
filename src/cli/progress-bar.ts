/** A one-line terminal progress bar, drawn only on a TTY and only once an edit has run for a second. */
import type { CliOutput } from './cli-context.js';
import type { EditProgress } from '../engine/pipeline/run-edit.js';

export function progressBar(out: CliOutput, delayMs = 1000): { update(p: EditProgress): void; finish(): void } {
  const started = performance.now();
  let drawn = false;
  return {
    update(p) {
      if (!out.isTTY || performance.now() - started < delayMs) return;
      const width = 30;
      const filled = Math.round((p.done / Math.max(1, p.total)) * width);
      out.write(`\r[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(p.done).padStart(3)}/${p.total} ${p.phase.padEnd(10)}`);
      drawn = true;
    },
    finish() {
      if (drawn) out.write('\r' + ' '.repeat(60) + '\r');
    },
  };
}
