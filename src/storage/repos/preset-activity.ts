/**
 * Stars and uses. Each changes an event row and the counter on the preset in one transaction, so the
 * counters the listings sort by can never disagree with the rows they count.
 */
import type { Db } from '../open-database.js';
import { write } from '../transactions.js';

const DAY_MS = 86_400_000;
export const utcDay = (ms: number) => Math.floor(ms / DAY_MS);

/** Returns whether a star was added (false: this account had already starred it). */
export function addStar(db: Db, presetId: number, accountId: number, now: number): boolean {
  return write(db, 'star preset', () => {
    const added = db.prepare('INSERT OR IGNORE INTO preset_stars (preset_id, account_id, created_at) VALUES (?, ?, ?)').run(presetId, accountId, now);
    if (added.changes === 0) return false;
    db.prepare('UPDATE presets SET star_count = star_count + 1 WHERE id = ?').run(presetId);
    return true;
  });
}

export function removeStar(db: Db, presetId: number, accountId: number): boolean {
  return write(db, 'unstar preset', () => {
    const removed = db.prepare('DELETE FROM preset_stars WHERE preset_id = ? AND account_id = ?').run(presetId, accountId);
    if (removed.changes === 0) return false;
    db.prepare('UPDATE presets SET star_count = star_count - 1 WHERE id = ?').run(presetId);
    return true;
  });
}

export function addUse(db: Db, presetId: number, now: number): void {
  write(db, 'record preset use', () => {
    db.prepare('UPDATE presets SET use_count = use_count + 1 WHERE id = ?').run(presetId);
    db.prepare(
      'INSERT INTO preset_use_days (preset_id, day, uses) VALUES (?, ?, 1) ON CONFLICT (preset_id, day) DO UPDATE SET uses = uses + 1',
    ).run(presetId, utcDay(now));
  });
}
