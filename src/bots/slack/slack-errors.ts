/**
 * Slack Web API refusals that the person can fix, in words. Everything else goes through the core's
 * friendly errors (a generic line with a log id). The error's data is read for its code only: Web API
 * errors can carry request details that must not reach a chat or the log.
 */
const WORDS: Record<string, string> = {
  not_in_channel: 'I am not in this channel. Invite me with `/invite @asyrp`, then try again.',
  channel_not_found: 'I cannot see this channel. Invite me with `/invite @asyrp`, then try again.',
  missing_scope: 'The Slack app is missing a permission; ask an admin to reinstall it from the manifest.',
  ratelimited: 'Slack is asking me to slow down. Try again in a minute.',
};

export function slackErrorCode(e: unknown): string | undefined {
  const data = (e as { data?: { error?: unknown } } | null)?.data;
  return typeof data?.error === 'string' ? data.error : undefined;
}

export function slackFriendlyText(e: unknown): string | undefined {
  const code = slackErrorCode(e);
  return code ? WORDS[code] : undefined;
}
