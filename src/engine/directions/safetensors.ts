/**
 * A reader and writer for the safetensors format (8-byte little-endian header length, a JSON header of
 * {name: {dtype, shape, data_offsets}} plus optional "__metadata__" of strings, then raw little-endian
 * data). Only what direction files need: F32 and I32. Every offset and size is checked before use, since
 * direction files may come from users.
 */
import { EngineError } from '../errors.js';

export type TensorDType = 'F32' | 'I32';

export interface StoredTensor {
  readonly dtype: TensorDType;
  readonly shape: readonly number[];
  readonly data: Float32Array | Int32Array;
}

export interface SafetensorsFile {
  readonly tensors: ReadonlyMap<string, StoredTensor>;
  readonly metadata: Readonly<Record<string, string>>;
}

const MAX_HEADER = 1 << 20;

function invalid(source: string, why: string): EngineError {
  return new EngineError('DIRECTION_INVALID', `${source}: not a valid safetensors file (${why})`, { source });
}

export function parseSafetensors(bytes: Uint8Array, source = 'direction file'): SafetensorsFile {
  if (bytes.length < 8) throw invalid(source, `${bytes.length} bytes is too short`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (headerLen <= 1 || headerLen > MAX_HEADER || 8 + headerLen > bytes.length) throw invalid(source, `header length ${headerLen} does not fit the file`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLen)));
  } catch (e) {
    throw invalid(source, `header is not JSON: ${(e as Error).message}`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw invalid(source, 'header is not an object');
  const dataStart = 8 + headerLen;
  const dataLen = bytes.length - dataStart;
  const tensors = new Map<string, StoredTensor>();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof entry !== 'object' || entry === null || Object.values(entry).some((v) => typeof v !== 'string')) {
        throw invalid(source, '__metadata__ must map strings to strings');
      }
      metadata = { ...(entry as Record<string, string>) };
      continue;
    }
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (e.dtype !== 'F32' && e.dtype !== 'I32') throw invalid(source, `tensor "${name}" has dtype ${String(e.dtype)}; only F32 and I32 are supported`);
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw invalid(source, `tensor "${name}" has a bad shape`);
    const offs = e.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isSafeInteger(o) && o >= 0)) throw invalid(source, `tensor "${name}" has bad data_offsets`);
    const [begin, end] = offs as [number, number];
    const count = (e.shape as number[]).reduce((a, b) => a * b, 1);
    if (end < begin || end > dataLen || end - begin !== count * 4) throw invalid(source, `tensor "${name}" data (${begin}..${end}) does not match its shape or the file size`);
    // Copy into a fresh buffer: the data may not be 4-byte aligned inside the file, and a Node Buffer's
    // slice() is a view into a shared pool, not a copy.
    const raw = new Uint8Array(bytes.subarray(dataStart + begin, dataStart + end));
    const data = e.dtype === 'F32' ? new Float32Array(raw.buffer, 0, count) : new Int32Array(raw.buffer, 0, count);
    tensors.set(name, { dtype: e.dtype, shape: e.shape as number[], data });
  }
  return { tensors, metadata };
}

export function serializeSafetensors(tensors: Readonly<Record<string, StoredTensor>>, metadata: Readonly<Record<string, string>> = {}): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  const entries = Object.entries(tensors);
  for (const [name, t] of entries) {
    const size = t.data.length * 4;
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + size] };
    offset += size;
  }
  let json = JSON.stringify(header);
  // Pad the header with spaces so the data starts 8-byte aligned, as the reference writer does.
  while ((8 + Buffer.byteLength(json)) % 8 !== 0) json += ' ';
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.length;
  for (const [, t] of entries) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.length * 4), pos);
    pos += t.data.length * 4;
  }
  return out;
}
