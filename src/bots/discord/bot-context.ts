/** What every Discord handler receives: the client, the platform-neutral core and storage. */
import type { Client } from 'discord.js';
import type { DedupeLedger } from '../core/dedupe-ledger.js';
import type { EditService } from '../core/edit-service.js';
import type { ModelCatalog } from '../core/model-catalog.js';
import type { BotLogger } from '../core/types.js';
import type { Storage } from '../../storage/index.js';

export interface DiscordBotContext {
  readonly client: Client;
  readonly edits: EditService;
  readonly catalog: ModelCatalog;
  readonly storage: Storage;
  readonly log: BotLogger;
  /** Whether the privileged MESSAGE_CONTENT intent was granted (needed to see images in others' messages). */
  readonly messageContent: boolean;
  /** Minimum time between status edits (1.5 s; tests may lower it). */
  readonly statusIntervalMs: number;
  /** Duplicate deliveries, decided in memory before the ack (interaction ids, reaction keys). */
  readonly dedupe: DedupeLedger;
  /**
   * Shutdown state: once closing, new work is refused politely; aborting handover makes every running
   * edit stop following its job and leave it on the pending list for the next start.
   */
  readonly lifecycle: { closing: boolean; readonly inFlight: Set<Promise<unknown>>; readonly handover: AbortController };
}
