import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, type AppConfig } from '../../src/config/load-config.js';
import { startEngineServer, type EngineServer } from '../../src/engine/service/start-engine-server.js';
import { EngineClient } from '../../src/engine/client/engine-client.js';
import { repoRoot, tempDir, testModels } from './paths.js';

export function engineConfig(dataDir: string, engine: Record<string, unknown> = {}): AppConfig {
  return loadConfig({
    root: repoRoot,
    env: {},
    overrides: {
      dataDir,
      modelsDir: testModels,
      defaultModel: 'analytic',
      logLevel: 'warn',
      storage: { path: join(dataDir, 'asyrp.db') },
      engine: { host: '127.0.0.1', port: 0, models: ['analytic', 'tiny-unet'], ...engine },
    },
  });
}

/** A real engine server on an ephemeral loopback port, with its own data folder. */
export async function startTestEngine(engine: Record<string, unknown> = {}, dataDir = tempDir('asyrp-engine-')): Promise<{ server: EngineServer; client: EngineClient; dataDir: string }> {
  const config = engineConfig(dataDir, { ...engine });
  const server = await startEngineServer(config);
  return { server, client: new EngineClient({ baseUrl: server.url }), dataDir };
}

/** A small real photo-like PNG (any size: the engine centre-crops). */
export function sampleImageBase64(): string {
  return readFileSync(join(repoRoot, 'test', 'fixtures', 'images', 'gradient.png')).toString('base64');
}
