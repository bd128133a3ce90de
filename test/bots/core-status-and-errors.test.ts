/** The core's words for people: status lines (throttled), and errors that never leak raw text. */
import { describe, expect, it } from 'vitest';
import { API_ERROR_CODES } from '../../src/engine/client/api-types.js';
import { EngineClientError } from '../../src/engine/client/engine-client.js';
import { EngineError } from '../../src/engine/errors.js';
import { StorageError } from '../../src/storage/index.js';
import { concernsOnlyThem, describeForLog, redactSecrets, toFriendlyError } from '../../src/bots/core/friendly-errors.js';
import { StatusThrottle, statusText } from '../../src/bots/core/status-text.js';
import { UserFacingError } from '../../src/bots/core/user-facing-error.js';

const base = { state: 'running' as const, position: 0, step: 10, total: 40, cacheHit: false };

describe('statusText', () => {
  it('follows queued #n -> inverting -> editing -> boosting', () => {
    expect(statusText({ ...base, state: 'queued', phase: 'queued', position: 3 })).toBe('⏳ Queued #3');
    expect(statusText({ ...base, phase: 'inversion' })).toBe('🔄 Inverting 25%');
    expect(statusText({ ...base, phase: 'editing', step: 30, cacheHit: true })).toBe('🎨 Editing 75% (re-using the inversion)');
    expect(statusText({ ...base, phase: 'boosting', step: 40 })).toBe('✨ Boosting 100%');
    expect(statusText({ ...base, state: 'failed', phase: 'finished' })).toBe('❌ Failed');
  });
});

describe('StatusThrottle', () => {
  it('sends at most one line per 1.5 s and drops repeats', async () => {
    let now = 0;
    const sent: string[] = [];
    const t = new StatusThrottle(async (s) => void sent.push(s), 1500, () => now);
    t.update('a');
    now = 1000;
    t.update('b'); // too soon
    now = 1499;
    t.update('c'); // still too soon
    now = 1500;
    t.update('d');
    now = 4000;
    t.update('d'); // same text
    now = 6000;
    t.update('e');
    await t.settle();
    expect(sent).toEqual(['a', 'd', 'e']);
  });

  it('survives a failing send (a status edit must never fail the job)', async () => {
    let now = 0;
    const t = new StatusThrottle(async () => Promise.reject(new Error('429')), 10, () => now);
    t.update('a');
    now = 100;
    t.update('b');
    await expect(t.settle()).resolves.toBeUndefined();
  });
});

describe('concernsOnlyThem', () => {
  it('keeps errors about the person\'s own file, recipe or limits private, and the engine\'s troubles public', () => {
    expect(concernsOnlyThem(new UserFacingError('input', 'That file is empty (0 bytes).'))).toBe(true);
    expect(concernsOnlyThem(new UserFacingError('limit', 'slow down', 1000))).toBe(true);
    expect(concernsOnlyThem(new EngineClientError('IMAGE_CORRUPT', 'x', 422))).toBe(true);
    expect(concernsOnlyThem(new EngineClientError('RECIPE_UNKNOWN_OPTION', 'x', 422))).toBe(true);
    expect(concernsOnlyThem(new EngineClientError('NO_FACE', 'x', 422))).toBe(true);
    expect(concernsOnlyThem(new EngineError('RECIPE_SYNTAX', 'x'))).toBe(true);
    expect(concernsOnlyThem(new EngineClientError('UNAVAILABLE', 'x', 0))).toBe(false);
    expect(concernsOnlyThem(new EngineClientError('BUSY', 'x', 503))).toBe(false);
    expect(concernsOnlyThem(new EngineClientError('MODEL_INVALID', 'x', 500))).toBe(false);
    expect(concernsOnlyThem(new UserFacingError('internal', 'The edit failed inside the model.'))).toBe(false);
    expect(concernsOnlyThem(new Error('boom'))).toBe(false);
  });
});

describe('toFriendlyError', () => {
  it('has words for every engine API code, none of them the raw message', () => {
    for (const code of API_ERROR_CODES) {
      const text = toFriendlyError(new EngineClientError(code, `raw ${code} http://127.0.0.1:7860/v1/jobs secret`, 500)).text;
      expect(text.length).toBeGreaterThan(10);
      if (!code.startsWith('RECIPE_')) expect(text).not.toContain('secret');
    }
  });

  it('keeps the pointed message of recipe errors and the self-explaining storage ones', () => {
    const recipe = new EngineError('RECIPE_UNKNOWN_DIRECTION', 'Unknown direction "smiel".\n  smiel\n  ^^^^^');
    expect(toFriendlyError(recipe).text).toContain('^^^^^');
    expect(toFriendlyError(new StorageError('NAME_TAKEN', 'You already have a preset named "x".')).text).toContain('already have');
    expect(toFriendlyError(new UserFacingError('limit', 'Slow down.', 5000))).toEqual({ text: 'Slow down.', retryAfterMs: 5000 });
  });

  it('hides unexpected errors behind a log id', () => {
    const e = new Error('ECONNRESET at https://discord.com/api/v10/interactions/123/tokentoken/callback');
    const f = toFriendlyError(e);
    expect(f.text).toMatch(/log id [0-9a-f]{8}/);
    expect(f.text).not.toContain('ECONNRESET');
    expect(f.logId).toBeDefined();
    expect(toFriendlyError(new StorageError('CORRUPT', 'the database file is corrupt')).logId).toBeDefined();
  });

  it('redacts interaction tokens and bot tokens from log lines', () => {
    expect(redactSecrets('POST /interactions/123456789012345678/aW50ZXJhY3Rpb24/callback')).toBe('POST /interactions/123456789012345678/[redacted]/callback');
    expect(redactSecrets('PATCH /webhooks/1234/tok.en-x/messages/@original')).toBe('PATCH /webhooks/1234/[redacted]/messages/@original');
    expect(redactSecrets('Authorization: Bot MTIz.abc.def')).toBe('Authorization: Bot [redacted]');
    expect(describeForLog(new Error('at /webhooks/99/secret-token'))).not.toContain('secret-token');
  });
});
