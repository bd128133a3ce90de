/**
 * Configuration is read once, at start-up: config/default.json, then config/local.json (if present, for a
 * host's own settings), then the environment. The result is a frozen object passed down; nothing deeper
 * reads process.env.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';

export type ExecutionProviderSetting = 'auto' | 'cpu' | 'cuda';

export interface AppConfig {
  /** The folder the relative paths below are resolved against. */
  readonly root: string;
  readonly dataDir: string;
  readonly modelsDir: string;
  /** Model id used when a request names none; null picks the first installed model. */
  readonly defaultModel: string | null;
  readonly executionProvider: ExecutionProviderSetting;
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error';
  readonly storage: { readonly path: string; readonly busyTimeoutMs: number };
  readonly limits: { readonly maxInputBytes: number; readonly maxInputPixels: number };
  readonly engine: { readonly host: string; readonly port: number; readonly token: string | null };
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
  if (env.ASYRP_LOG_LEVEL) o.logLevel = env.ASYRP_LOG_LEVEL;
  if (env.ASYRP_DB) o.storage = { path: env.ASYRP_DB };
  const engine: Json = {};
  if (env.ASYRP_ENGINE_HOST) engine.host = env.ASYRP_ENGINE_HOST;
  const port = num('ASYRP_ENGINE_PORT');
  if (port !== undefined) engine.port = port;
  if (env.ASYRP_ENGINE_TOKEN) engine.token = env.ASYRP_ENGINE_TOKEN;
  if (Object.keys(engine).length) o.engine = engine;
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
  const ep = raw.executionProvider ?? 'auto';
  check(ep === 'auto' || ep === 'cpu' || ep === 'cuda', 'executionProvider', '"auto", "cpu" or "cuda"', ep);
  const logLevel = raw.logLevel ?? 'info';
  check(['debug', 'info', 'warn', 'error'].includes(logLevel as string), 'logLevel', 'debug|info|warn|error', logLevel);
  const positive = (v: unknown, field: string, dflt: number) => {
    const n = v ?? dflt;
    check(typeof n === 'number' && Number.isFinite(n) && n > 0, field, 'a positive number', n);
    return n as number;
  };
  check(raw.defaultModel === null || raw.defaultModel === undefined || typeof raw.defaultModel === 'string', 'defaultModel', 'a model id or null', raw.defaultModel);
  const port = positive(engine.port, 'engine.port', 7860);
  check(Number.isInteger(port) && port < 65536, 'engine.port', 'a TCP port', port);

  return Object.freeze({
    root,
    dataDir: abs(raw.dataDir ?? 'data', 'dataDir'),
    modelsDir: abs(raw.modelsDir ?? 'models', 'modelsDir'),
    defaultModel: (raw.defaultModel as string | null | undefined) ?? null,
    executionProvider: ep as ExecutionProviderSetting,
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
      port,
      token: typeof engine.token === 'string' ? engine.token : null,
    }),
  });
}
