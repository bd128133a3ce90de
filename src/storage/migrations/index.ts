/**
 * The registry of schema migrations, in order. Registered explicitly (not discovered on disk) so the
 * compiled bundle and the tests see exactly the same list. Append; never edit or renumber a released one.
 */
import { migration001 } from './001-accounts.js';
import { migration002 } from './002-presets.js';
import { migration003 } from './003-history.js';
import { migration004 } from './004-server-settings.js';
import { migration005 } from './005-jobs.js';
import { migration006 } from './006-preset-search.js';
import { migration007 } from './007-job-request.js';
import type { Migration } from './migration.js';

export type { Migration } from './migration.js';

export const MIGRATIONS: readonly Migration[] = [migration001, migration002, migration003, migration004, migration005, migration006, migration007];

export const LATEST_VERSION = MIGRATIONS.length;
