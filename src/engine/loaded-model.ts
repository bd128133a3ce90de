/** A model package with its UNet session open; its directions are read at start (preloadDirections) or on demand. */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { alphasCumprod } from './diffusion/schedule.js';
import { directionNames, loadDirection, type Direction } from './directions/direction-file.js';
import type { ModelPackage } from './model/model-registry.js';
import type { ModelManifest } from './model/model-manifest.js';
import { UNetSession } from './onnx/unet-session.js';
import type { ExecutionProvider } from './onnx/execution-provider.js';
import type { InferenceBackend } from './onnx/inference-protocol.js';
import { openInference } from './onnx/open-inference.js';

export interface OpenModelOptions {
  readonly provider: ExecutionProvider;
  /**
   * Where the model's graphs run (the engine passes its inference worker, shared by every model). When
   * absent the model opens an inline backend of its own and closes it with the model.
   */
  readonly inference?: InferenceBackend;
  /** Close the given backend with the model (a CLI command's model owns its backend). */
  readonly closeInference?: boolean;
}

export class LoadedModel {
  private readonly directions = new Map<string, Direction>();
  /** The folder's listing and the folder's mtime it was read at (see directionNames). */
  private names: { readonly mtimeMs: number; readonly list: readonly string[] } | null = null;
  readonly alphasBar: Float64Array;

  private constructor(
    readonly pkg: ModelPackage,
    readonly unet: UNetSession,
    /** The backend the UNet runs on; the attribute reader and face detector can be loaded there too. */
    readonly inference: InferenceBackend,
    private readonly ownsInference: boolean,
  ) {
    this.alphasBar = alphasCumprod(pkg.manifest.schedule);
  }

  static async open(pkg: ModelPackage, opts: OpenModelOptions): Promise<LoadedModel> {
    const m = pkg.manifest;
    const inference = opts.inference ?? (await openInference({ mode: 'inline', intraOpThreads: 0 }));
    try {
      const unet = await UNetSession.load(join(pkg.dir, m.unet), m.resolution, m.hspace, { provider: opts.provider, inference });
      return new LoadedModel(pkg, unet, inference, !opts.inference || opts.closeInference === true);
    } catch (e) {
      if (!opts.inference || opts.closeInference) await inference.close();
      throw e;
    }
  }

  get manifest(): ModelManifest {
    return this.pkg.manifest;
  }

  get directionsDir(): string {
    return join(this.pkg.dir, this.manifest.directions);
  }

  /**
   * The installed directions' names. Every submit asks (its recipe is parsed against them), so the listing
   * is kept while the folder's mtime stays the same: a file added, removed or renamed into place (by
   * another process too, e.g. `asyrp directions learn`) changes it, and one stat costs far less than a
   * readdir per submit.
   */
  directionNames(): string[] {
    const dir = this.directionsDir;
    let mtimeMs: number;
    try {
      mtimeMs = statSync(dir).mtimeMs;
    } catch {
      this.names = null;
      return directionNames(dir);
    }
    if (this.names?.mtimeMs !== mtimeMs) this.names = { mtimeMs, list: directionNames(dir) };
    return [...this.names.list];
  }

  direction(name: string): Direction {
    let d = this.directions.get(name);
    if (!d) {
      d = loadDirection(this.directionsDir, name, this.manifest.hspace);
      this.directions.set(name, d);
    }
    return d;
  }

  /**
   * Reads and decodes every installed direction now, so the first submit that names one does not pay for
   * it on the engine's event loop (a 64-unit h-net file is ~70 ms of synchronous read and decode). Returns
   * the files that did not load, with why; a submit naming one of them is refused with that error.
   */
  preloadDirections(): { readonly name: string; readonly error: Error }[] {
    const failed: { name: string; error: Error }[] = [];
    for (const name of this.directionNames()) {
      try {
        this.direction(name);
      } catch (e) {
        failed.push({ name, error: e instanceof Error ? e : new Error(String(e)) });
      }
    }
    return failed;
  }

  /** The names of the directions decoded and kept in memory. */
  loadedDirections(): string[] {
    return [...this.directions.keys()].sort();
  }

  /** Forget cached directions (after a new one is learned or a file is replaced). */
  reloadDirections(): void {
    this.directions.clear();
    this.names = null;
  }

  async close(): Promise<void> {
    await this.unet.release();
    if (this.ownsInference) await this.inference.close();
  }
}
