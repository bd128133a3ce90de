/**
 * The logger handed to Bolt and the Web API client. Bolt logs request bodies and errors at debug and
 * error level; those can hold the bot token, the app token, response_url (a 30-minute bearer
 * capability) and url_private links. Everything passes through redactSlack() before it reaches the
 * bot's own log.
 */
import { LogLevel } from '@slack/bolt';
import type { Logger } from '@slack/bolt';
import { redactSecrets } from '../core/friendly-errors.js';
import type { BotLogger } from '../core/types.js';

export function redactSlack(text: string): string {
  return redactSecrets(text)
    .replace(/xox[a-z]-[A-Za-z0-9-]+/g, 'xox?-[redacted]')
    .replace(/xapp-[A-Za-z0-9-]+/g, 'xapp-[redacted]')
    .replace(/https?:\/\/[^\s"'<>]*\/(commands|actions|response)\/[^\s"'<>]*/g, '[response_url redacted]')
    .replace(/"?(response_url|url_private(_download)?|token)"?\s*[:=]\s*"?[^\s",}]+/g, '$1=[redacted]');
}

function render(parts: unknown[]): string {
  return redactSlack(parts.map((p) => (p instanceof Error ? `${p.name}: ${p.message}` : typeof p === 'string' ? p : safeJson(p))).join(' ')).slice(0, 1000);
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
}

const ORDER: LogLevel[] = [LogLevel.DEBUG, LogLevel.INFO, LogLevel.WARN, LogLevel.ERROR];

export function boltLogger(log: BotLogger, level: LogLevel = LogLevel.WARN): Logger {
  let current = level;
  const on = (l: LogLevel) => ORDER.indexOf(l) >= ORDER.indexOf(current);
  return {
    debug: (...m: unknown[]) => {
      if (on(LogLevel.DEBUG)) log.debug(`bolt: ${render(m)}`);
    },
    info: (...m: unknown[]) => {
      if (on(LogLevel.INFO)) log.info(`bolt: ${render(m)}`);
    },
    warn: (...m: unknown[]) => {
      if (on(LogLevel.WARN)) log.warn(`bolt: ${render(m)}`);
    },
    error: (...m: unknown[]) => {
      if (on(LogLevel.ERROR)) log.error(`bolt: ${render(m)}`);
    },
    setLevel: (l: LogLevel) => {
      current = l;
    },
    getLevel: () => current,
    setName: () => undefined,
  };
}
