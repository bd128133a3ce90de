/** Payloads Slack sends for a message shortcut and a modal submission, shaped like the real ones. */
import type { FakeMessage } from '../../fake-slack/fake-slack-state.js';
import type { SlackHarness } from './slack-harness.js';

export function shortcutPayload(h: SlackHarness, user: { id: string; name: string }, m: FakeMessage): Record<string, unknown> {
  const { fake } = h;
  return {
    type: 'message_action',
    callback_id: 'asyrp_edit',
    trigger_id: fake.triggerId(),
    team: { id: fake.teamId, domain: 'fake' },
    channel: { id: m.channel, name: 'general' },
    user: { id: user.id, name: user.name, team_id: fake.teamId },
    message: { type: 'message', ts: m.ts, user: m.user, text: m.text, ...(m.thread_ts ? { thread_ts: m.thread_ts } : {}), files: m.files?.map(({ bytes: _b, ...f }) => f) },
    message_ts: m.ts,
    response_url: `${fake.base}/response/s1`,
    token: 'legacy',
    action_ts: String(Date.now() / 1000),
  };
}

type Values = Record<string, Record<string, Record<string, unknown>>>;

export function submitPayload(h: SlackHarness, user: { id: string; name: string }, opened: { id: string; view: Record<string, unknown> }, values: Values): Record<string, unknown> {
  const { fake } = h;
  return {
    type: 'view_submission',
    team: { id: fake.teamId, domain: 'fake' },
    user: { id: user.id, name: user.name, username: user.name, team_id: fake.teamId },
    api_app_id: 'A0FAKE',
    token: 'legacy',
    trigger_id: fake.triggerId(),
    view: { ...opened.view, id: opened.id, team_id: fake.teamId, app_id: 'A0FAKE', hash: 'h', state: { values } },
  };
}

export const selectValue = (value: string) => ({ value: { type: 'static_select', selected_option: { value } } });
export const textValue = (value: string | null) => ({ value: { type: 'plain_text_input', value } });
