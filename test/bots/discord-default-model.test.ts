/**
 * The product as a user meets it: the real discord.js client against the fake Discord and a real engine
 * on the shipped default model (models/toyfaces-32) with its shipped directions. `/asyrp smile
 * strength:0.8` on a rendered face comes back as an edited face in a thread.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { loadConfig } from '../../src/config/load-config.js';
import { EngineClient } from '../../src/engine/client/engine-client.js';
import { startEngineServer, type EngineServer } from '../../src/engine/service/start-engine-server.js';
import { installNetworkGuard, type NetworkGuard } from '../fake-discord/network-guard.js';
import { awaitResult, startHarness, type Harness } from './support/discord-harness.js';
import { repoRoot, tempDir } from '../helpers/paths.js';

let guard: NetworkGuard;
let engine: EngineServer;
let h: Harness;

beforeAll(async () => {
  guard = installNetworkGuard();
  const dir = tempDir('asyrp-default-model-');
  engine = await startEngineServer(
    loadConfig({ root: repoRoot, env: {}, overrides: { dataDir: join(dir, 'data'), storage: { path: join(dir, 'engine.db') }, logLevel: 'warn', engine: { port: 0, models: ['toyfaces-32'] } } }),
  );
  h = await startHarness(new EngineClient({ baseUrl: engine.url }));
});

afterAll(async () => {
  await h?.stop();
  await engine?.close();
  guard?.restore();
});

describe('default model over Discord', () => {
  it('/asyrp smile strength:0.8 on a shipped sample posts the edited face', async () => {
    const { fake } = h;
    const face = readFileSync(join(repoRoot, 'models', 'toyfaces-32', 'samples', 'face-4.png'));
    const { status, message, edit } = await awaitResult(h, fake.slash(fake.users.alice, ['smile'], { strength: 0.8 }, { image: { bytes: face, filename: 'face.png' } }));
    expect(status).toMatch(/^✅ Done/);
    expect(message!.content).toContain('smile:0.8');
    expect(edit!.status).toBe('done');
    // Posted at 512×512 for display (32 px, nearest neighbour ×16); the model's own 32×32 is the third file.
    const upload = fake.calls.find((c) => c.method === 'POST' && c.files.length === 3)!;
    const shown = await sharp(upload.files[0]!.bytes).metadata();
    expect([shown.width, shown.height]).toEqual([512, 512]);
    expect(upload.files[2]!.filename).toBe('asyrp-edit-original-32x32.png');
    const after = await sharp(upload.files[2]!.bytes).raw().toBuffer({ resolveWithObject: true });
    expect([after.info.width, after.info.height]).toEqual([32, 32]);
    const shrunk = await sharp(upload.files[0]!.bytes).resize(32, 32, { kernel: 'nearest' }).raw().toBuffer();
    expect(shrunk.equals(after.data)).toBe(true); // every model pixel a 16×16 square
    const before = await sharp(face).raw().toBuffer();
    let diff = 0;
    for (let k = 0; k < before.length; k++) diff += Math.abs(before[k]! - after.data[k]!);
    // An edit: the face changed, but it is still the same picture (mean change of a few levels).
    expect(diff / before.length).toBeGreaterThan(0.5);
    expect(diff / before.length).toBeLessThan(40);
    expect(guard.violations).toEqual([]);
  }, 120_000);
});
