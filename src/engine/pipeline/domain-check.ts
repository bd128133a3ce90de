/**
 * Honest about the model's domain. A model edits what it was trained on (the default: synthetic cartoon
 * faces at 32 px); a photo of a person given to it comes back as a 32-pixel blob. When an input is clearly
 * outside the domain, the reply says so in one line and points to the real models (docs/models.md). The
 * edit still runs: the note explains the result, it does not refuse it.
 *
 * "Clearly outside" has two tests, either is enough:
 * - the package's own attribute reader (when it ships one with a "face" output) reads no face in the
 *   preprocessed input (face probability at most 0.5, the threshold `asyrp generate` counts faces with);
 * - the model is a toy (at most 64 px) and the input is a photo: its short side is at least 8× the
 *   model's resolution (256 px for the 32 px default), far more detail than the model can keep.
 */
import { join } from 'node:path';
import type { ModelManifest } from '../model/model-manifest.js';
import { AttributeReader } from '../onnx/attribute-reader.js';
import type { InferenceBackend } from '../onnx/inference-protocol.js';
import type { PreparedInput } from './edit-image.js';

export const TOY_MODEL_EDGE = 64;
export const PHOTO_FACTOR = 8;
export const NO_FACE_BELOW = 0.5;

export type DomainReason = 'no-face' | 'photo';

export interface DomainNote {
  readonly reason: DomainReason;
  /** One line for a person. */
  readonly text: string;
}

export function domainNoteText(manifest: ModelManifest, reason: DomainReason): string {
  const what = manifest.domain ?? `what it was trained on (${manifest.title})`;
  const why = reason === 'no-face' ? 'its reader sees no face in this image' : `this looks like a photo, far more detail than ${manifest.resolution} px can keep`;
  return `Note: this model only edits ${what}; ${why}, so expect a rough result. Real models: docs/models.md.`;
}

/** Readers by backend and package folder, loaded once: the check runs on every submit. */
const inlineReaders = new Map<string, Promise<AttributeReader | null>>();
const backendReaders = new WeakMap<InferenceBackend, Map<string, Promise<AttributeReader | null>>>();

function readerFor(dir: string, manifest: ModelManifest, inference: InferenceBackend | undefined): Promise<AttributeReader | null> {
  if (!manifest.attributes) return Promise.resolve(null);
  const path = join(dir, manifest.attributes);
  let readers = inference ? backendReaders.get(inference) : inlineReaders;
  if (!readers) backendReaders.set(inference!, (readers = new Map()));
  let r = readers.get(path);
  if (!r) {
    // A reader that fails to load only turns this check off; the edit never depends on it.
    r = AttributeReader.load(path, manifest.resolution, inference)
      .then((reader) => (reader.outputs.includes('face') ? reader : null))
      .catch(() => null);
    readers.set(path, r);
  }
  return r;
}

/**
 * The note for an input clearly outside the model's domain, or null. Face-aligning models check faces
 * themselves (NO_FACE). The reader runs where `inference` runs graphs (the engine passes its model's
 * backend, the inference worker, so a submit's check never computes on the event loop); inline when absent.
 */
export async function checkDomain(pkg: { dir: string; manifest: ModelManifest }, input: PreparedInput, inference?: InferenceBackend): Promise<DomainNote | null> {
  const { manifest } = pkg;
  if (manifest.preprocess === 'align-face') return null;
  const reader = await readerFor(pkg.dir, manifest, inference);
  if (reader) {
    // A copy: the worker takes the array it is given, and the caller still needs the input.
    const [reading] = await reader.read(input.tensor.slice(), 1);
    const face = reading?.['face'];
    if (typeof face === 'number' && face <= NO_FACE_BELOW) return { reason: 'no-face', text: domainNoteText(manifest, 'no-face') };
  }
  const short = Math.min(input.original.width, input.original.height);
  if (manifest.resolution <= TOY_MODEL_EDGE && short >= PHOTO_FACTOR * manifest.resolution) return { reason: 'photo', text: domainNoteText(manifest, 'photo') };
  return null;
}
