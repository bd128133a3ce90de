/**
 * config/model-sources.json is data: its shape is checked here (every official backbone of docs/models.md,
 * https sources or a manual pointer, sizes from the parameter counts, the released directions at the pinned
 * commit), never the network.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { directionSource, parseModelSources, readModelSources } from '../../src/models-install/model-sources.js';
import { InstallError } from '../../src/models-install/install-error.js';
import { readJson, repoRoot } from '../helpers/paths.js';

const path = join(repoRoot, 'config', 'model-sources.json');
const sources = readModelSources(path);

describe('config/model-sources.json', () => {
  it('lists the eight official backbones with the converter\'s dataset and arch', () => {
    const rows = [...sources.backbones.values()].map((b) => [b.id, b.dataset, b.arch, b.file]);
    expect(rows).toEqual([
      ['celeba-hq', 'celeba', 'ddpm', 'celeba_hq.ckpt'],
      ['church', 'church', 'ddpm', 'church_outdoor.ckpt'],
      ['bedroom', 'bedroom', 'ddpm', 'bedroom.ckpt'],
      ['afhq-dog', 'afhq', 'iddpm', 'afhq_dog_4m.pt'],
      ['ffhq', 'ffhq', 'iddpm', 'ffhq_10m.pt'],
      ['metfaces', 'metfaces', 'adm', 'metface_p2.pt'],
      ['celeba-hq-p2', 'celeba', 'adm', 'celebahq_p2.pt'],
      ['imagenet', 'imagenet', 'adm', '256x256_diffusion_uncond.pt'],
    ]);
  });

  it('every source is https; a backbone without one says where a person finds the file', () => {
    for (const b of sources.backbones.values()) {
      for (const u of b.sources) expect(u, b.id).toMatch(/^https:\/\/[^/]+\/.+\/[^/]+$/);
      for (const u of b.sources) expect(u.endsWith(`/${b.file}`), `${b.id}: ${u}`).toBe(true);
      if (!b.sources.length) expect(b.manual, b.id).toMatch(/github\.com\/jychoi118\//);
    }
    // the SDEdit bucket answers 403 for CelebA-HQ, so the Hugging Face mirror comes first
    expect(sources.backbones.get('celeba-hq')!.sources[0]).toMatch(/^https:\/\/huggingface\.co\//);
  });

  it('sizes follow the parameter counts (fp32 state dicts, 4 bytes a parameter)', () => {
    for (const b of sources.backbones.values()) {
      expect(b.minBytes, b.id).toBe(b.parameters * 4);
      expect(b.maxBytes / b.minBytes, b.id).toBeGreaterThan(1);
      expect(b.maxBytes / b.minBytes, b.id).toBeLessThan(1.1);
    }
    expect(sources.backbones.get('celeba-hq')!.parameters).toBe(113_673_219);
    expect(sources.backbones.get('imagenet')!.parameters).toBe(552_814_086);
  });

  it('the released directions: 35 files in the Asyrp repository at the pinned commit, for the five backbones that have them', () => {
    expect(sources.directions.commit).toBe('a6c82dc760849dd4c1e878990ce38e824967e5b0');
    const counts = Object.fromEntries([...sources.backbones.values()].map((b) => [b.id, b.directions?.attributes.length ?? 0]));
    expect(counts).toEqual({ 'celeba-hq': 18, church: 6, bedroom: 2, 'afhq-dog': 5, ffhq: 0, metfaces: 4, 'celeba-hq-p2': 0, imagenet: 0 });
    const smiling = directionSource(sources, sources.backbones.get('celeba-hq')!, 'smiling');
    expect(smiling).toEqual({
      url: 'https://raw.githubusercontent.com/kwonminki/Asyrp_official/a6c82dc760849dd4c1e878990ce38e824967e5b0/checkpoint/smiling_LC_CelebA_HQ_t999_ninv40_ngen40_0.pth',
      file: 'smiling_LC_CelebA_HQ_t999_ninv40_ngen40_0.pth',
    });
    expect(directionSource(sources, sources.backbones.get('afhq-dog')!, 'dog_happy').file).toBe('dog_happy_LC_dog_t999_ninv40_ngen40_0.pth');
  });

  it('a broken entry is an error naming the entry and the field', () => {
    const raw = readJson<{ backbones: Record<string, Record<string, unknown>> }>(path);
    raw.backbones['church']!.sources = ['ftp://example.org/x.ckpt'];
    let err: unknown;
    try {
      parseModelSources(raw, 'x.json');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InstallError);
    expect((err as InstallError).code).toBe('BAD_SOURCES');
    expect((err as InstallError).message).toBe('x.json: "backbones.church.sources[0]" must be an http(s) URL');
    raw.backbones['church']!.sources = [];
    delete raw.backbones['church']!.manual;
    expect(() => parseModelSources(raw, 'x.json')).toThrow(/backbones\.church\.manual/);
  });
});
