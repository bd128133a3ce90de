/**
 * An engine server in a child process, for crash and shutdown tests: started with
 * `node --import tsx test/helpers/engine-child.ts <dataDir> [engine-json]`, it prints one JSON line with
 * its URL, and on SIGTERM drains like `asyrp engine` does.
 */
import { startEngineServer } from '../../src/engine/service/start-engine-server.js';
import { engineConfig } from './engine.js';

const [dataDir, engineJson] = process.argv.slice(2);
const server = await startEngineServer(engineConfig(dataDir!, JSON.parse(engineJson ?? '{}')));
process.stdout.write(JSON.stringify({ url: server.url, recovered: server.recovered }) + '\n');
process.on('SIGTERM', () => {
  void server.drain().then(() => process.exit(0));
});
