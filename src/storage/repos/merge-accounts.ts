/**
 * Folds one account into another when a link code is redeemed: identities, presets, stars, history and
 * jobs move; the emptied account is deleted. Runs inside the caller's transaction, so a refusal part way
 * (a preset name both accounts use, too many presets together) changes nothing.
 */
import type { Db } from '../open-database.js';
import { StorageError } from '../storage-error.js';
import { STORAGE_LIMITS } from '../validation.js';

export function mergeAccounts(db: Db, from: number, into: number): void {
  const clashes = db
    .prepare('SELECT a.name FROM presets a JOIN presets b ON b.name = a.name AND b.owner_id = ? WHERE a.owner_id = ? ORDER BY a.name')
    .pluck()
    .all(into, from) as string[];
  if (clashes.length > 0) {
    throw new StorageError('NAME_TAKEN', `Both accounts have presets named ${clashes.join(', ')}; rename or delete one side first.`, {
      names: clashes,
    });
  }
  const total = db.prepare('SELECT COUNT(*) FROM presets WHERE owner_id IN (?, ?)').pluck().get(from, into) as number;
  if (total > STORAGE_LIMITS.presetsPerAccount) {
    throw new StorageError('TOO_MANY_PRESETS', `Together the accounts would have ${total} presets; the limit is ${STORAGE_LIMITS.presetsPerAccount}.`, {
      count: total,
    });
  }
  db.prepare('UPDATE identities SET account_id = ? WHERE account_id = ?').run(into, from);
  db.prepare('UPDATE presets SET owner_id = ? WHERE owner_id = ?').run(into, from);
  // A preset both accounts starred keeps one star; its counter is recomputed below.
  const starred = db.prepare('SELECT preset_id FROM preset_stars WHERE account_id = ?').pluck().all(from) as number[];
  db.prepare('INSERT OR IGNORE INTO preset_stars (preset_id, account_id, created_at) SELECT preset_id, ?, created_at FROM preset_stars WHERE account_id = ?').run(
    into,
    from,
  );
  db.prepare('DELETE FROM preset_stars WHERE account_id = ?').run(from);
  const recount = db.prepare('UPDATE presets SET star_count = (SELECT COUNT(*) FROM preset_stars WHERE preset_id = ?) WHERE id = ?');
  for (const id of starred) recount.run(id, id);
  db.prepare('UPDATE history SET account_id = ? WHERE account_id = ?').run(into, from);
  db.prepare('UPDATE engine_jobs SET owner_id = ? WHERE owner_id = ?').run(into, from);
  db.prepare('DELETE FROM accounts WHERE id = ?').run(from);
}
