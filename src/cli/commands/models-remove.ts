/** `asyrp models remove <id>`: the package is moved out of models/ in one step, then deleted. */
import type { CliContext } from '../cli-context.js';
import { parseArgs, UsageError } from '../parse-args.js';
import { MODELS_REMOVE } from '../command-specs.js';
import { InstallError } from '../../models-install/install-error.js';
import { lockPackage, removePackage } from '../../models-install/package-staging.js';
import { MODEL_ID } from '../../models-install/model-sources.js';

export async function modelsRemoveCommand(argv: string[], ctx: CliContext): Promise<number> {
  const { positionals } = parseArgs(argv, MODELS_REMOVE.flags);
  const [id, ...extra] = positionals;
  if (!id || extra.length) throw new UsageError('give the id of one installed model (asyrp models lists them)');
  if (!MODEL_ID.test(id)) throw new UsageError(`"${id}" is not a model id`);
  try {
    const lock = lockPackage(ctx.config.modelsDir, id);
    try {
      const dir = removePackage(ctx.config.modelsDir, id);
      ctx.out.write(`removed ${id} (${dir})\n`);
    } finally {
      lock.release();
    }
    return 0;
  } catch (e) {
    if (e instanceof InstallError) {
      ctx.err.write(`asyrp models remove: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}
