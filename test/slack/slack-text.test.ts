/** The small pure pieces: command words to routes and recipes, mrkdwn escaping, emoji keys, log redaction. */
import { describe, expect, it } from 'vitest';
import { parseCommandText, toRecipe } from '../../src/bots/slack/command-text.js';
import { escapeMrkdwn, fromMarkdown, mention } from '../../src/bots/slack/mrkdwn.js';
import { emojiKey, emojiKeyFromText } from '../../src/bots/slack/slack-emoji.js';
import { redactSlack } from '../../src/bots/slack/slack-logger.js';

const defaults = (d: string) => (d === 'smile' ? 0.8 : undefined);

describe('command text', () => {
  it('reads the Discord-style and grammar forms of a recipe', () => {
    expect(toRecipe('smile strength:0.8', defaults)).toBe('smile:0.8');
    expect(toRecipe('smile 0.5', defaults)).toBe('smile:0.5');
    expect(toRecipe('smile strength=-1', defaults)).toBe('smile:-1');
    expect(toRecipe('smile', defaults)).toBe('smile:0.8');
    expect(toRecipe('vintage', defaults)).toBe('vintage');
    expect(toRecipe('@alice/vintage 0.5', defaults)).toBe('@alice/vintage:0.5');
    expect(toRecipe('smile:0.8 glasses:0.5', defaults)).toBe('smile:0.8 glasses:0.5');
  });

  it('routes the non-edit words', () => {
    expect(parseCommandText('', defaults)).toEqual({ kind: 'help' });
    expect(parseCommandText('  HELP ', defaults)).toEqual({ kind: 'help' });
    expect(parseCommandText('history', defaults)).toEqual({ kind: 'history' });
    expect(parseCommandText('link AB12', defaults)).toEqual({ kind: 'link', code: 'AB12' });
    expect(parseCommandText('preset info @a/b', defaults)).toEqual({ kind: 'preset', sub: 'info', args: ['@a/b'], rest: '@a/b' });
    expect(parseCommandText('preset use warm 0.5', defaults)).toEqual({ kind: 'edit', recipe: 'warm:0.5' });
    expect(parseCommandText('admin limits 5 none', defaults)).toMatchObject({ kind: 'admin', sub: 'limits', args: ['5', 'none'] });
    expect(parseCommandText('edit smile  0.3', defaults)).toEqual({ kind: 'edit', recipe: 'smile:0.3' });
  });
});

describe('mrkdwn', () => {
  it('escapes the three control characters and nothing else', () => {
    expect(escapeMrkdwn('<!channel> & <https://x|y> *b*')).toBe('&lt;!channel&gt; &amp; &lt;https://x|y&gt; *b*');
    expect(fromMarkdown('**bold** <@U1>')).toBe('*bold* &lt;@U1&gt;');
    expect(mention('U0ABC')).toBe('<@U0ABC>');
    expect(mention('<!here>')).toBe('someone');
  });
});

describe('emoji', () => {
  it('maps known shortcodes to the emoji the core defaults use, others to :name:', () => {
    expect(emojiKey('smile')).toBe('😄');
    expect(emojiKey('nerd_face::skin-tone-3')).toBe('🤓');
    expect(emojiKey('party_parrot')).toBe(':party_parrot:');
    expect(emojiKeyFromText(':Smile:')).toBe('😄');
    expect(emojiKeyFromText('😴')).toBe('😴');
  });
});

describe('log redaction', () => {
  it('removes tokens, response_url and url_private values', () => {
    const line = redactSlack('token=xoxb-123-456-abc xapp-1-A0-99 https://hooks.slack.com/commands/T1/2/abc "url_private":"https://files.slack.com/x" Bearer xoxb-9');
    expect(line).not.toMatch(/xoxb-1|xoxb-9|xapp-1-A0|hooks\.slack\.com\/commands\/T1|files\.slack\.com\/x/);
  });
});
