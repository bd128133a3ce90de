/**
 * Recipe errors point at the bad token with lines indented by two spaces (the token, then carets under it).
 * Chat clients draw text in a proportional font, where the carets drift off the token; in a code block
 * they line up. Discord and Slack both fence with triple backticks.
 */
export function fenceIndented(text: string): string {
  return text.replace(/(?:^ {2}.*(?:\n|$))+/gm, (block) => '```\n' + block.replace(/^ {2}/gm, '').replace(/\n$/, '') + '\n```\n');
}
