/** `asyrp directions [--model <id>]`: the directions installed for a model (the default one if none). */
import type { CliContext } from '../cli-context.js';
import { parseArgs } from '../parse-args.js';
import { DIRECTIONS } from '../command-specs.js';
import { reportEngineError } from '../report-error.js';
import { resolveModelPackage } from '../../engine/model/model-registry.js';
import { directionNames, loadDirection } from '../../engine/directions/direction-file.js';
import { EngineError } from '../../engine/errors.js';
import { join } from 'node:path';

export async function directionsCommand(argv: string[], ctx: CliContext): Promise<number> {
  if (argv[0] === 'learn') return (await import('./directions-learn.js')).directionsLearnCommand(argv.slice(1), ctx);
  const { positionals, flags } = parseArgs(argv, DIRECTIONS.flags);
  if (positionals.length) ctx.err.write(`asyrp directions: ignoring ${positionals.join(' ')}\n`);
  try {
    const pkg = resolveModelPackage(ctx.config.modelsDir, flags.model as string | undefined, ctx.config.defaultModel, ctx.cwd);
    const dir = join(pkg.dir, pkg.manifest.directions);
    const rows = directionNames(dir).map((name) => {
      try {
        const d = loadDirection(dir, name, pkg.manifest.hspace);
        return { name, description: d.meta.description, timesteps: d.timesteps.length, tEdit: d.meta.tEdit, tBoost: d.meta.tBoost, defaultStrength: d.meta.defaultStrength, source: d.meta.source };
      } catch (e) {
        if (e instanceof EngineError) return { name, error: e.message };
        throw e;
      }
    });
    if (flags.json) ctx.out.write(JSON.stringify({ model: pkg.manifest.id, directions: rows }, null, 2) + '\n');
    else {
      ctx.out.write(`${pkg.manifest.id}: ${rows.length} direction${rows.length === 1 ? '' : 's'}\n`);
      for (const r of rows) {
        if ('error' in r) ctx.out.write(`  ${r.name.padEnd(16)} BROKEN: ${r.error}\n`);
        else ctx.out.write(`  ${r.name.padEnd(16)} ${r.description}${r.tEdit !== undefined ? ` (t_edit ${r.tEdit})` : ''}\n`);
      }
    }
    return 0;
  } catch (e) {
    return reportEngineError(ctx, 'directions', e);
  }
}
