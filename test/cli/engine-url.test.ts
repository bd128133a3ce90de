/** The one place the bots and the supervisor build the engine's address from the config. */
import { describe, expect, it } from 'vitest';
import { engineUrl } from '../../src/cli/engine-url.js';

describe('engineUrl', () => {
  it('is the local engine unless a platform names another, with an IPv6 host in brackets', () => {
    expect(engineUrl({ host: '127.0.0.1', port: 7860 })).toBe('http://127.0.0.1:7860');
    expect(engineUrl({ host: '::1', port: 7860 })).toBe('http://[::1]:7860');
    expect(engineUrl({ host: '::1', port: 7860 }, null)).toBe('http://[::1]:7860');
    expect(engineUrl({ host: '127.0.0.1', port: 7860 }, 'http://engine.internal:9000')).toBe('http://engine.internal:9000');
  });
});
