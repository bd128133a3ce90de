/**
 * The engine's default model and its directions, fetched from /v1/models. Slash command definitions,
 * recipe parsing and the default emoji map all need the direction list; it is fetched once at start and
 * can be refreshed (e.g. before deploying commands).
 */
import type { ModelInfo } from '../../engine/client/api-types.js';
import type { EngineApi } from './types.js';
import { UserFacingError } from './user-facing-error.js';

export class ModelCatalog {
  private model: ModelInfo | undefined;
  private models: ModelInfo[] = [];

  constructor(private readonly engine: Pick<EngineApi, 'models'>) {}

  async refresh(): Promise<ModelInfo> {
    const { models } = await this.engine.models();
    const chosen = models.find((m) => m.isDefault) ?? models[0];
    if (!chosen) throw new UserFacingError('internal', 'The engine has no model installed.');
    this.model = chosen;
    this.models = models;
    return chosen;
  }

  /** Every installed model, the one the bot uses first: `help` says what each edits. */
  get all(): readonly ModelInfo[] {
    const current = this.current;
    return [current, ...this.models.filter((m) => m.id !== current.id)];
  }

  /** The default model; refresh() must have succeeded once. */
  get current(): ModelInfo {
    if (!this.model) throw new UserFacingError('busy', 'The edit engine is still starting. Try again in a minute.');
    return this.model;
  }

  get directionNames(): string[] {
    return this.current.directions.map((d) => d.name);
  }

  defaultStrength(direction: string): number {
    return this.current.directions.find((d) => d.name === direction)?.defaultStrength ?? 1;
  }
}
