/**
 * One process of a Redis scale-out for multi-process tests:
 * `node --import tsx test/helpers/cluster-child.ts <api|worker> <redisUrl> <dataDir> [engine-json]`.
 * It starts the role as `asyrp engine --role <role>` composes it, prints one JSON line
 * `{ url, pid, workerId? }`, logs to standard error, and on SIGTERM drains and exits.
 */
import { startClusterApi } from '../../src/engine/cluster/start-cluster-api.js';
import { startClusterWorker } from '../../src/engine/cluster/start-cluster-worker.js';
import { createLogger } from '../../src/log/logger.js';
import { engineConfig } from './engine.js';

const [role, redisUrl, dataDir, engineJson] = process.argv.slice(2);
const config = engineConfig(dataDir!, { queue: 'redis', role, ...(JSON.parse(engineJson ?? '{}') as Record<string, unknown>) });
const log = createLogger({ level: 'warn', destination: process.stderr, pretty: false });

if (role === 'api') {
  const api = await startClusterApi(config, { redisUrl: redisUrl!, log });
  process.stdout.write(JSON.stringify({ url: api.url, pid: process.pid }) + '\n');
  process.on('SIGTERM', () => void api.drain().then(() => process.exit(0)));
} else {
  const w = await startClusterWorker(config, { redisUrl: redisUrl!, log });
  process.stdout.write(JSON.stringify({ url: w.http?.url, pid: process.pid, workerId: w.worker.workerId }) + '\n');
  process.on('SIGTERM', () => void w.close().then(() => process.exit(0)));
}
