/**
 * Download progress for a terminal: a bar with size, rate and ETA redrawn in place on a TTY; elsewhere
 * (logs, CI) one line per quarter, so a long download still shows it is moving.
 */
import type { CliOutput } from './cli-context.js';
import { formatBytes, type DownloadProgress } from '../models-install/download-file.js';

export function formatEta(s: number | null): string {
  if (s === null || !Number.isFinite(s)) return '--';
  if (s < 60) return `${Math.ceil(s)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}

export function progressLine(label: string, p: DownloadProgress, width = 24): string {
  const frac = p.total ? Math.min(1, p.received / p.total) : 0;
  const filled = Math.round(frac * width);
  const size = p.total ? `${formatBytes(p.received)} / ${formatBytes(p.total)}` : formatBytes(p.received);
  return `${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${size}  ${formatBytes(p.bytesPerSecond)}/s  ETA ${formatEta(p.etaSeconds)}`;
}

export function downloadProgress(out: CliOutput): { update(label: string, p: DownloadProgress): void; finish(label: string): void } {
  const quarters = new Map<string, number>();
  let drawn = 0;
  return {
    update(label, p) {
      if (out.isTTY) {
        const line = progressLine(label, p);
        out.write(`\r${line}${' '.repeat(Math.max(0, drawn - line.length))}`);
        drawn = line.length;
        return;
      }
      const q = p.total ? Math.floor((4 * p.received) / p.total) : 0;
      if (q > (quarters.get(label) ?? -1)) {
        quarters.set(label, q);
        out.write(progressLine(label, p) + '\n');
      }
    },
    finish() {
      if (out.isTTY && drawn) out.write('\n');
      drawn = 0;
    },
  };
}
