/** The file system says no: read-only files, full disks, corrupt files. Each must be a typed StorageError. */
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import process from 'node:process';
import { describe, expect, it } from 'vitest';
import { openStorage } from '../../src/storage/index.js';
import { openDatabase } from '../../src/storage/open-database.js';
import { makeCast, openTemp, outcome, tempDir } from './support/fixtures.js';
import { startChild } from './support/run-child.js';

describe('file system failures', () => {
  it('a database file without write permission reads fine and refuses writes with READ_ONLY', async () => {
    const dir = tempDir();
    const path = join(dir, 'ro.db');
    const s = openStorage({ path });
    makeCast(s);
    s.close();
    chmodSync(path, 0o444);
    // Root ignores permission bits through its DAC capabilities, so under root the writer runs without
    // them (setpriv, util-linux): still uid 0, so it can read a checkout that only root may enter, but
    // the OS refuses the write for real. The folder stays writable so SQLite can make its -shm file.
    chmodSync(dir, 0o777);
    const withoutOverride = process.getuid?.() === 0 ? ['setpriv', '--bounding-set', '-dac_override,-dac_read_search,-fowner', '--inh-caps', '-all', '--'] : [];
    const child = startChild(['try-write', path], withoutOverride);
    expect(await child.exited).toBe(0);
    expect(child.lines()).toEqual([{ read: 'ok', write: 'READ_ONLY' }]);
  });

  it('a database opened read-only refuses writes with READ_ONLY', () => {
    const path = join(tempDir(), 'ro2.db');
    openStorage({ path }).close();
    const ro = openStorage({ path, readonly: true });
    expect(outcome(() => ro.presets.list({ accountId: 1, platform: 'discord', serverId: 'g1', isServerAdmin: false }, 'top'))).toBe('ok');
    expect(outcome(() => ro.accounts.ensureIdentity({ platform: 'discord', serverId: 'g1', userId: 'u', displayName: 'u' }))).toBe('READ_ONLY');
    ro.close();
  });

  it('a full disk gives DISK_FULL, keeps what was written, and recovers when space returns', () => {
    // A real full disk needs a tiny mounted file system (root and mount rights). SQLite's max_page_count
    // cap produces the same SQLITE_FULL from the same code path (the pager refusing to grow the file),
    // which is what the mapping and the rollback depend on.
    const { storage, path } = openTemp();
    const cast = makeCast(storage);
    storage.close();
    const probe = openDatabase({ path });
    const pages = probe.pragma('page_count', { simple: true }) as number;
    probe.close();
    const capped = openStorage({ path, maxPageCount: pages + 4 });
    let made = 0;
    let code = 'ok';
    while (code === 'ok' && made < 100) {
      code = outcome(() => capped.presets.create(cast.member, { name: `p${made}`, recipe: 'smile', modelId: 'm1', description: 'd'.repeat(200) }));
      if (code === 'ok') made++;
    }
    expect(code).toBe('DISK_FULL');
    expect(made).toBeGreaterThan(0);
    expect(capped.presets.listOwn(cast.member)).toHaveLength(made);
    // History writes hit the same wall (a few may still fit in partly filled pages).
    const record = () => capped.history.record({ accountId: cast.member.accountId, platform: 'discord', serverId: 'g1', channelId: 'c', inputHash: 'h'.repeat(200), inputPath: 'p'.repeat(1000), recipe: 'smile', modelId: 'm1' });
    let historyCode = 'ok';
    for (let i = 0; i < 50 && historyCode === 'ok'; i++) historyCode = outcome(record);
    expect(historyCode).toBe('DISK_FULL');
    expect(capped.integrityProblems()).toEqual([]);
    capped.close();
    const roomy = openStorage({ path });
    expect(outcome(() => roomy.presets.create(cast.member, { name: 'after', recipe: 'smile', modelId: 'm1' }))).toBe('ok');
    roomy.close();
  });

  it('a file that is not a database gives CORRUPT', () => {
    const path = join(tempDir(), 'junk.db');
    writeFileSync(path, Buffer.alloc(8192, 0x5a));
    expect(outcome(() => openStorage({ path }))).toBe('CORRUPT');
  });

  it('a folder where the file should be gives CANT_OPEN', () => {
    const dir = tempDir();
    expect(outcome(() => openStorage({ path: dir }))).toBe('CANT_OPEN');
  });
});
