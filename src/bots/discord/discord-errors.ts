/** Recognising the Discord API errors the bot reacts to, without logging their URLs (they hold tokens). */
import { DiscordAPIError, RateLimitError } from 'discord.js';

/** The interaction token is dead: 15 minutes passed (50027) or the webhook is gone (10015). */
export function isExpiredToken(e: unknown): boolean {
  return e instanceof DiscordAPIError && (e.code === 50027 || e.code === 10015 || e.code === 10062);
}

export function apiErrorCode(e: unknown): number | string | undefined {
  return e instanceof DiscordAPIError ? e.code : undefined;
}

export function isRateLimited(e: unknown): e is RateLimitError {
  return e instanceof RateLimitError;
}
