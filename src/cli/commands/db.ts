/**
 * `asyrp db migrate | backup <file> | restore <file> --force | check`: database upkeep from the command
 * line. Storage failures become one readable line and exit code 1; usage mistakes are UsageErrors (2).
 */
import { resolve } from 'node:path';
import type { CliContext } from '../cli-context.js';
import { parseArgs, UsageError } from '../parse-args.js';
import { DB } from '../command-specs.js';
import { closestMatch } from '../closest-match.js';
import { isStorageError, LATEST_VERSION, migrateDatabase, openStorage, restoreDatabase } from '../../storage/index.js';


export async function dbCommand(args: string[], ctx: CliContext): Promise<number> {
  const { positionals, flags } = parseArgs(args, DB.flags);
  const [sub, file, ...extra] = positionals;
  const { path, busyTimeoutMs } = ctx.config.storage;
  const needsFile = sub === 'backup' || sub === 'restore';
  if (!sub) throw new UsageError('give a command: migrate, backup, restore or check');
  if (sub in DB.subcommands && (extra.length > 0 || needsFile !== (file !== undefined))) throw new UsageError(needsFile ? (file === undefined ? 'give the file' : 'too many arguments') : `${sub} takes no arguments`);
  try {
    switch (sub) {
      case 'migrate': {
        const r = migrateDatabase({ path, busyTimeoutMs });
        ctx.out.write(
          r.applied.length === 0
            ? `${path}: already at schema version ${r.to}; nothing to do.\n`
            : `${path}: migrated from version ${r.from} to ${r.to} (${r.applied.join(', ')}).\n`,
        );
        return 0;
      }
      case 'backup': {
        const storage = openStorage({ path, busyTimeoutMs });
        try {
          const r = await storage.backup(resolve(ctx.cwd, file!), { overwrite: flags.force === true });
          ctx.out.write(`backed up ${path} to ${r.path} (${formatBytes(r.bytes)}, schema version ${r.schemaVersion}, integrity ok).\n`);
        } finally {
          storage.close();
        }
        return 0;
      }
      case 'restore': {
        // Restoring replaces the live file; the bot must be stopped, and the person must say so.
        if (flags.force !== true) {
          ctx.err.write(`asyrp db restore: this replaces ${path}. Stop the bot first, then run it again with --force.\n`);
          return 1;
        }
        const r = restoreDatabase({ from: resolve(ctx.cwd, file!), to: path });
        const m = migrateDatabase({ path, busyTimeoutMs });
        ctx.out.write(`restored ${path} from ${file} (schema version ${r.schemaVersion}${m.applied.length ? `, migrated to ${m.to}` : ''}).\n`);
        return 0;
      }
      case 'check': {
        const storage = openStorage({ path, busyTimeoutMs });
        try {
          const problems = storage.integrityProblems();
          ctx.out.write(`${path}: schema version ${storage.schemaVersion()} of ${LATEST_VERSION}; ${problems.length === 0 ? 'integrity ok' : `${problems.length} problem(s)`}.\n`);
          for (const p of problems.slice(0, 20)) ctx.out.write(`  ${p}\n`);
          return problems.length === 0 ? 0 : 1;
        } finally {
          storage.close();
        }
      }
      default:
        throw new UsageError(`unknown command "${sub}"${suggest(sub)}`);
    }
  } catch (e) {
    if (!isStorageError(e)) throw e;
    ctx.err.write(`asyrp db ${sub}: ${e.message}${e.code === 'BUSY' ? ' (is the bot running a long write? try again)' : ''}\n`);
    return 1;
  }
}

function formatBytes(n: number): string {
  return n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

function suggest(sub: string): string {
  const guess = closestMatch(sub, Object.keys(DB.subcommands));
  return guess ? `; did you mean "${guess}"?` : '; use migrate, backup, restore or check';
}
