/** Online backup and restore round trip, through the storage API and through `asyrp db`. */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dbCommand } from '../../src/cli/commands/db.js';
import type { CliContext } from '../../src/cli/cli-context.js';
import type { AppConfig } from '../../src/config/load-config.js';
import { NO_SECRETS } from '../../src/config/secrets.js';
import { openStorage, restoreDatabase } from '../../src/storage/index.js';
import { makeCast, openTemp, outcome, tempDir } from './support/fixtures.js';

function snapshot(path: string) {
  const s = openStorage({ path });
  const cast = makeCast(s);
  const out = {
    presets: s.presets.listOwn(cast.owner).map((p) => [p.name, p.recipe, p.version, p.starCount]),
    history: s.history.listForAccount(cast.owner.accountId).map((e) => [e.id, e.recipe, e.parentId]),
    settings: s.serverSettings.get('discord', 'g1'),
    problems: s.integrityProblems(),
  };
  s.close();
  return out;
}

describe('backup and restore', () => {
  it('a backup taken while the database is open restores to exactly the backed-up state', async () => {
    const { storage, path, dir } = openTemp();
    const c = makeCast(storage);
    const p = storage.presets.create(c.owner, { name: 'keep', recipe: 'smile:0.6', modelId: 'm1', scope: 'public' });
    storage.presets.update(c.owner, p.id, { recipe: 'smile:0.7' });
    storage.presets.star(c.member, p.id);
    const root = storage.history.record({ accountId: c.owner.accountId, platform: 'discord', serverId: 'g1', channelId: 'c', inputHash: 'h', inputPath: 'in.png', recipe: 'keep', modelId: 'm1' });
    storage.history.record({ accountId: c.owner.accountId, platform: 'discord', serverId: 'g1', channelId: 'c', inputHash: 'h', inputPath: 'in.png', recipe: 'smile', modelId: 'm1', parentId: root.id });
    storage.serverSettings.setEmoji(c.admin, '😀', { presetId: p.id });
    storage.close();
    const before = snapshot(path);

    const reopened = openStorage({ path });
    const backupFile = join(dir, 'backups', 'asyrp-1.db');
    const result = await reopened.backup(backupFile);
    expect(result).toMatchObject({ path: backupFile, schemaVersion: reopened.schemaVersion() });
    expect(result.bytes).toBeGreaterThan(0);
    expect(existsSync(`${backupFile}.partial`)).toBe(false);
    expect(outcome(() => reopened.presets.create(c.owner, { name: 'after-backup', recipe: 'frown', modelId: 'm1' }))).toBe('ok');
    await expect(reopened.backup(backupFile)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    reopened.close();

    expect(snapshot(backupFile)).toEqual(before);
    restoreDatabase({ from: backupFile, to: path });
    expect(snapshot(path)).toEqual(before); // 'after-backup' is gone: the restored file is the backup
    expect(snapshot(path).problems).toEqual([]);
  });

  it('restore refuses a corrupt backup and leaves the live file alone', () => {
    const { storage, path, dir } = openTemp();
    makeCast(storage);
    storage.close();
    const before = snapshot(path);
    const bad = join(dir, 'bad.db');
    writeFileSync(bad, Buffer.alloc(4096, 1));
    expect(outcome(() => restoreDatabase({ from: bad, to: path }))).toBe('CORRUPT');
    expect(outcome(() => restoreDatabase({ from: join(dir, 'missing.db'), to: path }))).toBe('NOT_FOUND');
    expect(snapshot(path)).toEqual(before);
  });
});

describe('asyrp db', () => {
  const context = (path: string, cwd: string) => {
    const out: string[] = [];
    const err: string[] = [];
    const ctx: CliContext = {
      config: { storage: { path, busyTimeoutMs: 2000 } } as unknown as AppConfig,
      secrets: NO_SECRETS,
      out: { write: (t) => void out.push(t), isTTY: false },
      err: { write: (t) => void err.push(t), isTTY: false },
      cwd,
    };
    return { ctx, out, err };
  };

  it('migrate, backup, check and restore, with readable results and exit codes', async () => {
    const dir = tempDir();
    const path = join(dir, 'data', 'asyrp.db');
    const run = async (...args: string[]) => {
      const c = context(path, dir);
      const code = await dbCommand(args, c.ctx);
      return { code, out: c.out.join(''), err: c.err.join('') };
    };
    const first = await run('migrate');
    expect(first.code).toBe(0);
    expect(first.out).toMatch(/migrated from version 0 to \d+/);
    expect((await run('migrate')).out).toMatch(/nothing to do/);
    const backup = await run('backup', 'copy.db');
    expect(backup).toMatchObject({ code: 0, err: '' });
    expect(backup.out).toContain(join(dir, 'copy.db'));
    const again = await run('backup', 'copy.db');
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/^asyrp db backup: .*already exists/);
    expect((await run('backup', 'copy.db', '--force')).code).toBe(0);
    expect(await run('check')).toMatchObject({ code: 0 });
    expect((await run('restore', 'copy.db')).code).toBe(1);
    expect(await run('restore', 'copy.db', '--force')).toMatchObject({ code: 0, err: '' });
    await expect(run('backup')).rejects.toThrow(/give the file/);
    await expect(run('vacuum')).rejects.toThrow(/unknown command "vacuum"; use migrate, backup, restore or check/);
  });
});
