/**
 * The bots' SIGTERM budget (docs/bots.md, "Shutdown and restart"): up to DRAIN_MS for edits that are
 * about to finish, then every edit still running is handed over to the pending list (the engine keeps
 * the job; the next start posts it) within HANDOVER_MS, and the process exits. If anything hangs past
 * EXIT_MS the process exits anyway: what was handed over is already on disk, so nothing is lost.
 */
import type { BotLogger } from './types.js';

export const SHUTDOWN_DRAIN_MS = 5_000;
export const SHUTDOWN_HANDOVER_MS = 10_000;
export const SHUTDOWN_EXIT_MS = 30_000;

/** Starts the last-resort exit timer (unref'd: it never keeps a finished process alive). */
export function exitWatchdog(log: BotLogger, exit: (code: number) => void, ms = SHUTDOWN_EXIT_MS): NodeJS.Timeout {
  const timer = setTimeout(() => {
    log.error(`shutdown took more than ${Math.round(ms / 1000)} s; exiting now (running edits are on the pending list)`);
    exit(1);
  }, ms);
  timer.unref();
  return timer;
}
