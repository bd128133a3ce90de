/**
 * Every setting's default, in one place. config/local.json and the environment override these; the
 * loader checks the result. Secrets have no defaults: they are read apart (secrets.ts).
 */
export const DEFAULTS = {
  dataDir: 'data',
  modelsDir: 'models',
  /** null: the first installed model. */
  defaultModel: null,
  executionProvider: 'auto',
  python: '/usr/bin/python3',
  modelSources: 'config/model-sources.json',
  logLevel: 'info',
  storage: { path: 'data/asyrp.db', busyTimeoutMs: 5000, botSynchronous: 'normal' },
  limits: { maxInputBytes: 20_000_000, maxInputPixels: 50_000_000 },
  engine: {
    host: '127.0.0.1',
    port: 7860,
    /** Host names answered besides loopback names and `host`. */
    allowedHosts: [],
    /** null: every installed model. */
    models: null,
    maxBatch: 8,
    maxQueued: 200,
    maxQueuedPerOwner: 5,
    maxRunningPerOwner: 2,
    jobTimeoutMs: 600_000,
    cacheMaxBytes: 200_000_000,
    drainMs: 30_000,
    previewEvery: 5,
    finishedJobTtlMs: 600_000,
    /** 'worker': ONNX graphs run in the inference worker thread; 'inline': on the main thread (the old path). */
    inference: 'worker',
    /** onnxruntime intraOpNumThreads; null: the cores this process may use; 0: onnxruntime's own default. */
    intraOpThreads: null,
    /** Scheduling nice value of the inference worker thread and onnxruntime's threads (Linux), 0 = as the API. */
    inferenceNice: 10,
    /** 'local': the in-process queue; 'redis': BullMQ on Redis (docs/scaling.md), with ASYRP_REDIS_URL. */
    queue: 'local',
    /** With queue 'redis': 'api' (HTTP API, no models), 'worker' (models, no API) or 'both'. */
    role: 'both',
    /** The Redis scale-out (src/engine/cluster/contract.ts, ClusterSettings, holds the meaning of each). */
    cluster: {
      prefix: 'asyrp',
      blobTtlSeconds: 86_400,
      maxBlobBytes: 16_777_216,
      lockDurationMs: 30_000,
      maxAttempts: 3,
      heartbeatMs: 5_000,
      progressMinIntervalMs: 250,
    },
  },
  discord: {
    appId: null,
    restApi: null,
    cdnHosts: ['cdn.discordapp.com', 'media.discordapp.net'],
    engineUrl: null,
  },
  bots: {
    /** Results with a smaller long side (px) are posted enlarged to it, the original attached; 0 = off. */
    displaySize: 512,
  },
  slack: {
    host: '127.0.0.1',
    apiUrl: null,
    fileHosts: ['files.slack.com'],
    port: 3000,
    recentImageWindowMs: 3_600_000,
    engineUrl: null,
  },
} as const;
