/**
 * The engine under test of `asyrp bench load`, in a child process of its own so that the load generator
 * (500 submissions, a health poller) does not share the engine's event loop. Started with fork(): it
 * receives the full config as JSON in argv[2], answers `{ url }` over IPC once listening, and closes on
 * the message 'stop'.
 */
import type { AppConfig } from '../config/load-config.js';
import { startEngineServer } from '../engine/service/start-engine-server.js';

const config = JSON.parse(process.argv[2] ?? '{}') as AppConfig;
const server = await startEngineServer(config);
process.send?.({ url: server.url });
process.on('message', (m) => {
  if (m === 'stop') void server.close().then(() => process.exit(0));
});
process.on('disconnect', () => void server.close().then(() => process.exit(0)));
