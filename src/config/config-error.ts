/**
 * Why the configuration cannot be used, as a closed set of codes. The entry points print the message and
 * stop; nothing else catches it.
 */
export type ConfigErrorCode =
  /** config/local.json exists but is not a readable JSON object. */
  | 'FILE_UNREADABLE'
  /** A setting (from a file, the environment or an override) has the wrong type or range. */
  | 'INVALID_VALUE'
  /** A setting needs a secret that is not set (e.g. an engine off loopback without a token). */
  | 'SECRET_REQUIRED'
  /** A service the configuration points at does not answer (Redis at ASYRP_REDIS_URL with engine.queue "redis"). */
  | 'UNREACHABLE';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly code: ConfigErrorCode,
    /** The setting concerned, as written in config/local.json (e.g. "engine.port"), or the file's path. */
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}
