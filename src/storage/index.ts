/** The storage layer's public surface. Code outside src/storage imports from here only. */
export { openStorage, migrateDatabase } from './open-storage.js';
export type { Storage, StorageOptions } from './open-storage.js';
export type { ReadModel } from './read-model.js';
export { restoreDatabase } from './backup.js';
export type { BackupResult } from './backup.js';
export type { MigrateResult } from './migrate.js';
export { LATEST_VERSION } from './migrations/index.js';
export { StorageError, isStorageError, STORAGE_ERROR_CODES } from './storage-error.js';
export type { StorageErrorCode } from './storage-error.js';
export { STORAGE_LIMITS, checkPresetName } from './validation.js';
export type * from './types.js';
export type { NewPreset, PresetChanges } from './repos/presets-repo.js';
export type { Listing } from './repos/preset-listings.js';
export type { IdentityInput } from './repos/accounts-repo.js';
export type { NewHistoryEntry, FinishEdit } from './repos/history-repo.js';
export type { ServerSettings, SettingsChanges, EmojiAction } from './repos/server-settings-repo.js';
export type { Claim } from './repos/idempotency-repo.js';
export type { EngineJob, NewJob, JobKind, EngineJobState } from './repos/jobs-repo.js';
