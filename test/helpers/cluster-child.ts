/**
 * One process of a Redis scale-out for multi-process tests:
 * `node --import tsx test/helpers/cluster-child.ts <api|worker> <redisUrl> <dataDir> [engine-json]`.
 * It starts the role as `asyrp engine --role <role>` composes it, prints one JSON line
 * `{ url, pid, workerId? }`, logs to standard error, and on SIGTERM drains and exits.
 */
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load-config.js';
import { createLogger } from '../../src/log/logger.js';
import { repoRoot, testModels } from './paths.js';

const [role, redisUrl, dataDir, engineJson] = process.argv.slice(2);
// As test/helpers/engine.ts's engineConfig, without importing the engine server: an API node loads no
// model, and each module it does not import is start-up time saved on every child.
const config = loadConfig({
  root: repoRoot,
  env: {},
  overrides: {
    dataDir,
    modelsDir: testModels,
    defaultModel: 'analytic',
    logLevel: 'warn',
    storage: { path: join(dataDir!, 'asyrp.db') },
    engine: { host: '127.0.0.1', port: 0, queue: 'redis', role, ...(JSON.parse(engineJson ?? '{}') as Record<string, unknown>) },
  },
});
const log = createLogger({ level: 'warn', destination: process.stderr, pretty: false });

if (role === 'api') {
  const { startClusterApi } = await import('../../src/engine/cluster/start-cluster-api.js');
  const api = await startClusterApi(config, { redisUrl: redisUrl!, log });
  process.stdout.write(JSON.stringify({ url: api.url, pid: process.pid }) + '\n');
  process.on('SIGTERM', () => void api.drain().then(() => process.exit(0)));
} else {
  const { startClusterWorker } = await import('../../src/engine/cluster/start-cluster-worker.js');
  const w = await startClusterWorker(config, { redisUrl: redisUrl!, log });
  process.stdout.write(JSON.stringify({ url: w.http?.url, pid: process.pid, workerId: w.worker.workerId }) + '\n');
  process.on('SIGTERM', () => void w.close().then(() => process.exit(0)));
}
