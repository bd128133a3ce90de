/** The `asyrp` entry point on the TypeScript sources, for tests that need a real process: node --import tsx. */
import { run } from '../../src/cli/main.js';

process.exitCode = await run(process.argv.slice(2));
