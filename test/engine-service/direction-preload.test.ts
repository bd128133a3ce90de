/**
 * The engine reads every installed direction before it listens: the first submit naming one does not
 * decode the file on the event loop, and a file that does not load is named in the start-up log and
 * refused with its typed error, while the model's other directions keep working.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load-config.js';
import { EngineClient, EngineClientError } from '../../src/engine/client/engine-client.js';
import { startEngineServer, type EngineServer } from '../../src/engine/service/start-engine-server.js';
import { memoryLog } from '../helpers/memory-log.js';
import { repoRoot, tempDir, testModels } from '../helpers/paths.js';
import { sampleImageBase64 } from '../helpers/engine.js';

let server: EngineServer;
let client: EngineClient;
const logged = memoryLog();

beforeAll(async () => {
  const dataDir = tempDir('asyrp-preload-');
  const modelsDir = join(dataDir, 'models');
  cpSync(join(testModels, 'analytic'), join(modelsDir, 'analytic'), { recursive: true });
  const dirs = join(modelsDir, 'analytic', 'directions');
  // A truncated copy of a good file: the header promises more bytes than there are.
  const good = readFileSync(join(dirs, 'shift.safetensors'));
  writeFileSync(join(dirs, 'broken.safetensors'), good.subarray(0, good.length - 5));
  const config = loadConfig({
    root: repoRoot,
    env: {},
    overrides: { dataDir, modelsDir, defaultModel: 'analytic', storage: { path: join(dataDir, 'asyrp.db') }, engine: { host: '127.0.0.1', port: 0, models: ['analytic'] } },
  });
  server = await startEngineServer(config, { log: logged.log });
  client = new EngineClient({ baseUrl: server.url });
});
afterAll(async () => server?.close());

describe('directions at start-up', () => {
  it('are decoded before the first submit, and a broken one is named in the log', () => {
    const model = server.models.get('analytic')!;
    expect(model.loadedDirections()).toEqual(['global', 'shift']);
    const warning = logged.lines.filter((l) => l.includes('direction broken'));
    expect(warning).toHaveLength(1);
    expect(warning[0]).toMatch(/^warn direction broken does not load and will be refused: /);
  });

  it('refuses a submit naming the broken file with its code and runs the others', async () => {
    const image = sampleImageBase64();
    const err = await client.submit({ imageBase64: image, recipe: 'broken', owner: 'p' }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(EngineClientError);
    expect((err as EngineClientError).code).toBe('DIRECTION_INVALID');
    const ok = await client.submit({ imageBase64: image, recipe: 'shift steps:4', owner: 'p' });
    expect(ok.id).toBeTruthy();
  });
});
