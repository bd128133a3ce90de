/**
 * Platform-neutral shapes the bot core works with. The Discord and Slack adapters translate their
 * events into these and render the results back; nothing here knows which platform it runs on.
 */
import type { EngineClient } from '../../engine/client/engine-client.js';
import type { Logger } from '../../log/logger.js';
import type { Platform, Storage } from '../../storage/index.js';

/** Who asked, and where: what the adapter learned from the platform event. */
export interface Requester {
  readonly platform: Platform;
  readonly serverId: string;
  readonly channelId: string;
  readonly userId: string;
  readonly displayName: string;
  /** Discord "Manage Server", Slack workspace admin. */
  readonly isServerAdmin: boolean;
}

/** The engine calls the bots make; the real EngineClient satisfies it, tests may pass a stand-in. */
export type EngineApi = Pick<EngineClient, 'submit' | 'wait' | 'result' | 'models' | 'status' | 'cancel'>;

/**
 * Lines for operators: the app's structured logger (src/log), which redacts known secrets, but pass no
 * raw platform errors with URLs here unredacted. Handlers log through a child that carries the
 * interaction's id.
 */
export type BotLogger = Logger;

export interface CoreLimits {
  /** Largest input download, in bytes. */
  readonly maxInputBytes: number;
  /** Largest input width x height. */
  readonly maxInputPixels: number;
}

/** What the core needs, built once by the composition root and passed down. */
export interface CoreDeps {
  readonly storage: Storage;
  readonly engine: EngineApi;
  /** Where inputs and results are kept (buttons re-run from them after a restart). */
  readonly dataDir: string;
  readonly limits: CoreLimits;
  readonly log: BotLogger;
  /** Milliseconds; tests pass a fake clock. */
  readonly now?: () => number;
  /** Results smaller than this (long side, px) are posted enlarged with the original attached; 0 = off. Default 512. */
  readonly displaySize?: number;
}

/** Where a result belongs on the platform (thread and message ids as the platform knows them). */
export interface EditLocation {
  readonly channelId: string;
  readonly threadId?: string | null;
  readonly messageId?: string | null;
}
