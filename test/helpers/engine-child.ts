/**
 * An engine server in a child process, for crash and shutdown tests: started with
 * `node --import tsx test/helpers/engine-child.ts <dataDir> [engine-json] [faults-json]`, it prints one
 * JSON line with its URL and what its start found, logs to standard error, and on SIGTERM drains like
 * `asyrp engine` does.
 *
 * faults-json: { "logLevel": "info" } logs more than warnings; { "failFinalMarks": true } makes every
 * database write of a final state throw (faulty-storage.ts).
 */
import { startEngineServer } from '../../src/engine/service/start-engine-server.js';
import { createLogger } from '../../src/log/logger.js';
import { openStorage } from '../../src/storage/index.js';
import { withFailingFinalMarks } from './faulty-storage.js';
import { engineConfig } from './engine.js';

const [dataDir, engineJson, faultsJson] = process.argv.slice(2);
const config = engineConfig(dataDir!, JSON.parse(engineJson ?? '{}'));
const faults = JSON.parse(faultsJson ?? '{}') as { failFinalMarks?: boolean; logLevel?: 'info' | 'warn' };

const storage = faults.failFinalMarks ? withFailingFinalMarks(openStorage({ path: config.storage.path, busyTimeoutMs: config.storage.busyTimeoutMs })) : undefined;
const log = createLogger({ level: faults.logLevel ?? 'warn', destination: process.stderr, pretty: false });
const server = await startEngineServer(config, { log, ...(storage ? { storage } : {}) });
process.stdout.write(JSON.stringify({ url: server.url, recovered: server.recovered, started: server.started }) + '\n');
process.on('SIGTERM', () => {
  void server.drain().then(() => process.exit(0));
});
