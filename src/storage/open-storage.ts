/**
 * The composition root of the storage layer: opens the file, migrates it, and builds the repositories
 * on one connection. The app calls this once (with config.storage) and passes the result down; tests
 * call it on a temp file.
 */
import type { MigrateResult } from './migrate.js';
import { migrate, schemaVersion } from './migrate.js';
import { LATEST_VERSION } from './migrations/index.js';
import type { OpenDatabaseOptions } from './open-database.js';
import { openDatabase } from './open-database.js';
import { AccountsRepo } from './repos/accounts-repo.js';
import { HistoryRepo } from './repos/history-repo.js';
import { IdempotencyRepo } from './repos/idempotency-repo.js';
import { JobsRepo } from './repos/jobs-repo.js';
import { PresetsRepo } from './repos/presets-repo.js';
import { ServerSettingsRepo } from './repos/server-settings-repo.js';
import type { BackupResult } from './backup.js';
import { backupDatabase, integrityProblems } from './backup.js';
import { asStorageError, StorageError } from './storage-error.js';
import type { ReadModelSlot } from './read-model.js';
import { ReadModel } from './read-model.js';
import type { Clock } from './transactions.js';
import { systemClock } from './transactions.js';

export interface StorageOptions extends OpenDatabaseOptions {
  /** Run pending migrations at open (default true; read-only opens never migrate). */
  readonly migrate?: boolean;
  /** Where timestamps come from; tests pass a fake clock. */
  readonly clock?: Clock;
}

export interface Storage {
  readonly path: string;
  readonly accounts: AccountsRepo;
  readonly presets: PresetsRepo;
  readonly history: HistoryRepo;
  readonly serverSettings: ServerSettingsRepo;
  readonly idempotency: IdempotencyRepo;
  readonly jobs: JobsRepo;
  /**
   * The in-memory copy of accounts, presets and server settings that the bots decide from before an
   * acknowledgement (./read-model.ts). Read from the database on the first call (a bot calls it at
   * start), then kept current by this storage's own writes.
   */
  readModel(): ReadModel;
  /** What the open-time migration did. */
  readonly migration: MigrateResult | undefined;
  schemaVersion(): number;
  /** SQLite's integrity and foreign-key checks; empty when sound. */
  integrityProblems(): string[];
  backup(file: string, options?: { overwrite?: boolean }): Promise<BackupResult>;
  close(): void;
}

export function openStorage(options: StorageOptions): Storage {
  const db = openDatabase(options);
  try {
    const migration = options.migrate === false || options.readonly ? undefined : migrate(db);
    const version = schemaVersion(db);
    if (version !== LATEST_VERSION) {
      throw new StorageError('INVALID_STATE', `The database is at schema version ${version}, not ${LATEST_VERSION}; run \`asyrp db migrate\`.`, {
        version,
        latest: LATEST_VERSION,
      });
    }
    const clock = options.clock ?? systemClock;
    const model: ReadModelSlot = { current: null };
    const serverSettings = new ServerSettingsRepo(db, clock, model);
    return {
      path: options.path,
      accounts: new AccountsRepo(db, clock, model),
      presets: new PresetsRepo(db, clock, model),
      history: new HistoryRepo(db, clock),
      serverSettings,
      readModel: () => (model.current ??= new ReadModel(db, serverSettings)),
      idempotency: new IdempotencyRepo(db, clock),
      jobs: new JobsRepo(db, clock),
      migration,
      schemaVersion: () => schemaVersion(db),
      integrityProblems: () => integrityProblems(db),
      backup: (file, o) => backupDatabase(db, file, o),
      close: () => {
        if (!db.open) return;
        // Lets SQLite refresh its planner statistics for the tables that changed a lot (cheap; the
        // documented place to do it for short-lived connections is right before closing).
        if (!options.readonly) {
          try {
            db.pragma('optimize');
          } catch {
            // Statistics are an optimisation; a full or read-only disk must not turn close into an error.
          }
        }
        db.close();
      },
    };
  } catch (e) {
    db.close();
    throw asStorageError(e, `open storage ${options.path}`);
  }
}

/** Opens the file and migrates it, without building repositories: `asyrp db migrate`. */
export function migrateDatabase(options: OpenDatabaseOptions): MigrateResult {
  const db = openDatabase(options);
  try {
    return migrate(db);
  } finally {
    db.close();
  }
}
