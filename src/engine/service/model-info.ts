/**
 * What GET /v1/models answers: each loaded model with its directions. A direction whose file no longer
 * loads is left out rather than failing the whole listing.
 */
import type { ModelInfo } from '../client/api-types.js';
import type { LoadedModel } from '../loaded-model.js';

export function describeModels(models: ReadonlyMap<string, LoadedModel>, defaultModel: string): ModelInfo[] {
  return [...models.values()].map((m) => ({
    id: m.manifest.id,
    title: m.manifest.title,
    domain: m.manifest.domain ?? null,
    resolution: m.manifest.resolution,
    isDefault: m.manifest.id === defaultModel,
    directions: m.directionNames().flatMap((name) => {
      try {
        const d = m.direction(name);
        return [{ name, description: d.meta.description, defaultStrength: d.meta.defaultStrength ?? 1 }];
      } catch {
        return [];
      }
    }),
  }));
}
