/**
 * Why installing or removing a model failed, as a closed set of codes. Every message is one sentence that
 * says what happened and what to do; the CLI prints it as it is.
 */
export const INSTALL_ERROR_CODES = [
  'UNKNOWN_MODEL',
  'NO_SOURCE',
  'SOURCE_UNAVAILABLE',
  'CORRUPT_DOWNLOAD',
  'NO_SPACE',
  'PYTHON_MISSING',
  'PYTHON_MODULE_MISSING',
  'CONVERSION_FAILED',
  'PARITY_FAILED',
  'SMOKE_EDIT_FAILED',
  'ALREADY_INSTALLED',
  'NOT_INSTALLED',
  'BUSY',
  'BAD_SOURCES',
  'IO_FAILED',
] as const;

export type InstallErrorCode = (typeof INSTALL_ERROR_CODES)[number];

export class InstallError extends Error {
  override readonly name = 'InstallError';
  constructor(
    readonly code: InstallErrorCode,
    message: string,
    readonly details: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
  }
}
