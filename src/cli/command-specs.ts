/**
 * What every `asyrp` command accepts, as data: dispatch renders `--help` and usage from it, and the
 * commands parse their flags with it, so help and parsing cannot drift apart. A new command adds an entry
 * here (and a loader in main.ts); a command without an entry still runs, with a one-line help.
 */
import type { CommandSpec } from './help.js';

const model = { type: 'string', value: '<id|dir>', help: 'the model package (default: the configured default model)' } as const;
const json = { type: 'boolean', help: 'print the result as JSON' } as const;

export const EDIT = {
  summary: 'Edit an image with a recipe and write the result.',
  usage: '<image> <recipe...> [options]',
  description:
    'The recipe is the same text as in the chat bots: directions with optional strengths and options,\n' +
    'e.g. "smile strength:0.8", "smile:0.8 glasses:-0.5", "smile 1.2 steps:50 seed:7". No direction\n' +
    'reconstructs the image unedited. Face models find, align and edit faces, then paste them back.',
  flags: {
    model,
    out: { type: 'string', short: 'o', value: '<file.png>', help: 'where to write the result (default: <image>.asyrp.png)' },
    compare: { type: 'string', value: '<file.png>', help: 'also write before | after side by side' },
    size: { type: 'string', value: '<N>', help: 'output size in pixels, 8-4096 (default: the model resolution)' },
    json,
    face: { type: 'string', value: '<N>', help: 'which face to edit, 0 (the largest) to 31 (face models)' },
    'face-crop': { type: 'boolean', help: 'write the aligned face crop instead of the whole photo (face models)' },
  },
  examples: ['asyrp edit models/toyfaces-32/samples/face-1.png smile strength:0.8 --compare before-after.png'],
} as const satisfies CommandSpec;

export const MODELS_ADD = {
  summary: 'Download, convert, check and install an official backbone and its released directions.',
  usage: '<id> [options]',
  description:
    'Downloads the checkpoint from the built-in sources (config/model-sources.json; mirrors in order,\n' +
    'an interrupted download resumes), converts it with tools/convert_checkpoint.py (Python 3 with\n' +
    "Debian's PyTorch), converts the released directions from the pinned Asyrp commit, runs a smoke edit,\n" +
    'and only then puts the package in models/. `asyrp models` lists the ids. Details: docs/models.md.',
  flags: {
    from: { type: 'string', value: '<url|file>', help: 'your own copy of the checkpoint instead of the built-in sources' },
    fp16: { type: 'boolean', help: 'fp16 weights (the default on a CUDA host)' },
    fp32: { type: 'boolean', help: 'fp32 weights even on a CUDA host' },
    directions: { type: 'string', value: '<all|none|name,...>', help: 'which released directions to install (default all)' },
    calibration: { type: 'string', value: '<N>', help: 'calibration trajectories per direction, 1-256 (default 8)' },
    force: { type: 'boolean', help: 'replace an installed package of the same id' },
    'keep-download': { type: 'boolean', help: 'keep the downloaded checkpoint in <dataDir>/downloads' },
    json,
  },
  examples: ['asyrp models add celeba-hq', 'asyrp models add afhq-dog --from ~/Downloads/afhq_dog_4m.pt --directions happy,sleepy'],
} as const satisfies CommandSpec;

export const MODELS_REMOVE = {
  summary: 'Remove an installed model package.',
  usage: '<id>',
  flags: {},
} as const satisfies CommandSpec;

export const MODELS = {
  summary: 'List the installed models and the official ones that can be added; add or remove one.',
  usage: '[--json]',
  flags: { json },
  subcommands: { add: MODELS_ADD, remove: MODELS_REMOVE },
} as const satisfies CommandSpec;

export const DOCTOR = {
  summary: 'What to include when asking for help: versions, GPU providers, Python tools, models, disk, configuration.',
  usage: '[--json]',
  description: 'Secrets (tokens, signing secrets) are shown only as set or unset.',
  flags: { json },
} as const satisfies CommandSpec;

export const DIRECTIONS_LEARN = {
  summary: 'Learn a direction from example images (inference only) and install it.',
  usage: '<name> --positive <folder|files> --negative <folder|files> [options]',
  description: 'Examples with the attribute (--positive) and without it (--negative); folders or comma-separated files.',
  flags: {
    model,
    positive: { type: 'string', value: '<folder|files>', help: 'images that show the attribute' },
    negative: { type: 'string', value: '<folder|files>', help: 'images that do not' },
    pairs: { type: 'boolean', help: 'the examples are matched pairs (the same face with and without), in name order' },
    steps: { type: 'string', value: '<N>', help: 'DDIM steps to learn over, 2-1000 (default: the model\'s generation steps)' },
    description: { type: 'string', value: '<text>', help: 'what the direction does, stored in its metadata' },
    force: { type: 'boolean', help: 'replace a direction of the same name' },
    json,
  },
} as const satisfies CommandSpec;

export const DIRECTIONS = {
  summary: 'List the directions installed for a model; learn a new one.',
  usage: '[--model <id|dir>] [--json]',
  flags: { model, json },
  subcommands: { learn: DIRECTIONS_LEARN },
} as const satisfies CommandSpec;

export const EVAL = {
  summary: "Measure a direction on held-out faces: against their rendered twins where the faces have them, and with the model's attribute reader.",
  usage: '--direction <name|recipe> [options]',
  description: 'Success, preservation and pixel change per strength; definitions in docs/quality.md.',
  flags: {
    model,
    direction: { type: 'string', value: '<name|recipe>', help: 'the direction or recipe to measure' },
    n: { type: 'string', value: '<N>', help: 'how many faces, 1-10000 (default 100)' },
    skip: { type: 'string', value: '<K>', help: 'start after the first K faces (default 0)' },
    faces: { type: 'string', value: '<folder>', help: 'a labelled face folder instead of the model\'s eval set (which the first run renders into the data folder)' },
    target: { type: 'string', value: '<direction=attr:value,...>', help: 'the target of a direction without an evalTarget' },
    strengths: { type: 'string', value: '<s,...>', help: 'strengths to measure, -3..3 (default 0.25,0.5,1,1.5)' },
    batch: { type: 'string', value: '<N>', help: 'faces per engine batch (default 16)' },
    reader: { type: 'string', value: '<file.onnx>', help: 'judge with another reader of the same outputs' },
    by: { type: 'string', value: '<label,...>', help: 'also count per value of these face labels' },
    save: { type: 'string', value: '<folder>', help: 'write every judged edit there as PNG (strength-<s>[-plain]/<face>.png)' },
    json,
  },
} as const satisfies CommandSpec;

export const GENERATE = {
  summary: 'Sample from noise, count the samples read as faces, and draw a grid.',
  usage: '[options]',
  flags: {
    model,
    n: { type: 'string', value: '<N>', help: 'samples, 1-10000 (default 100)' },
    steps: { type: 'string', value: '<N>', help: 'DDIM steps, 2-1000 (default 40)' },
    seed: { type: 'string', value: '<S>', help: 'seed of the first sample; sample k uses S + k (default 0)' },
    out: { type: 'string', short: 'o', value: '<grid.png>', help: 'write the grid of samples' },
    batch: { type: 'string', value: '<N>', help: 'samples per engine batch, 1-256 (default 16)' },
    json,
  },
} as const satisfies CommandSpec;

export const BENCH_SERVICE = {
  summary: 'Edits per minute through the engine service, one at a time against batched.',
  usage: '[options]',
  flags: {
    model,
    steps: { type: 'string', value: '<N>', help: 'steps per edit, 2-1000' },
    concurrency: { type: 'string', value: '<n,...>', help: 'jobs in flight, 1-64 each (default 1,4,16)' },
    json,
  },
} as const satisfies CommandSpec;

export const BENCH_LOAD = {
  summary: 'Does the engine keep listening while it computes? Health and submit latency under load, inline against the inference worker.',
  usage: '[options]',
  flags: {
    model,
    steps: { type: 'string', value: '<N>', help: 'steps per edit, 2-1000 (default 10)' },
    window: { type: 'string', value: '<s>', help: 'seconds measured per variant, 10-600 (default 40)' },
    burst: { type: 'string', value: '<N>', help: 'submissions in the burst (default 500)' },
    owners: { type: 'string', value: '<N>', help: 'owners the burst comes from (default 20)' },
    variants: { type: 'string', value: '<list>', help: 'which to run, comma-separated: inline, worker, worker-nice0, ort-default, floor (a bare HTTP server under the same burst, no engine), worker-json (base64 JSON bodies instead of multipart; default all but worker-json)' },
    repeat: { type: 'string', value: '<N>', help: 'rounds of the variants, interleaved (the order reversed every other round), 1-20 (default 1)' },
    json,
  },
} as const satisfies CommandSpec;

export const BENCH = {
  summary: 'Benchmark the engine on one model (UNet calls, inversion, a full edit).',
  usage: '[options]',
  flags: {
    model,
    batch: { type: 'string', value: '<B>', help: 'batch size, 1-1000 (default 4)' },
    repeat: { type: 'string', value: '<N>', help: 'runs per measurement, the median is reported (default 5)' },
    steps: { type: 'string', value: '<N>', help: 'steps per edit, 1-1000' },
    json,
  },
  subcommands: { service: BENCH_SERVICE, load: BENCH_LOAD },
} as const satisfies CommandSpec;

export const DISCORD_DEPLOY = {
  summary: 'Register the slash commands with Discord (needs DISCORD_TOKEN and DISCORD_APP_ID).',
  usage: '[--guild <id>]',
  flags: { guild: { type: 'string', value: '<id>', help: 'register in one server (instant) instead of globally' } },
} as const satisfies CommandSpec;

export const DISCORD = {
  summary: 'Run the Discord bot (needs DISCORD_TOKEN and a running engine).',
  usage: '[--no-message-content]',
  description: 'Setup step by step: docs/discord.md.',
  flags: {
    guild: DISCORD_DEPLOY.flags.guild,
    'no-message-content': { type: 'boolean', help: 'run without the Message Content intent (reactions and text triggers off)' },
  },
  subcommands: { 'deploy-commands': DISCORD_DEPLOY },
} as const satisfies CommandSpec;

export const SLACK = {
  summary: 'Run the Slack app: HTTP with SLACK_SIGNING_SECRET, or Socket Mode with SLACK_APP_TOKEN.',
  usage: '',
  description: 'Needs SLACK_BOT_TOKEN and a running engine. Setup step by step: docs/slack.md.',
  flags: {},
} as const satisfies CommandSpec;

export const START = {
  summary: 'Run the engine and every bot whose credentials are configured, each in its own process.',
  usage: '',
  flags: {},
} as const satisfies CommandSpec;

export const ENGINE = {
  summary: 'Run the engine service (HTTP API and worker) on the configured models.',
  usage: '',
  description:
    'Listens on engine.host:engine.port (default 127.0.0.1:7860); API in docs/engine-api.md. With ASYRP_QUEUE=redis and ASYRP_REDIS_URL, ' +
    'several processes share one queue: --role api (the HTTP API, no models), worker (the models, no API) or both (docs/scaling.md).',
  flags: {
    role: { type: 'string', value: 'api|worker|both', help: 'with engine.queue "redis": which half of the engine this process runs (default engine.role, ASYRP_ENGINE_ROLE)' },
  },
} as const satisfies CommandSpec;

const force = { type: 'boolean', help: 'replace an existing file' } as const;

export const DB = {
  summary: 'Database upkeep: migrate, back up, restore, check.',
  description: 'Works on the configured database (storage.path, ASYRP_DB). Details: docs/storage.md.',
  flags: { force },
  subcommands: {
    migrate: { summary: 'Apply pending schema migrations.', usage: '', flags: {} },
    backup: { summary: 'Copy the live database to a file, checked for integrity.', usage: '<file> [--force]', flags: { force } },
    restore: {
      summary: 'Replace the database with a backup (stop the bot first).',
      usage: '<file> --force',
      flags: { force: { type: 'boolean', help: 'confirm that the live database is replaced' } },
    },
    check: { summary: 'Report the schema version and any integrity problems (exit 1 if any).', usage: '', flags: {} },
  },
} as const satisfies CommandSpec;

/** By command name, in the order `asyrp --help` lists them. */
export const COMMAND_SPECS: Readonly<Record<string, CommandSpec>> = {
  edit: EDIT,
  models: MODELS,
  directions: DIRECTIONS,
  eval: EVAL,
  generate: GENERATE,
  bench: BENCH,
  discord: DISCORD,
  slack: SLACK,
  start: START,
  engine: ENGINE,
  db: DB,
  doctor: DOCTOR,
};
