/**
 * The long-running commands (engine, bots, start) stop on SIGTERM or SIGINT. Listening replaces Node's default
 * handling, which ends the process at once: call stopRequested() before starting what must be stopped in order.
 */
import type { BotLogger } from '../bots/core/types.js';
import { exitWatchdog, SHUTDOWN_DRAIN_MS, SHUTDOWN_HANDOVER_MS } from '../bots/core/shutdown.js';

/** Resolves with the signal when the process is asked to stop. */
export function stopRequested(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
}

/** Runs a started bot until the process is asked to stop, then stops it within the bots' shutdown budget (bots/core/shutdown.ts). */
export async function runBotUntilStopped(bot: { stop(options: { drainMs: number; handoverMs: number }): Promise<void> }, log: BotLogger): Promise<void> {
  await stopRequested();
  log.info('stopping: no new edits; running ones finish or are handed over to the next start');
  const watchdog = exitWatchdog(log, (code) => process.exit(code));
  await bot.stop({ drainMs: SHUTDOWN_DRAIN_MS, handoverMs: SHUTDOWN_HANDOVER_MS });
  clearTimeout(watchdog);
}
