/**
 * Tests with real OS processes on one database file: two writers at once, and a writer killed with
 * SIGKILL mid-write. The children run the real storage code (test/storage/support/storage-child.ts).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/storage/open-database.js';
import { openStorage } from '../../src/storage/index.js';
import { startChild, until } from './support/run-child.js';
import { tempDir } from './support/fixtures.js';

describe('several processes on one file', () => {
  it('2 x 500 concurrent inserts give 1000 rows and no caller sees SQLITE_BUSY', async () => {
    // The file does not exist yet: both children also race to create and migrate it.
    const path = join(tempDir(), 'shared.db');
    const a = startChild(['history', path, '500']);
    const b = startChild(['history', path, '500']);
    await until(() => a.lines().some((l) => l.ready) && b.lines().some((l) => l.ready));
    a.proc.send('go');
    b.proc.send('go');
    expect(await a.exited).toBe(0);
    expect(await b.exited).toBe(0);
    const reports = [...a.lines(), ...b.lines()].filter((l) => 'done' in l);
    expect(reports).toEqual([
      { done: 500, errors: [] },
      { done: 500, errors: [] },
    ]);
    const storage = openStorage({ path });
    const db = openDatabase({ path });
    expect(db.prepare('SELECT COUNT(*) FROM history').pluck().get()).toBe(1000);
    expect(db.prepare('SELECT COUNT(*) FROM schema_version').pluck().get()).toBe(storage.schemaVersion()); // each migration applied once
    db.close();
    expect(storage.integrityProblems()).toEqual([]);
    storage.close();
  });

  it('SIGKILL in the middle of writes leaves a consistent database with every committed preset', async () => {
    const path = join(tempDir(), 'killed.db');
    openStorage({ path }).close();
    const w = startChild(['presets-forever', path]);
    const committed = () => Math.max(0, ...w.lines().map((l) => (l.committed as number | undefined) ?? 0));
    await until(() => committed() >= 150, 60_000);
    w.proc.kill('SIGKILL');
    await w.exited;
    const lastReported = committed();

    const storage = openStorage({ path });
    expect(storage.integrityProblems()).toEqual([]);
    storage.close();
    const db = openDatabase({ path });
    const count = db.prepare('SELECT COUNT(*) FROM presets').pluck().get() as number;
    // Everything reported as committed survived (plus at most the one step in flight at the kill).
    expect(count).toBeGreaterThanOrEqual(lastReported);
    expect(count).toBeLessThanOrEqual(lastReported + 1);
    // No half-written preset: each has every version row up to its version, and counters match their rows.
    const broken = db
      .prepare(
        `SELECT p.id FROM presets p
         WHERE (SELECT COUNT(*) FROM preset_versions v WHERE v.preset_id = p.id) <> p.version
            OR NOT EXISTS (SELECT 1 FROM preset_versions v WHERE v.preset_id = p.id AND v.version = p.version AND v.recipe = p.recipe)
            OR p.star_count <> (SELECT COUNT(*) FROM preset_stars s WHERE s.preset_id = p.id)
            OR p.use_count <> (SELECT COALESCE(SUM(uses), 0) FROM preset_use_days u WHERE u.preset_id = p.id)`,
      )
      .all();
    expect(broken).toEqual([]);
    db.close();
  });
});
