import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// The layer graph (docs/architecture.md), enforced here. Two kinds of rule share ESLint's one
// no-restricted-imports setting per file:
// - vendors: each of these packages may be imported only from the one folder that wraps it;
// - layers: which of our own folders a folder may import.
// A flat-config entry replaces the rule for the files it matches, so every entry builds the whole rule
// from both lists, and the most specific entries come last.
const VENDORS = [
  { name: 'onnxruntime-node', message: 'Only src/engine/onnx may import onnxruntime-node.' },
  { name: 'sharp', message: 'Only src/engine/image may import sharp.' },
  { name: 'better-sqlite3', message: 'Only src/storage may import better-sqlite3.' },
  { name: 'discord.js', message: 'Only src/bots/discord may import discord.js.' },
  { name: '@slack/bolt', message: 'Only src/bots/slack may import @slack/bolt.' },
  { name: 'pino', message: 'Only src/log may import pino; log through its Logger.' },
  { name: 'prom-client', message: 'Only src/engine/service/metrics.ts may import prom-client.' },
  { name: 'commander', message: 'Only src/cli/parse-args.ts may import commander.' },
  { name: 'bullmq', message: 'Only src/engine/cluster may import bullmq.' },
  { name: 'ioredis', message: 'Only src/engine/cluster may import ioredis.' },
];

// A layer rule is a regular expression over the import path as written (e.g. '../../engine/onnx/x.js').
const layer = (regex, message) => ({ regex, message });

// The engine's public entry, what runs outside the engine may see of it: engine/client (the HTTP client
// and API types), engine/errors, and engine/recipe, the recipe grammar that engine, storage, bots and CLI
// share as a kernel.
const ENGINE_PUBLIC_ONLY = '(^|/)engine/(?!client/|errors\\.js$|recipe/)';
const NO_BOTS = layer('(^|/)bots/', 'Only the CLI (the composition root) imports bots.');
const NO_CLI = layer('(^|/)cli/', 'Nothing imports the CLI.');
const STORAGE_ENTRY = layer('(^|/)storage/(?!index\\.js$)', 'Import storage through src/storage/index.js.');
const NO_CONFIG = (who) => layer('(^|/)config/', `${who} takes plain values, not the app config (src/config is read once by the entry points).`);

const LAYERS = {
  // Engine core (everything in src/engine but the service and its client): the diffusion math, models,
  // directions, pipeline, eval. It knows nothing of the service that schedules it, of storage, or of its callers.
  engineCore: [
    NO_BOTS,
    NO_CLI,
    layer('(^|/)service/', 'Engine core never imports the engine service; the service drives the core.'),
    layer('(^|/)client/', 'Engine core never imports the HTTP client or its API types (they belong to the service edge).'),
    layer('(^|/)storage/', 'Engine core never imports storage.'),
    NO_CONFIG('Engine core'),
  ],
  // The service hosts the core: it may use storage (through its entry) and the API types it serves.
  engineService: [NO_BOTS, NO_CLI, STORAGE_ENTRY],
  // The client is what the bots and the CLI hold: HTTP and the API types, which name the engine's error codes.
  engineClient: [layer('^\\.\\./(?!errors\\.js$)', 'The engine client depends on its API types and engine/errors only.')],
  // The recipe grammar and the engine's errors are the shared kernel: they depend on nothing else.
  recipeKernel: [layer('^\\.\\./(?!errors\\.js$)', 'The recipe grammar depends on engine/errors only.')],
  engineErrors: [layer('^\\.', 'engine/errors depends on nothing.')],
  storage: [
    NO_BOTS,
    NO_CLI,
    layer('(^|/)engine/(?!recipe/)', 'Storage imports no engine; only the recipe grammar (the shared kernel).'),
    NO_CONFIG('Storage'),
  ],
  bots: [NO_CLI, STORAGE_ENTRY, layer(ENGINE_PUBLIC_ONLY, 'Bots reach the engine only through its public entry: engine/client, engine/errors, engine/recipe.')],
  cli: [STORAGE_ENTRY, layer(ENGINE_PUBLIC_ONLY, 'The CLI reaches the engine only through its public entry (engine/client, engine/errors, engine/recipe); the commands that run the engine in-process are listed in eslint.config.js.')],
  config: [NO_BOTS, NO_CLI, layer('(^|/)(engine|storage)/', 'Config is read first and depends on nothing of ours.')],
  // The logger is a leaf every layer may use: it depends on nothing of ours.
  log: [layer('^\\.\\./', 'src/log depends on nothing else of ours.')],
  // Installing models: downloads, the Python converters, staging. It takes plain values; the CLI that
  // calls it runs the engine (the smoke edit) and passes the result in.
  modelsInstall: [NO_BOTS, NO_CLI, layer('(^|/)(engine|storage|config)/', 'models-install takes plain values and runs the Python tools; the CLI runs the engine for it.')],
};

const restrict = (layers, ...allowedVendors) => ({
  'no-restricted-imports': ['error', { paths: VENDORS.filter((v) => !allowedVendors.includes(v.name)), patterns: layers }],
});

// Today's exceptions, each a known debt rather than a rule. Remove an entry when its file stops needing it.
const EXCEPTIONS = [
  // Storage validation maps a recipe parse failure (an EngineError) to its own error; the recipe kernel
  // should get its own error type so that storage needs no engine errors.
  {
    files: ['src/storage/validation.ts'],
    rules: restrict([NO_BOTS, NO_CLI, layer('(^|/)engine/(?!recipe/|errors\\.js$)', 'Storage imports no engine; only the recipe grammar.')], 'better-sqlite3'),
  },
  // Commands that run the engine in this process (edit, eval, generate, learn, bench, listings) host the
  // engine as the service does, so they reach its internals; vendors stay behind their wrappers. They
  // should move behind one in-process engine entry.
  {
    files: [
      'src/cli/open-model.ts',
      'src/cli/progress-bar.ts',
      'src/cli/commands/bench.ts',
      'src/cli/commands/bench-service.ts',
      'src/cli/commands/bench-load.ts',
      'src/cli/bench-load-engine.ts',
      'src/cli/commands/directions.ts',
      'src/cli/commands/directions-learn.ts',
      'src/cli/commands/edit.ts',
      'src/cli/commands/engine.ts',
      'src/cli/commands/eval.ts',
      'src/cli/commands/generate.ts',
      'src/cli/commands/models.ts',
      'src/cli/commands/models-add.ts',
      'src/cli/commands/doctor.ts',
    ],
    rules: restrict([STORAGE_ENTRY]),
  },
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'tools/**', 'models/**'] },
  js.configs.recommended,
  {
    // Plain JavaScript entry points and scripts run on Node.
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly', Buffer: 'readonly', setTimeout: 'readonly' } },
  },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  { files: ['src/**/*.ts'], rules: restrict([]) },
  { files: ['src/engine/**/*.ts'], rules: restrict(LAYERS.engineCore) },
  { files: ['src/engine/onnx/**/*.ts'], rules: restrict(LAYERS.engineCore, 'onnxruntime-node') },
  { files: ['src/engine/image/**/*.ts'], rules: restrict(LAYERS.engineCore, 'sharp') },
  { files: ['src/engine/service/**/*.ts'], rules: restrict(LAYERS.engineService) },
  { files: ['src/engine/service/metrics.ts'], rules: restrict(LAYERS.engineService, 'prom-client') },
  // The Redis scale-out (docs/scaling.md) hosts the service on a worker and fronts it on an API node.
  { files: ['src/engine/cluster/**/*.ts'], rules: restrict(LAYERS.engineService, 'bullmq', 'ioredis') },
  // The client is the service's edge as seen from outside: it speaks HTTP and the API types, nothing else.
  { files: ['src/engine/client/**/*.ts'], rules: restrict(LAYERS.engineClient) },
  { files: ['src/engine/recipe/**/*.ts'], rules: restrict(LAYERS.recipeKernel) },
  { files: ['src/engine/errors.ts'], rules: restrict(LAYERS.engineErrors) },
  { files: ['src/storage/**/*.ts'], rules: restrict(LAYERS.storage, 'better-sqlite3') },
  { files: ['src/bots/**/*.ts'], rules: restrict(LAYERS.bots) },
  { files: ['src/bots/discord/**/*.ts'], rules: restrict(LAYERS.bots, 'discord.js') },
  { files: ['src/bots/slack/**/*.ts'], rules: restrict(LAYERS.bots, '@slack/bolt') },
  { files: ['src/cli/**/*.ts'], rules: restrict(LAYERS.cli) },
  { files: ['src/cli/parse-args.ts'], rules: restrict(LAYERS.cli, 'commander') },
  { files: ['src/config/**/*.ts'], rules: restrict(LAYERS.config) },
  { files: ['src/log/**/*.ts'], rules: restrict(LAYERS.log, 'pino') },
  { files: ['src/models-install/**/*.ts'], rules: restrict(LAYERS.modelsInstall) },
  ...EXCEPTIONS,
  {
    files: ['src/**/*.ts'],
    ignores: ['src/config/**', 'src/cli/main.ts'],
    rules: {
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'Read config once in src/config and pass it down.' }],
    },
  },
  { files: ['test/**/*.ts', 'bench/**/*.ts'], rules: { '@typescript-eslint/no-non-null-assertion': 'off' } },
);
