/** A model package with its UNet session open and its directions loaded on demand. */
import { join } from 'node:path';
import { alphasCumprod } from './diffusion/schedule.js';
import { directionNames, loadDirection, type Direction } from './directions/direction-file.js';
import type { ModelPackage } from './model/model-registry.js';
import type { ModelManifest } from './model/model-manifest.js';
import { UNetSession } from './onnx/unet-session.js';
import type { ExecutionProvider } from './onnx/execution-provider.js';

export class LoadedModel {
  private readonly directions = new Map<string, Direction>();
  readonly alphasBar: Float64Array;

  private constructor(
    readonly pkg: ModelPackage,
    readonly unet: UNetSession,
  ) {
    this.alphasBar = alphasCumprod(pkg.manifest.schedule);
  }

  static async open(pkg: ModelPackage, opts: { provider: ExecutionProvider; threads?: number }): Promise<LoadedModel> {
    const m = pkg.manifest;
    const unet = await UNetSession.load(join(pkg.dir, m.unet), m.resolution, m.hspace, opts);
    return new LoadedModel(pkg, unet);
  }

  get manifest(): ModelManifest {
    return this.pkg.manifest;
  }

  get directionsDir(): string {
    return join(this.pkg.dir, this.manifest.directions);
  }

  directionNames(): string[] {
    return directionNames(this.directionsDir);
  }

  direction(name: string): Direction {
    let d = this.directions.get(name);
    if (!d) {
      d = loadDirection(this.directionsDir, name, this.manifest.hspace);
      this.directions.set(name, d);
    }
    return d;
  }

  /** Forget cached directions (after a new one is learned or a file is replaced). */
  reloadDirections(): void {
    this.directions.clear();
  }

  async close(): Promise<void> {
    await this.unet.release();
  }
}
