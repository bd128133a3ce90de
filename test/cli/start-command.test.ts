import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { EngineClient } from '../../src/engine/client/engine-client.js';
import { repoRoot, tempDir, testModels } from '../helpers/paths.js';

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

describe('asyrp start', () => {
  it('runs the engine (no bot credentials) and stops it cleanly on SIGTERM', async () => {
    const port = await freePort();
    const dataDir = tempDir('asyrp-start-');
    const env = { PATH: process.env.PATH, ASYRP_MODELS_DIR: testModels, ASYRP_DATA_DIR: dataDir, ASYRP_DB: join(dataDir, 'a.db'), ASYRP_ENGINE_PORT: String(port) };
    const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'test/helpers/cli-entry.ts'), 'start'], { cwd: repoRoot, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const client = new EngineClient({ baseUrl: `http://127.0.0.1:${port}`, timeoutMs: 1000 });
    let health;
    for (let i = 0; i < 120 && !health; i++) {
      health = await client.health().catch(() => undefined);
      if (!health) await new Promise((r) => setTimeout(r, 250));
    }
    expect(health?.models).toEqual(expect.arrayContaining(['analytic', 'tiny-unet']));
    expect(stderr).toContain('no bot credentials configured');
    child.kill('SIGTERM');
    const code = await new Promise((r) => child.once('exit', r));
    expect(code).toBe(0);
    await expect(client.health()).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  }, 90_000);
});
