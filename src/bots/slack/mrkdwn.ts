import { fenceIndented } from '../core/fence-indented.js';

/**
 * Slack mrkdwn treats `<...>` as links and mentions (`<!channel>`, `<@U1>`, `<https://x|y>`), so any text
 * that came from a person (recipes, preset names, descriptions, error messages that quote input) is
 * escaped before it is posted. Slack's own rule: escape &, < and > and nothing else.
 */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A user mention the bot builds itself from an id Slack gave it (never from typed text). */
export const mention = (userId: string) => (/^[UW][A-Z0-9]+$/.test(userId) ? `<@${userId}>` : 'someone');

/**
 * The core writes its words in Discord/Markdown style (`**bold**`); Slack's mrkdwn uses `*bold*`.
 * Escapes first, so the only markup left is what the core put there on purpose.
 */
export function fromMarkdown(text: string): string {
  return escapeMrkdwn(text).replace(/\*\*([^*]+)\*\*/g, '*$1*');
}

/**
 * An error for a person, as mrkdwn: escaped, and the recipe parser's indented token-and-caret lines in a
 * code block so the caret sits under the bad word (Slack's proportional font moves it otherwise).
 */
export function errorMrkdwn(text: string): string {
  return fenceIndented(escapeMrkdwn(text));
}
