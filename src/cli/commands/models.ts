/** `asyrp models`: the installed model packages. */
import type { CliContext } from '../cli-context.js';
import { parseArgs } from '../parse-args.js';
import { MODELS } from '../command-specs.js';
import { listModelPackages } from '../../engine/model/model-registry.js';
import { directionNames } from '../../engine/directions/direction-file.js';
import { join } from 'node:path';

export async function modelsCommand(argv: string[], ctx: CliContext): Promise<number> {
  const { flags } = parseArgs(argv, MODELS.flags);
  const broken: string[] = [];
  const models = listModelPackages(ctx.config.modelsDir, (dir, e) => broken.push(`${dir}: ${e.message}`)).map((p) => ({
    id: p.manifest.id,
    title: p.manifest.title,
    resolution: p.manifest.resolution,
    directions: directionNames(join(p.dir, p.manifest.directions)),
    dir: p.dir,
  }));
  if (flags.json) ctx.out.write(JSON.stringify({ models, broken }, null, 2) + '\n');
  else {
    if (models.length === 0) ctx.out.write(`no models installed in ${ctx.config.modelsDir}\n`);
    for (const m of models) ctx.out.write(`${m.id.padEnd(20)} ${`${m.resolution}px`.padEnd(7)} ${String(m.directions.length).padStart(2)} directions  ${m.title}\n`);
    for (const b of broken) ctx.err.write(`broken package: ${b}\n`);
  }
  return 0;
}
