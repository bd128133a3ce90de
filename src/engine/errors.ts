/**
 * Typed engine errors with a closed set of codes. Code deep in the engine throws these; only the edges
 * (CLI, HTTP API, bots) turn a code into words for a person.
 */

export const ENGINE_ERROR_CODES = [
  // Recipe text (the grammar shared by the CLI and the bots).
  'RECIPE_SYNTAX',
  'RECIPE_UNKNOWN_DIRECTION',
  'RECIPE_BAD_VALUE',
  'RECIPE_TOO_MANY',
  // A `name:value` whose name is no option and no installed direction (stepz:20); the message names the closest option.
  'RECIPE_UNKNOWN_OPTION',
  // Input images.
  'IMAGE_EMPTY',
  'IMAGE_TOO_LARGE',
  'IMAGE_UNSUPPORTED_FORMAT',
  'IMAGE_CORRUPT',
  // A face model was given a photo in which no face (or not the face asked for) was found.
  'NO_FACE',
  // Model packages and direction files.
  'MODEL_NOT_FOUND',
  'MODEL_INVALID',
  'MODEL_MISMATCH',
  'DIRECTION_NOT_FOUND',
  'DIRECTION_INVALID',
  // Running.
  'INFERENCE_FAILED',
  'CANCELLED',
  'IO_FAILED',
] as const;

export type EngineErrorCode = (typeof ENGINE_ERROR_CODES)[number];

export class EngineError extends Error {
  override readonly name = 'EngineError';
  readonly code: EngineErrorCode;
  /** Structured facts for the edge to format (never secrets). */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: EngineErrorCode, message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.details = details;
  }
}

export function isEngineError(e: unknown): e is EngineError {
  return e instanceof EngineError;
}

/** Wraps anything thrown by a dependency so callers only ever see EngineError. */
export function asEngineError(e: unknown, fallback: EngineErrorCode, context: string): EngineError {
  if (e instanceof EngineError) return e;
  const text = e instanceof Error ? e.message : String(e);
  return new EngineError(fallback, `${context}: ${text}`, {}, { cause: e });
}
