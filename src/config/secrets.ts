/**
 * Secrets are kept apart from the configuration object: the config is passed everywhere, printed in
 * errors and logged on occasion; the secrets go only to the code that sends them (the engine's HTTP
 * check, the API clients, the bot logins) and to the logger, which cuts them from every line.
 *
 * They come from the environment, or from a "secrets" block in config/local.json (not committed).
 */
import { ConfigError } from './config-error.js';

export interface Secrets {
  /** Bearer token of the engine API; required when the engine listens on anything but loopback. */
  readonly engineToken: string | null;
  readonly discordToken: string | null;
  readonly slackBotToken: string | null;
  readonly slackSigningSecret: string | null;
  /** App-level token (xapp-): when set, the Slack bot runs over Socket Mode instead of HTTP. */
  readonly slackAppToken: string | null;
  /** redis://[:password@]host:port/db of the scale-out queue (engine.queue "redis"); it may hold a password. */
  readonly redisUrl: string | null;
}

/** Each secret and the environment variable it is read from. */
export const SECRET_ENV: Readonly<Record<keyof Secrets, string>> = {
  engineToken: 'ASYRP_ENGINE_TOKEN',
  discordToken: 'DISCORD_TOKEN',
  slackBotToken: 'SLACK_BOT_TOKEN',
  slackSigningSecret: 'SLACK_SIGNING_SECRET',
  slackAppToken: 'SLACK_APP_TOKEN',
  redisUrl: 'ASYRP_REDIS_URL',
};

export const NO_SECRETS: Secrets = Object.freeze({ engineToken: null, discordToken: null, slackBotToken: null, slackSigningSecret: null, slackAppToken: null, redisUrl: null });

/** The environment wins over the file, and `overrides` (tests) over both. */
export function readSecrets(fromFile: unknown, env: NodeJS.ProcessEnv, overrides: Partial<Secrets> = {}): Secrets {
  if (fromFile !== undefined && (typeof fromFile !== 'object' || fromFile === null || Array.isArray(fromFile))) {
    throw new ConfigError('INVALID_VALUE', 'secrets', 'config: "secrets" must be an object of strings');
  }
  const file = (fromFile ?? {}) as Record<string, unknown>;
  for (const key of Object.keys(file)) {
    if (!Object.hasOwn(SECRET_ENV, key)) throw new ConfigError('INVALID_VALUE', `secrets.${key}`, `config: unknown secret "secrets.${key}"; known: ${Object.keys(SECRET_ENV).join(', ')}`);
  }
  const out = {} as Record<keyof Secrets, string | null>;
  for (const [key, envName] of Object.entries(SECRET_ENV) as [keyof Secrets, string][]) {
    const v = Object.hasOwn(overrides, key) ? overrides[key] : env[envName] || file[key];
    // The value itself is never echoed, not even when it is wrong.
    if (v !== undefined && v !== null && (typeof v !== 'string' || v.length === 0)) throw new ConfigError('INVALID_VALUE', `secrets.${key}`, `config: ${envName} (secrets.${key}) must be a non-empty string`);
    out[key] = (v as string | null | undefined) ?? null;
  }
  return Object.freeze(out);
}
