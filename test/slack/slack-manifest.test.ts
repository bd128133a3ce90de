/** The app manifest in the repo asks for exactly what the code registers and calls. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EDIT_VIEW_ID, SHORTCUT_ID } from '../../src/bots/slack/edit-modal.js';
import { COMMAND_NAME } from '../../src/bots/slack/register-listeners.js';
import { repoRoot } from '../helpers/paths.js';

const manifest = readFileSync(join(repoRoot, 'src', 'bots', 'slack', 'manifest.yaml'), 'utf8');
const listAfter = (key: string) => {
  const lines = manifest.split('\n');
  const at = lines.findIndex((l) => l.trim() === `${key}:`);
  const out: string[] = [];
  for (const l of lines.slice(at + 1)) {
    const m = /^\s+- ([a-z:_.]+)/.exec(l);
    if (!m) break;
    out.push(m[1]!);
  }
  return out;
};

describe('manifest.yaml', () => {
  it('declares the slash command, the message shortcut and the events the code listens to', () => {
    expect(manifest).toContain(`- command: ${COMMAND_NAME}\n`);
    expect(manifest).toMatch(new RegExp(`type: message\\n\\s+callback_id: ${SHORTCUT_ID}\\n`));
    expect(EDIT_VIEW_ID).not.toBe(SHORTCUT_ID);
    expect(listAfter('bot_events').sort()).toEqual(['app_mention', 'reaction_added']);
    expect(manifest).toContain('should_escape: false');
    for (const url of manifest.match(/(request_url|url): \S+/g)!) expect(url).toMatch(/\/slack\/events$/);
  });

  it('asks for the scopes of every Web API method the bot calls, and no more', () => {
    expect(listAfter('bot').sort()).toEqual(
      ['app_mentions:read', 'channels:history', 'chat:write', 'commands', 'files:read', 'files:write', 'groups:history', 'reactions:read', 'reactions:write', 'users:read'].sort(),
    );
  });
});
