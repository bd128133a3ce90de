/** What every Slack handler receives: the Web API client, the platform-neutral core and storage. */
import type { webApi } from '@slack/bolt';
import type { AckFirst } from '../core/ack-first.js';
import type { DedupeLedger } from '../core/dedupe-ledger.js';
import type { EditService } from '../core/edit-service.js';
import type { ModelCatalog } from '../core/model-catalog.js';
import type { BotLogger } from '../core/types.js';
import type { Storage } from '../../storage/index.js';

export interface SlackBotContext {
  /** The bot-token client (also the one Bolt hands to listeners). */
  readonly client: webApi.WebClient;
  /** Sent only to the allow-listed file hosts, to download private files. */
  readonly botToken: string;
  readonly botUserId: string;
  readonly edits: EditService;
  /** Duplicate deliveries (event ids, trigger ids, reaction keys), decided in memory before the ack. */
  readonly dedupe: DedupeLedger;
  /** Requests awaiting their HTTP answer: work after an ack waits until none is (register-listeners). */
  readonly intake: AckFirst;
  readonly catalog: ModelCatalog;
  readonly storage: Storage;
  readonly log: BotLogger;
  /** How far back `/asyrp` looks for the person's latest image. */
  readonly recentImageWindowMs: number;
  /** Minimum time between status message updates (2 s; tests may lower it). */
  readonly statusIntervalMs: number;
  /**
   * Shutdown state: the listener runs in flight (stop waits for them), and the signal that hands every
   * running edit over to the pending list for the next start.
   */
  readonly lifecycle: { closing: boolean; readonly inFlight: Set<Promise<unknown>>; readonly handover: AbortController };
}
