/**
 * Configuration is read once, at start-up: the defaults (defaults.ts, the only place they live), then
 * config/local.json (if present, for a host's own settings), then the environment, then overrides (tests,
 * command-line flags). The result is a frozen object passed down; nothing deeper reads process.env.
 * Secrets are read in the same pass but returned apart (secrets.ts), never inside the config object.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { ConfigError } from './config-error.js';
import { availableParallelism } from 'node:os';
import { DEFAULTS } from './defaults.js';
import { readSecrets, type Secrets } from './secrets.js';

export type ExecutionProviderSetting = 'auto' | 'cpu' | 'cuda' | 'webgpu';

/** Where the engine runs its ONNX graphs: a dedicated worker thread, or the main thread (the old path). */
export type InferenceSetting = 'worker' | 'inline';
export type LogLevelSetting = 'debug' | 'info' | 'warn' | 'error';
/** The engine's queue: in-process, or BullMQ on Redis shared by API nodes and GPU workers. */
export type QueueSetting = 'local' | 'redis';
/** What an engine process does with queue "redis": serve the API, run the models, or both. */
export type EngineRoleSetting = 'api' | 'worker' | 'both';

/** The Redis scale-out (docs/scaling.md); the same shape as ClusterSettings in src/engine/cluster/contract.ts. */
export interface ClusterConfig {
  /** Namespace of every Redis key, BullMQ's included. */
  readonly prefix: string;
  /** Inputs, results, previews and inversion-cache entries expire after this. */
  readonly blobTtlSeconds: number;
  /** The largest blob Redis is asked to hold. */
  readonly maxBlobBytes: number;
  /** A worker silent for this long is taken as dead; its job is retried elsewhere. */
  readonly lockDurationMs: number;
  /** Starts of one job before it ends failed with INTERRUPTED. */
  readonly maxAttempts: number;
  readonly heartbeatMs: number;
  readonly progressMinIntervalMs: number;
}

export interface EngineServiceConfig {
  readonly host: string;
  readonly port: number;
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
  /** 'worker' (default): UNet, face detector and attribute reader run off the event loop. 'inline': the old path, the benchmark's baseline. */
  readonly inference: InferenceSetting;
  /**
   * onnxruntime intraOpNumThreads for every graph; 0 leaves it to onnxruntime. Default: the cores this
   * process may use (os.availableParallelism()); onnxruntime's own default ran like one thread on a
   * 2-core host (docs/benchmarks.md, "Inference worker").
   */
  readonly intraOpThreads: number;
  /**
   * The nice value (0-19) of the inference worker thread and of the onnxruntime threads it starts, so the
   * API thread wins the CPU when it wants it (Linux sets nice per thread; 0 = the same as the API; the
   * inline path and other systems ignore it). docs/benchmarks.md, "Inference worker".
   */
  readonly inferenceNice: number;
  /** 'local' (default): today's in-process queue. 'redis': BullMQ on Redis at ASYRP_REDIS_URL (a secret). */
  readonly queue: QueueSetting;
  /** With queue 'redis': which half of the engine this process runs; ignored with 'local'. */
  readonly role: EngineRoleSetting;
  readonly cluster: ClusterConfig;
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
  readonly logLevel: LogLevelSetting;
  /** botSynchronous: the SQLite synchronous level of the bots' connection (docs/storage.md). */
  readonly storage: { readonly path: string; readonly busyTimeoutMs: number; readonly botSynchronous: 'full' | 'normal' };
  readonly limits: { readonly maxInputBytes: number; readonly maxInputPixels: number };
  readonly engine: EngineServiceConfig;
  readonly discord: DiscordConfig;
  readonly slack: SlackConfig;
  readonly bots: BotsConfig;
}

/** What both chat bots share. */
export interface BotsConfig {
  /**
   * Results (and before/after and sweep grids) whose long side is under this many pixels are posted
   * enlarged to it, with the model-resolution original attached: a 32 px edit is a speck in a chat client.
   */
  readonly displaySize: number;
}

/** The Slack app (#8); its tokens and signing secret are in Secrets. */
export interface SlackConfig {
  /**
   * Listen address for HTTP mode. Default 127.0.0.1: Slack only calls HTTPS URLs, so a TLS reverse proxy
   * (or tunnel) on this host forwards to the bot, and nothing else needs to reach its plain-HTTP port.
   */
  readonly host: string;
  /** Web API base URL (tests point it at a fake on loopback); null: https://slack.com/api/. */
  readonly apiUrl: string | null;
  /** Hosts files may be downloaded from (with the bot token). */
  readonly fileHosts: readonly string[];
  /** HTTP port for signed requests (POST /slack/events). */
  readonly port: number;
  /** How far back `/asyrp` looks for the person's latest image in the channel. */
  readonly recentImageWindowMs: number;
  /** Engine base URL for the bot; null: http://engine.host:engine.port. */
  readonly engineUrl: string | null;
}

/** The Discord bot (#7); its token is in Secrets. */
export interface DiscordConfig {
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
    throw new ConfigError('FILE_UNREADABLE', path, `config: cannot read ${path}: ${(e as Error).message}`);
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
    if (!Number.isFinite(n)) throw new ConfigError('INVALID_VALUE', name, `config: ${name} must be a number, got "${v}"`);
    return n;
  };
  const hosts = (v: string) => v.split(',').map((h) => h.trim()).filter(Boolean);
  if (env.ASYRP_DATA_DIR) o.dataDir = env.ASYRP_DATA_DIR;
  if (env.ASYRP_MODELS_DIR) o.modelsDir = env.ASYRP_MODELS_DIR;
  if (env.ASYRP_DEFAULT_MODEL) o.defaultModel = env.ASYRP_DEFAULT_MODEL;
  if (env.ASYRP_EXECUTION_PROVIDER) o.executionProvider = env.ASYRP_EXECUTION_PROVIDER;
  if (env.ASYRP_PYTHON) o.python = env.ASYRP_PYTHON;
  if (env.ASYRP_MODEL_SOURCES) o.modelSources = env.ASYRP_MODEL_SOURCES;
  if (env.ASYRP_LOG_LEVEL) o.logLevel = env.ASYRP_LOG_LEVEL;
  if (env.ASYRP_DB) o.storage = { path: env.ASYRP_DB };
  const displaySize = num('ASYRP_DISPLAY_SIZE');
  if (displaySize !== undefined) o.bots = { displaySize };
  const engine: Json = {};
  if (env.ASYRP_ENGINE_HOST) engine.host = env.ASYRP_ENGINE_HOST;
  const port = num('ASYRP_ENGINE_PORT');
  if (port !== undefined) engine.port = port;
  if (env.ASYRP_ENGINE_ALLOWED_HOSTS) engine.allowedHosts = hosts(env.ASYRP_ENGINE_ALLOWED_HOSTS);
  if (env.ASYRP_INFERENCE) engine.inference = env.ASYRP_INFERENCE;
  const intraOp = num('ASYRP_INTRA_OP_THREADS');
  if (intraOp !== undefined) engine.intraOpThreads = intraOp;
  const inferenceNice = num('ASYRP_INFERENCE_NICE');
  if (inferenceNice !== undefined) engine.inferenceNice = inferenceNice;
  if (env.ASYRP_QUEUE) engine.queue = env.ASYRP_QUEUE;
  if (env.ASYRP_ENGINE_ROLE) engine.role = env.ASYRP_ENGINE_ROLE;
  if (Object.keys(engine).length) o.engine = engine;
  const discord: Json = {};
  if (env.DISCORD_APP_ID) discord.appId = env.DISCORD_APP_ID;
  if (env.DISCORD_REST_API) discord.restApi = env.DISCORD_REST_API;
  if (env.DISCORD_CDN_HOSTS) discord.cdnHosts = hosts(env.DISCORD_CDN_HOSTS);
  if (env.ASYRP_ENGINE_URL) discord.engineUrl = env.ASYRP_ENGINE_URL;
  if (Object.keys(discord).length) o.discord = discord;
  const slack: Json = {};
  if (env.SLACK_API_URL) slack.apiUrl = env.SLACK_API_URL;
  if (env.SLACK_HOST) slack.host = env.SLACK_HOST;
  if (env.SLACK_FILE_HOSTS) slack.fileHosts = hosts(env.SLACK_FILE_HOSTS);
  const slackPort = num('SLACK_PORT');
  if (slackPort !== undefined) slack.port = slackPort;
  if (env.ASYRP_ENGINE_URL) slack.engineUrl = env.ASYRP_ENGINE_URL;
  if (Object.keys(slack).length) o.slack = slack;
  return o;
}

// Where a secret used to sit in the config object; a file that still puts one there is told where it goes.
const MOVED_SECRETS: readonly [string, string, string][] = [
  ['engine', 'token', 'engineToken'],
  ['discord', 'token', 'discordToken'],
  ['slack', 'botToken', 'slackBotToken'],
  ['slack', 'signingSecret', 'slackSigningSecret'],
  ['slack', 'appToken', 'slackAppToken'],
];

function check(cond: boolean, field: string, expected: string, value: unknown): void {
  if (!cond) throw new ConfigError('INVALID_VALUE', field, `config: "${field}" must be ${expected}; got ${JSON.stringify(value)}`);
}

export interface LoadConfigOptions {
  /** Project root holding config/; defaults to the current directory. */
  readonly root?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Values applied last (tests, command-line flags). */
  readonly overrides?: Json;
  /** Secrets applied last (tests). */
  readonly secrets?: Partial<Secrets>;
}

/** The configuration and the secrets, read together once. */
export function loadSettings(options: LoadConfigOptions = {}): { config: AppConfig; secrets: Secrets } {
  const root = resolve(options.root ?? process.cwd());
  const env = options.env ?? process.env;
  const localPath = join(root, 'config', 'local.json');
  const local = existsSync(localPath) ? readJson(localPath) : {};
  const { secrets: fileSecrets, ...localSettings } = local;
  let raw: Json = merge(DEFAULTS as unknown as Json, localSettings);
  raw = merge(raw, envOverrides(env));
  if (options.overrides) raw = merge(raw, options.overrides);
  for (const [section, key, secret] of MOVED_SECRETS) {
    const v = (raw[section] as Json | undefined)?.[key];
    if (v !== undefined && v !== null) {
      throw new ConfigError('INVALID_VALUE', `${section}.${key}`, `config: "${section}.${key}" is a secret: set it in the environment or as "secrets.${secret}" in config/local.json`);
    }
  }
  return { config: validate(root, raw), secrets: readSecrets(fileSecrets, env, options.secrets) };
}

/** The configuration alone (tools and tests that need no secrets). */
export function loadConfig(options: LoadConfigOptions = {}): AppConfig {
  return loadSettings(options).config;
}

function validate(root: string, raw: Json): AppConfig {
  const storage = raw.storage as Json;
  const limits = raw.limits as Json;
  const engine = raw.engine as Json;
  const discord = raw.discord as Json;
  const cluster = engine.cluster as Json;
  const slack = raw.slack as Json;
  const bots = raw.bots as Json;
  const path = (p: unknown, field: string): string => {
    check(typeof p === 'string' && p.length > 0, field, 'a path', p);
    return isAbsolute(p as string) ? (p as string) : join(root, p as string);
  };
  const optString = (v: unknown, field: string) => {
    check(v === null || (typeof v === 'string' && v.length > 0), field, 'a string or null', v);
    return v as string | null;
  };
  const hostList = (v: unknown, field: string) => {
    check(Array.isArray(v) && v.every((h) => typeof h === 'string' && h.length > 0), field, 'a list of host names', v);
    return Object.freeze([...(v as string[])]);
  };
  const tcpPort = (v: unknown, field: string) => {
    // 0 asks the operating system for a free port (tests).
    check(typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < 65536, field, 'a TCP port (0 = any free port)', v);
    return v as number;
  };
  const positive = (v: unknown, field: string) => {
    check(typeof v === 'number' && Number.isFinite(v) && v > 0, field, 'a positive number', v);
    return v as number;
  };
  const whole = (v: unknown, field: string, min: number, max: number) => {
    check(typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max, field, `a whole number from ${min} to ${max}`, v);
    return v as number;
  };
  const oneOf = <T extends string>(v: unknown, field: string, allowed: readonly T[]) => {
    check(allowed.includes(v as T), field, allowed.map((a) => `"${a}"`).join(', '), v);
    return v as T;
  };
  check(engine.models === null || (Array.isArray(engine.models) && engine.models.every((m) => typeof m === 'string')), 'engine.models', 'a list of model ids or null', engine.models);
  check(typeof raw.python === 'string' && raw.python.length > 0, 'python', 'a command or path', raw.python);
  check(typeof engine.host === 'string' && engine.host.length > 0, 'engine.host', 'a host name or address', engine.host);
  const intraOpThreads = engine.intraOpThreads ?? availableParallelism();
  check(typeof intraOpThreads === 'number' && Number.isInteger(intraOpThreads) && intraOpThreads >= 0 && intraOpThreads <= 256, 'engine.intraOpThreads', 'a whole number of threads (0 = onnxruntime decides), or null for the cores this process may use', intraOpThreads);
  check(typeof slack.host === 'string' && slack.host.length > 0, 'slack.host', 'a listen address, such as 127.0.0.1 or 0.0.0.0', slack.host);
  // The prefix starts every Redis key (BullMQ's too), where ':' separates the parts.
  check(typeof cluster.prefix === 'string' && /^[A-Za-z0-9_.-]{1,40}$/.test(cluster.prefix), 'engine.cluster.prefix', 'letters, digits, _ . - (at most 40)', cluster.prefix);
  check(typeof bots.displaySize === 'number' && Number.isInteger(bots.displaySize) && bots.displaySize >= 0 && bots.displaySize <= 4096, 'bots.displaySize', 'a whole number of pixels from 0 (off) to 4096', bots.displaySize);

  return Object.freeze({
    root,
    dataDir: path(raw.dataDir, 'dataDir'),
    modelsDir: path(raw.modelsDir, 'modelsDir'),
    defaultModel: optString(raw.defaultModel, 'defaultModel'),
    executionProvider: oneOf(raw.executionProvider, 'executionProvider', ['auto', 'cpu', 'cuda', 'webgpu'] as const),
    python: raw.python as string,
    modelSources: path(raw.modelSources, 'modelSources'),
    logLevel: oneOf(raw.logLevel, 'logLevel', ['debug', 'info', 'warn', 'error'] as const),
    bots: Object.freeze({ displaySize: bots.displaySize as number }),
    storage: Object.freeze({
      path: path(storage.path, 'storage.path'),
      busyTimeoutMs: positive(storage.busyTimeoutMs, 'storage.busyTimeoutMs'),
      botSynchronous: oneOf(storage.botSynchronous, 'storage.botSynchronous', ['full', 'normal'] as const),
    }),
    limits: Object.freeze({ maxInputBytes: positive(limits.maxInputBytes, 'limits.maxInputBytes'), maxInputPixels: positive(limits.maxInputPixels, 'limits.maxInputPixels') }),
    engine: Object.freeze({
      host: engine.host as string,
      port: tcpPort(engine.port, 'engine.port'),
      allowedHosts: hostList(engine.allowedHosts, 'engine.allowedHosts'),
      models: engine.models === null ? null : Object.freeze([...(engine.models as string[])]),
      maxBatch: positive(engine.maxBatch, 'engine.maxBatch'),
      maxQueued: positive(engine.maxQueued, 'engine.maxQueued'),
      maxQueuedPerOwner: positive(engine.maxQueuedPerOwner, 'engine.maxQueuedPerOwner'),
      maxRunningPerOwner: positive(engine.maxRunningPerOwner, 'engine.maxRunningPerOwner'),
      jobTimeoutMs: positive(engine.jobTimeoutMs, 'engine.jobTimeoutMs'),
      cacheMaxBytes: positive(engine.cacheMaxBytes, 'engine.cacheMaxBytes'),
      drainMs: positive(engine.drainMs, 'engine.drainMs'),
      previewEvery: positive(engine.previewEvery, 'engine.previewEvery'),
      finishedJobTtlMs: positive(engine.finishedJobTtlMs, 'engine.finishedJobTtlMs'),
      inference: oneOf(engine.inference, 'engine.inference', ['worker', 'inline'] as const),
      intraOpThreads: intraOpThreads as number,
      inferenceNice: whole(engine.inferenceNice, 'engine.inferenceNice', 0, 19),
      queue: oneOf(engine.queue, 'engine.queue', ['local', 'redis'] as const),
      role: oneOf(engine.role, 'engine.role', ['api', 'worker', 'both'] as const),
      cluster: Object.freeze({
        prefix: cluster.prefix as string,
        blobTtlSeconds: whole(cluster.blobTtlSeconds, 'engine.cluster.blobTtlSeconds', 60, 30 * 86_400),
        // Redis' own limit for a string is 512 MB.
        maxBlobBytes: whole(cluster.maxBlobBytes, 'engine.cluster.maxBlobBytes', 1024, 512 * 1024 * 1024),
        lockDurationMs: whole(cluster.lockDurationMs, 'engine.cluster.lockDurationMs', 500, 600_000),
        maxAttempts: whole(cluster.maxAttempts, 'engine.cluster.maxAttempts', 1, 20),
        heartbeatMs: whole(cluster.heartbeatMs, 'engine.cluster.heartbeatMs', 100, 600_000),
        progressMinIntervalMs: whole(cluster.progressMinIntervalMs, 'engine.cluster.progressMinIntervalMs', 0, 60_000),
      }),
    }),
    discord: Object.freeze({
      appId: optString(discord.appId, 'discord.appId'),
      restApi: optString(discord.restApi, 'discord.restApi'),
      cdnHosts: hostList(discord.cdnHosts, 'discord.cdnHosts'),
      engineUrl: optString(discord.engineUrl, 'discord.engineUrl'),
    }),
    slack: Object.freeze({
      host: slack.host as string,
      apiUrl: optString(slack.apiUrl, 'slack.apiUrl'),
      fileHosts: hostList(slack.fileHosts, 'slack.fileHosts'),
      port: tcpPort(slack.port, 'slack.port'),
      recentImageWindowMs: positive(slack.recentImageWindowMs, 'slack.recentImageWindowMs'),
      engineUrl: optString(slack.engineUrl, 'slack.engineUrl'),
    }),
  });
}
