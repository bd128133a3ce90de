/**
 * A second (or third) process using the storage layer, for the tests that need real OS processes:
 * concurrent writers, a writer killed with SIGKILL, and a user without write permission.
 * Run as `node --import ./test/storage/support/register-ts.mjs storage-child.ts <mode> <db> [n]`.
 * It reports on stdout, one JSON object per line.
 */
import process from 'node:process';
import { isStorageError, openStorage } from '../../../src/storage/index.js';

const [mode, path, nText] = process.argv.slice(2);
const n = Number(nText ?? 0);
const say = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);

async function main(): Promise<void> {
  if (!path) throw new Error('usage: storage-child <mode> <db> [n]');
  const storage = openStorage({ path, busyTimeoutMs: 5000 });
  const identity = () => storage.accounts.ensureIdentity({ platform: 'discord', serverId: 'g1', userId: `pid-${process.pid}`, displayName: `writer ${process.pid}` });

  if (mode === 'history') {
    const me = identity();
    // Wait for the parent's "go" so both writers start together and really contend for the lock.
    say({ ready: true });
    await new Promise<void>((resolve) => process.once('message', () => resolve()));
    const errors: string[] = [];
    for (let i = 0; i < n; i++) {
      try {
        storage.history.record({ accountId: me.accountId, platform: 'discord', serverId: 'g1', channelId: 'c1', inputHash: `h${i}`, inputPath: `in/${i}.png`, recipe: 'smile:0.5', modelId: 'm1' });
      } catch (e) {
        errors.push(isStorageError(e) ? e.code : String(e));
      }
    }
    say({ done: n, errors });
    storage.close();
    process.disconnect?.();
    return;
  }

  if (mode === 'presets-forever') {
    // Each step is one multi-row transaction (preset + its first version row), then a star and a use.
    // The parent kills this process at an arbitrary moment; nothing may be half written.
    let account = identity().accountId;
    for (let i = 0; ; i++) {
      if (i % 90 === 0 && i > 0) account = storage.accounts.ensureIdentity({ platform: 'discord', serverId: 'g1', userId: `pid-${process.pid}-${i}`, displayName: 'w' }).accountId;
      const actor = { accountId: account, platform: 'discord' as const, serverId: 'g1', isServerAdmin: false };
      const p = storage.presets.create(actor, { name: `p${i}`, recipe: 'smile:0.5 age:-0.2', modelId: 'm1', scope: 'public', description: 'x'.repeat(150) });
      storage.presets.update(actor, p.id, { recipe: `smile:0.${(i % 9) + 1}` });
      storage.presets.star(actor, p.id);
      storage.presets.recordUse(actor, p.id);
      say({ committed: i + 1 });
    }
  }

  if (mode === 'try-write') {
    const attempt = (fn: () => unknown) => {
      try {
        fn();
        return 'ok';
      } catch (e) {
        return isStorageError(e) ? e.code : String(e);
      }
    };
    const actor = { accountId: 1, platform: 'discord' as const, serverId: 'g1', isServerAdmin: false };
    say({ read: attempt(() => storage.presets.list(actor, 'new')), write: attempt(identity) });
    storage.close();
  }
}

main().catch((e: unknown) => {
  say({ fatal: isStorageError(e) ? e.code : String(e), message: e instanceof Error ? e.message : String(e) });
  process.exitCode = 1;
});
