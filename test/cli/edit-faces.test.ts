/** `asyrp edit` on a face model: the whole photo back by default, the aligned crop with --face-crop. */
import { describe, expect, it } from 'vitest';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { runCli } from '../helpers/cli.js';
import { sharedFixturePresent, sharedFixtures, tempDir, testModels } from '../helpers/paths.js';

const photos = join(sharedFixtures, 'asyrp-official', 'photos', 'celeba');

describe('asyrp edit on a face model', () => {
  it.skipIf(!sharedFixturePresent(photos, 'edit --face photo test'))(`returns the photo, or the crop with --face-crop; a missing face is a clear error (needs ${photos})`, async () => {
    const dir = tempDir('asyrp-cli-faces-');
    cpSync(join(testModels, 'tiny-unet'), join(dir, 'models', 'tiny-face'), { recursive: true });
    const manifest = JSON.parse(readFileSync(join(dir, 'models', 'tiny-face', 'model.json'), 'utf8'));
    writeFileSync(join(dir, 'models', 'tiny-face', 'model.json'), JSON.stringify({ ...manifest, id: 'tiny-face', preprocess: 'align-face' }));
    const face = await sharp(join(photos, '000121.jpg')).resize(256, 256).png().toBuffer();
    await sharp({ create: { width: 500, height: 400, channels: 3, background: '#336655' } }).composite([{ input: face, left: 120, top: 80 }]).png().toFile(join(dir, 'photo.png'));
    const overrides = { modelsDir: join(dir, 'models'), logLevel: 'warn' };

    const whole = await runCli(['edit', 'photo.png', 'steps:4', '--model', 'tiny-face', '-o', 'whole.png', '--json'], { cwd: dir, overrides });
    expect(whole.code).toBe(0);
    expect(JSON.parse(whole.out).faces).toHaveLength(1);
    expect(await sharp(join(dir, 'whole.png')).metadata()).toMatchObject({ width: 500, height: 400 });

    const crop = await runCli(['edit', 'photo.png', 'steps:4', '--model', 'tiny-face', '--face', '0', '--face-crop', '-o', 'crop.png'], { cwd: dir, overrides });
    expect(crop.code).toBe(0);
    expect(await sharp(join(dir, 'crop.png')).metadata()).toMatchObject({ width: 16, height: 16 });

    const none = await runCli(['edit', 'photo.png', 'steps:4', '--model', 'tiny-face', '--face', '2'], { cwd: dir, overrides });
    expect(none.code).toBe(1);
    expect(none.err).toMatch(/face/);
  }, 120_000);
});
