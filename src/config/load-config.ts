/**
 * Configuration is read once, at start-up: config/default.json, then config/local.json (if present, for a
 * host's own settings), then the environment. The result is a frozen object passed down; nothing deeper
 * reads process.env.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';

export type ExecutionProviderSetting = 'auto' | 'cpu' | 'cuda' | 'webgpu';

export interface EngineServiceConfig {
  readonly host: string;
  readonly port: number;
  /** Bearer token; required when the engine listens on anything but loopback. */
  readonly token: string | null;
  /**
   * Host names (Host header) the engine answers besides loopback names and `host`; others get 421. Name
   * the engine here when clients reach it under a DNS name (a container's service name, a proxy's name).
   */
  readonly allowedHosts: readonly string[];
  /** Model ids to load; null loads every installed model. */
  readonly models: readonly string[] | null;
  /** Samples per batched UNet call. */
  readonly maxBatch: number;
  readonly maxQueued: number;
  readonly maxQueuedPerOwner: number;
  readonly maxRunningPerOwner: number;
  readonly jobTimeoutMs: number;
  readonly cacheMaxBytes: number;
  /** How long SIGTERM waits for running jobs before exiting. */
  readonly drainMs: number;
  readonly previewEvery: number;
  /** How long a finished job stays in memory after its final state is recorded (its files stay on disk). */
  readonly finishedJobTtlMs: number;
}

export interface AppConfig {
  /** The folder the relative paths below are resolved against. */
  readonly root: string;
  readonly dataDir: string;
  readonly modelsDir: string;
  /** Model id used when a request names none; null picks the first installed model. */
  readonly defaultModel: string | null;
  readonly executionProvider: ExecutionProviderSetting;
  /** Python 3 with Debian's PyTorch, for the converters of tools/ (`asyrp models add`). */
  readonly python: string;
  /** The catalog of official backbones `asyrp models add` downloads (config/model-sources.json). */
  readonly modelSources: string;
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error';
  readonly storage: { readonly path: string; readonly busyTimeoutMs: number };
  readonly limits: { readonly maxInputBytes: number; readonly maxInputPixels: number };
  readonly engine: EngineServiceConfig;
  readonly discord: DiscordConfig;
  readonly slack: SlackConfig;
}

/** The Slack app (#8). Tokens and the signing secret are secrets: never logged, never echoed. */
export interface SlackConfig {
  readonly botToken: string | null;
  readonly signingSecret: string | null;
  /** App-level token (xapp-): when set, the bot runs over Socket Mode instead of HTTP. */
  readonly appToken: string | null;
  /** Web API base URL (tests point it at a fake on loopback); null: https://slack.com/api/. */
  readonly apiUrl: string | null;
  /** Hosts files may be downloaded from (with the bot token). */
  readonly fileHosts: readonly string[];
  /** HTTP port for signed requests (POST /slack/events). */
  readonly port: number;
  /**
   * Listen address for HTTP mode. Default 127.0.0.1: Slack only calls HTTPS URLs, so a TLS reverse proxy
   * (or tunnel) on this host forwards to the bot, and nothing else needs to reach its plain-HTTP port.
   */
  readonly host: string;
  /** How far back `/asyrp` looks for the person's latest image in the channel. */
  readonly recentImageWindowMs: number;
  /** Engine base URL for the bot; null: http://engine.host:engine.port. */
  readonly engineUrl: string | null;
}

/** The Discord bot (#7). The token is a secret: never logged, never echoed. */
export interface DiscordConfig {
  readonly token: string | null;
  readonly appId: string | null;
  /** REST base URL (tests point it at a fake on loopback); null: discord.js's default. */
  readonly restApi: string | null;
  /** Hosts attachments may be downloaded from. */
  readonly cdnHosts: readonly string[];
  /** Engine base URL for the bot; null: http://engine.host:engine.port. */
  readonly engineUrl: string | null;
}

type Json = Record<string, unknown>;

function readJson(path: string): Json {
  try {
    const value: unknown = JSON.parse(readFileSync(path, 'utf8'));
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not a JSON object');
    return value as Json;
  } catch (e) {
    throw new Error(`config: cannot read ${path}: ${(e as Error).message}`);
  }
}

function merge(base: Json, over: Json): Json {
  const out: Json = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && b && typeof b === 'object' && !Array.isArray(b) ? merge(b as Json, v as Json) : v;
  }
  return out;
}

function envOverrides(env: NodeJS.ProcessEnv): Json {
  const o: Json = {};
  const num = (name: string) => {
    const v = env[name];
    if (v === undefined || v === '') return undefined;
    const n = Number(v);
    if (!Number.isFinite(n)) throw new Error(`config: ${name} must be a number, got "${v}"`);
    return n;
  };
  if (env.ASYRP_DATA_DIR) o.dataDir = env.ASYRP_DATA_DIR;
  if (env.ASYRP_MODELS_DIR) o.modelsDir = env.ASYRP_MODELS_DIR;
  if (env.ASYRP_DEFAULT_MODEL) o.defaultModel = env.ASYRP_DEFAULT_MODEL;
  if (env.ASYRP_EXECUTION_PROVIDER) o.executionProvider = env.ASYRP_EXECUTION_PROVIDER;
  if (env.ASYRP_PYTHON) o.python = env.ASYRP_PYTHON;
  if (env.ASYRP_MODEL_SOURCES) o.modelSources = env.ASYRP_MODEL_SOURCES;
  if (env.ASYRP_LOG_LEVEL) o.logLevel = env.ASYRP_LOG_LEVEL;
  if (env.ASYRP_DB) o.storage = { path: env.ASYRP_DB };
  const engine: Json = {};
  if (env.ASYRP_ENGINE_HOST) engine.host = env.ASYRP_ENGINE_HOST;
  const port = num('ASYRP_ENGINE_PORT');
  if (port !== undefined) engine.port = port;
  if (env.ASYRP_ENGINE_TOKEN) engine.token = env.ASYRP_ENGINE_TOKEN;
  if (env.ASYRP_ENGINE_ALLOWED_HOSTS) engine.allowedHosts = env.ASYRP_ENGINE_ALLOWED_HOSTS.split(',').map((h) => h.trim()).filter(Boolean);
  if (Object.keys(engine).length) o.engine = engine;
  const discord: Json = {};
  if (env.DISCORD_TOKEN) discord.token = env.DISCORD_TOKEN;
  if (env.DISCORD_APP_ID) discord.appId = env.DISCORD_APP_ID;
  if (env.DISCORD_REST_API) discord.restApi = env.DISCORD_REST_API;
  if (env.DISCORD_CDN_HOSTS) discord.cdnHosts = env.DISCORD_CDN_HOSTS.split(',').map((h) => h.trim()).filter(Boolean);
  if (env.ASYRP_ENGINE_URL) discord.engineUrl = env.ASYRP_ENGINE_URL;
  if (Object.keys(discord).length) o.discord = discord;
  const slack: Json = {};
  if (env.SLACK_BOT_TOKEN) slack.botToken = env.SLACK_BOT_TOKEN;
  if (env.SLACK_SIGNING_SECRET) slack.signingSecret = env.SLACK_SIGNING_SECRET;
  if (env.SLACK_APP_TOKEN) slack.appToken = env.SLACK_APP_TOKEN;
  if (env.SLACK_API_URL) slack.apiUrl = env.SLACK_API_URL;
  if (env.SLACK_FILE_HOSTS) slack.fileHosts = env.SLACK_FILE_HOSTS.split(',').map((h) => h.trim()).filter(Boolean);
  const slackPort = num('SLACK_PORT');
  if (slackPort !== undefined) slack.port = slackPort;
  if (env.SLACK_HOST) slack.host = env.SLACK_HOST;
  if (env.ASYRP_ENGINE_URL) slack.engineUrl = env.ASYRP_ENGINE_URL;
  if (Object.keys(slack).length) o.slack = slack;
  return o;
}

function check(cond: boolean, field: string, expected: string, value: unknown): void {
  if (!cond) throw new Error(`config: "${field}" must be ${expected}; got ${JSON.stringify(value)}`);
}

export interface LoadConfigOptions {
  /** Project root holding config/; defaults to the current directory. */
  readonly root?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Values applied last (tests, command-line flags). */
  readonly overrides?: Json;
}

export function loadConfig(options: LoadConfigOptions = {}): AppConfig {
  const root = resolve(options.root ?? process.cwd());
  const defaultsPath = join(root, 'config', 'default.json');
  let raw: Json = existsSync(defaultsPath) ? readJson(defaultsPath) : {};
  const localPath = join(root, 'config', 'local.json');
  if (existsSync(localPath)) raw = merge(raw, readJson(localPath));
  raw = merge(raw, envOverrides(options.env ?? process.env));
  if (options.overrides) raw = merge(raw, options.overrides);

  const abs = (p: unknown, field: string): string => {
    check(typeof p === 'string' && p.length > 0, field, 'a path', p);
    return isAbsolute(p as string) ? (p as string) : join(root, p as string);
  };
  const storage = (raw.storage ?? {}) as Json;
  const limits = (raw.limits ?? {}) as Json;
  const engine = (raw.engine ?? {}) as Json;
  const discord = (raw.discord ?? {}) as Json;
  const slack = (raw.slack ?? {}) as Json;
  const optString = (v: unknown, field: string) => {
    check(v === undefined || v === null || (typeof v === 'string' && v.length > 0), field, 'a string or null', /token|secret/i.test(field) ? '(hidden)' : v);
    return (v as string | null | undefined) ?? null;
  };
  const cdnHosts = discord.cdnHosts ?? ['cdn.discordapp.com', 'media.discordapp.net'];
  check(Array.isArray(cdnHosts) && cdnHosts.every((h) => typeof h === 'string' && h.length > 0), 'discord.cdnHosts', 'a list of host names', cdnHosts);
  const fileHosts = slack.fileHosts ?? ['files.slack.com'];
  check(Array.isArray(fileHosts) && fileHosts.every((h) => typeof h === 'string' && h.length > 0), 'slack.fileHosts', 'a list of host names', fileHosts);
  const slackPort = slack.port ?? 3000;
  const slackHost = slack.host ?? '127.0.0.1';
  check(typeof slackHost === 'string' && slackHost.length > 0, 'slack.host', 'a listen address, such as 127.0.0.1 or 0.0.0.0', slackHost);
  check(typeof slackPort === 'number' && Number.isInteger(slackPort) && slackPort >= 0 && slackPort < 65536, 'slack.port', 'a TCP port (0 = any free port)', slackPort);
  const ep = raw.executionProvider ?? 'auto';
  check(ep === 'auto' || ep === 'cpu' || ep === 'cuda' || ep === 'webgpu', 'executionProvider', '"auto", "cpu", "cuda" or "webgpu"', ep);
  const python = raw.python ?? '/usr/bin/python3';
  check(typeof python === 'string' && python.length > 0, 'python', 'a command or path', python);
  const logLevel = raw.logLevel ?? 'info';
  check(['debug', 'info', 'warn', 'error'].includes(logLevel as string), 'logLevel', 'debug|info|warn|error', logLevel);
  const positive = (v: unknown, field: string, dflt: number) => {
    const n = v ?? dflt;
    check(typeof n === 'number' && Number.isFinite(n) && n > 0, field, 'a positive number', n);
    return n as number;
  };
  check(raw.defaultModel === null || raw.defaultModel === undefined || typeof raw.defaultModel === 'string', 'defaultModel', 'a model id or null', raw.defaultModel);
  const allowedHosts = engine.allowedHosts ?? [];
  check(Array.isArray(allowedHosts) && allowedHosts.every((h) => typeof h === 'string' && h.length > 0), 'engine.allowedHosts', 'a list of host names', allowedHosts);
  const port = engine.port ?? 7860;
  // 0 asks the operating system for a free port (tests).
  check(typeof port === 'number' && Number.isInteger(port) && port >= 0 && port < 65536, 'engine.port', 'a TCP port (0 = any free port)', port);

  return Object.freeze({
    root,
    dataDir: abs(raw.dataDir ?? 'data', 'dataDir'),
    modelsDir: abs(raw.modelsDir ?? 'models', 'modelsDir'),
    defaultModel: (raw.defaultModel as string | null | undefined) ?? null,
    executionProvider: ep as ExecutionProviderSetting,
    python: python as string,
    modelSources: abs(raw.modelSources ?? 'config/model-sources.json', 'modelSources'),
    logLevel: logLevel as AppConfig['logLevel'],
    storage: Object.freeze({
      path: abs(storage.path ?? 'data/asyrp.db', 'storage.path'),
      busyTimeoutMs: positive(storage.busyTimeoutMs, 'storage.busyTimeoutMs', 5000),
    }),
    limits: Object.freeze({
      maxInputBytes: positive(limits.maxInputBytes, 'limits.maxInputBytes', 20_000_000),
      maxInputPixels: positive(limits.maxInputPixels, 'limits.maxInputPixels', 50_000_000),
    }),
    engine: Object.freeze({
      host: typeof engine.host === 'string' ? engine.host : '127.0.0.1',
      port: port as number,
      token: typeof engine.token === 'string' ? engine.token : null,
      allowedHosts: Object.freeze([...(allowedHosts as string[])]),
      models: Array.isArray(engine.models) ? engine.models.map((m) => String(m)) : null,
      maxBatch: positive(engine.maxBatch, 'engine.maxBatch', 8),
      maxQueued: positive(engine.maxQueued, 'engine.maxQueued', 200),
      maxQueuedPerOwner: positive(engine.maxQueuedPerOwner, 'engine.maxQueuedPerOwner', 5),
      maxRunningPerOwner: positive(engine.maxRunningPerOwner, 'engine.maxRunningPerOwner', 2),
      jobTimeoutMs: positive(engine.jobTimeoutMs, 'engine.jobTimeoutMs', 600_000),
      cacheMaxBytes: positive(engine.cacheMaxBytes, 'engine.cacheMaxBytes', 200_000_000),
      drainMs: positive(engine.drainMs, 'engine.drainMs', 30_000),
      previewEvery: positive(engine.previewEvery, 'engine.previewEvery', 5),
      finishedJobTtlMs: positive(engine.finishedJobTtlMs, 'engine.finishedJobTtlMs', 600_000),
    }),
    discord: Object.freeze({
      token: optString(discord.token, 'discord.token'),
      appId: optString(discord.appId, 'discord.appId'),
      restApi: optString(discord.restApi, 'discord.restApi'),
      cdnHosts: Object.freeze([...(cdnHosts as string[])]),
      engineUrl: optString(discord.engineUrl, 'discord.engineUrl'),
    }),
    slack: Object.freeze({
      botToken: optString(slack.botToken, 'slack.botToken'),
      signingSecret: optString(slack.signingSecret, 'slack.signingSecret'),
      appToken: optString(slack.appToken, 'slack.appToken'),
      apiUrl: optString(slack.apiUrl, 'slack.apiUrl'),
      fileHosts: Object.freeze([...(fileHosts as string[])]),
      port: slackPort as number,
      host: slackHost as string,
      recentImageWindowMs: positive(slack.recentImageWindowMs, 'slack.recentImageWindowMs', 3_600_000),
      engineUrl: optString(slack.engineUrl, 'slack.engineUrl'),
    }),
  });
}
