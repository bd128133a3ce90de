// The inference worker when the engine runs from its TypeScript sources (vitest, `node --import tsx`):
// a worker thread starts without its parent's loader, so this loads the .ts entry through tsx (a
// devDependency). Built code (dist/, bin/asyrp.js) starts inference-worker.js directly.
import { tsImport } from 'tsx/esm/api';

await tsImport('./inference-worker.ts', import.meta.url);
