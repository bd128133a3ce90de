/**
 * The catalog of official backbones and where to download them (config/model-sources.json): data, read
 * and checked here, so a wrong entry is an error naming the entry and the field, not a failed download.
 */
import { readFileSync } from 'node:fs';
import { InstallError } from './install-error.js';

export interface DirectionSources {
  /** Asyrp's file-name category, e.g. "CelebA_HQ" (`<attr>_LC_<category>_t999_ninv40_ngen40_0.pth`). */
  readonly category: string;
  readonly attributes: readonly string[];
}

export interface BackboneSource {
  readonly id: string;
  readonly title: string;
  /** convert_checkpoint.py --dataset / --arch. */
  readonly dataset: string;
  readonly arch: 'ddpm' | 'iddpm' | 'adm';
  /** The published file name. */
  readonly file: string;
  readonly parameters: number;
  /** A download outside [minBytes, maxBytes] is refused before converting. */
  readonly minBytes: number;
  readonly maxBytes: number;
  /** Lower-case hex, or null where none is published (the installer records the one it computes). */
  readonly sha256: string | null;
  /** Direct download URLs, tried in order. */
  readonly sources: readonly string[];
  /** Where a person finds the file when there is no direct URL. */
  readonly manual?: string;
  readonly directions: DirectionSources | null;
  /** Architecture hyper-parameters for convert_checkpoint.py --config (custom backbones, tests). */
  readonly archConfig?: Readonly<Record<string, unknown>>;
}

export interface ModelSources {
  readonly directions: { readonly repository: string; readonly commit: string; readonly urlTemplate: string; readonly minBytes: number; readonly maxBytes: number };
  readonly backbones: ReadonlyMap<string, BackboneSource>;
}

export const MODEL_ID = /^[a-z0-9][a-z0-9-]{0,63}$/;

export function readModelSources(path: string): ModelSources {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new InstallError('BAD_SOURCES', `cannot read the model sources ${path}: ${(e as Error).message}`);
  }
  return parseModelSources(raw, path);
}

export function parseModelSources(raw: unknown, where: string): ModelSources {
  const fail = (field: string, want: string): never => {
    throw new InstallError('BAD_SOURCES', `${where}: "${field}" must be ${want}`, { field });
  };
  const obj = (v: unknown, field: string): Record<string, unknown> =>
    v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : fail(field, 'an object');
  const str = (v: unknown, field: string): string => (typeof v === 'string' && v.length > 0 ? v : fail(field, 'a non-empty string'));
  const count = (v: unknown, field: string): number => (typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : fail(field, 'a positive whole number'));
  const url = (v: unknown, field: string): string => {
    const s = str(v, field);
    if (!/^https?:\/\//.test(s)) fail(field, 'an http(s) URL');
    return s;
  };
  const top = obj(raw, '(top)');
  if (top.format !== 'asyrp-model-sources/1') fail('format', '"asyrp-model-sources/1"');
  const d = obj(top.directions, 'directions');
  const template = url(d.urlTemplate, 'directions.urlTemplate');
  if (!template.includes('{attr}') || !template.includes('{category}')) fail('directions.urlTemplate', 'a URL with {attr} and {category}');
  const directions = {
    repository: str(d.repository, 'directions.repository'),
    commit: str(d.commit, 'directions.commit'),
    urlTemplate: template,
    minBytes: count(d.minBytes, 'directions.minBytes'),
    maxBytes: count(d.maxBytes, 'directions.maxBytes'),
  };
  const backbones = new Map<string, BackboneSource>();
  for (const [id, v] of Object.entries(obj(top.backbones, 'backbones'))) {
    const f = (k: string) => `backbones.${id}.${k}`;
    if (!MODEL_ID.test(id)) fail(`backbones.${id}`, 'named by a model id ([a-z0-9-], at most 64)');
    const b = obj(v, `backbones.${id}`);
    const arch = b.arch;
    if (arch !== 'ddpm' && arch !== 'iddpm' && arch !== 'adm') fail(f('arch'), '"ddpm", "iddpm" or "adm"');
    const sources = Array.isArray(b.sources) ? b.sources.map((s, i) => url(s, `${f('sources')}[${i}]`)) : fail(f('sources'), 'a list of URLs');
    const sha = b.sha256 ?? null;
    if (sha !== null && !(typeof sha === 'string' && /^[0-9a-f]{64}$/.test(sha))) fail(f('sha256'), 'null or 64 lower-case hex digits');
    const manual = b.manual === undefined ? undefined : str(b.manual, f('manual'));
    if (!sources.length && !manual) fail(f('manual'), 'given when there are no sources (where a person finds the file)');
    let dirs: DirectionSources | null = null;
    if (b.directions !== null && b.directions !== undefined) {
      const ds = obj(b.directions, f('directions'));
      const attrs = ds.attributes;
      if (!Array.isArray(attrs) || !attrs.length || !attrs.every((a) => typeof a === 'string' && /^[a-z0-9_]+$/.test(a))) fail(f('directions.attributes'), 'a non-empty list of attribute names');
      dirs = { category: str(ds.category, f('directions.category')), attributes: attrs as string[] };
    }
    const minBytes = count(b.minBytes, f('minBytes'));
    const maxBytes = count(b.maxBytes, f('maxBytes'));
    if (maxBytes < minBytes) fail(f('maxBytes'), 'at least minBytes');
    const file = str(b.file, f('file'));
    if (file.includes('/') || file.startsWith('.')) fail(f('file'), 'a plain file name');
    backbones.set(id, {
      id,
      title: str(b.title, f('title')),
      dataset: str(b.dataset, f('dataset')),
      arch: arch as BackboneSource['arch'],
      file,
      parameters: count(b.parameters, f('parameters')),
      minBytes,
      maxBytes,
      sha256: sha as string | null,
      sources,
      ...(manual ? { manual } : {}),
      directions: dirs,
      ...(b.archConfig !== undefined ? { archConfig: obj(b.archConfig, f('archConfig')) } : {}),
    });
  }
  if (!backbones.size) fail('backbones', 'a non-empty object');
  return { directions, backbones };
}

/** The released file of one direction: its URL and file name. */
export function directionSource(sources: ModelSources, b: BackboneSource, attr: string): { url: string; file: string } {
  if (!b.directions) throw new InstallError('NO_SOURCE', `${b.id} has no released directions`);
  const url = sources.directions.urlTemplate.replaceAll('{attr}', attr).replaceAll('{category}', b.directions.category);
  return { url, file: url.slice(url.lastIndexOf('/') + 1) };
}
