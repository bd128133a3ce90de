/**
 * The one error type whose message may be shown to a person as is. Everything else is mapped to words
 * by ./friendly-errors.ts, so a raw stack, a URL with a token or a driver message never reaches a chat.
 */
export type UserErrorKind = 'input' | 'limit' | 'busy' | 'forbidden' | 'not-found' | 'internal';

export class UserFacingError extends Error {
  override readonly name = 'UserFacingError';
  constructor(
    readonly kind: UserErrorKind,
    message: string,
    /** For limit and busy: when trying again makes sense. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}
