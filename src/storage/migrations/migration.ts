/** The shape of one numbered schema change. Migrations are registered in ./index.ts, in order. */
import type { Db } from '../open-database.js';

export interface Migration {
  /** 1, 2, 3, ...: contiguous, never reused, never edited once released. */
  readonly version: number;
  readonly name: string;
  /** Runs inside the migrator's transaction; must be synchronous and must not commit. */
  up(db: Db): void;
}
