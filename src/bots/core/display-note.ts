/**
 * The line under an enlarged result that says what people are looking at. The bots never decode images
 * (sharp lives in the engine), but a PNG states its size in its first bytes (the IHDR chunk).
 */
export function pngSize(bytes: Uint8Array): { width: number; height: number } | null {
  const png = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (bytes.length < 24 || !png.every((b, i) => bytes[i] === b)) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

export function enlargedNote(original: { width: number; height: number } | null): string {
  const size = original ? ` (${original.width}×${original.height})` : '';
  return `Enlarged for display; the model's own pixels${size} are attached as the "original" file.`;
}
