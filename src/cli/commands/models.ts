/** `asyrp models`: the installed model packages and the official ones `asyrp models add` can install. */
import type { CliContext } from '../cli-context.js';
import { parseArgs } from '../parse-args.js';
import { MODELS } from '../command-specs.js';
import { listModelPackages } from '../../engine/model/model-registry.js';
import { directionNames } from '../../engine/directions/direction-file.js';
import { readModelSources } from '../../models-install/model-sources.js';
import { InstallError } from '../../models-install/install-error.js';
import { join } from 'node:path';

export async function modelsCommand(argv: string[], ctx: CliContext): Promise<number> {
  if (argv[0] === 'add') return (await import('./models-add.js')).modelsAddCommand(argv.slice(1), ctx);
  if (argv[0] === 'remove') return (await import('./models-remove.js')).modelsRemoveCommand(argv.slice(1), ctx);
  const { flags } = parseArgs(argv, MODELS.flags);
  const broken: string[] = [];
  const models = listModelPackages(ctx.config.modelsDir, (dir, e) => broken.push(`${dir}: ${e.message}`)).map((p) => ({
    id: p.manifest.id,
    title: p.manifest.title,
    domain: p.manifest.domain ?? null,
    resolution: p.manifest.resolution,
    directions: directionNames(join(p.dir, p.manifest.directions)),
    dir: p.dir,
  }));
  const installed = new Set(models.map((m) => m.id));
  let available: { id: string; title: string; download: string; directions: number }[] = [];
  try {
    available = [...readModelSources(ctx.config.modelSources).backbones.values()]
      .filter((b) => !installed.has(b.id))
      .map((b) => ({ id: b.id, title: b.title, download: b.sources.length ? 'built in' : `by hand (${b.manual}), then --from <file>`, directions: b.directions?.attributes.length ?? 0 }));
  } catch (e) {
    if (!(e instanceof InstallError)) throw e;
    broken.push(e.message);
  }
  if (flags.json) ctx.out.write(JSON.stringify({ models, available, broken }, null, 2) + '\n');
  else {
    if (models.length === 0) ctx.out.write(`no models installed in ${ctx.config.modelsDir}\n`);
    for (const m of models) ctx.out.write(`${m.id.padEnd(20)} ${`${m.resolution}px`.padEnd(7)} ${String(m.directions.length).padStart(2)} directions  ${m.title}${m.domain ? ` (edits ${m.domain})` : ''}\n`);
    if (available.length) {
      ctx.out.write(`\ncan be added (asyrp models add <id>):\n`);
      for (const a of available) ctx.out.write(`  ${a.id.padEnd(18)} ${String(a.directions).padStart(2)} released directions  ${a.title}; download ${a.download}\n`);
    }
    for (const b of broken) ctx.err.write(`broken package: ${b}\n`);
  }
  return 0;
}
