/**
 * The one logger of the servers and bots: pino, JSON lines with a level, a time and the bindings of
 * child loggers (component, job, interaction), human-readable on a terminal. Only this folder imports
 * pino; everything else sees the Logger type below.
 *
 *   const log = createLogger({ level: 'info', secrets: [token], destination: process.stderr });
 *   const jobLog = log.child({ job: id });   // every line of jobLog carries job=<id>
 */
import { pino } from 'pino';
import type { DestinationStream, Level, LevelWithSilent } from 'pino';
import { formatLine } from './pretty.js';
import { Redactor } from './redact.js';

/** What code that logs needs: levels, a message with optional fields, and child loggers with bindings. */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(bindings: Record<string, string | number>): Logger;
}

export type LogLevel = Exclude<LevelWithSilent, 'trace' | 'fatal'>;
export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent'];

export interface LoggerOptions {
  readonly level?: LogLevel;
  /** Secret values to cut from every line (tokens, signing secrets), besides the known secret shapes. */
  readonly secrets?: readonly (string | null | undefined)[];
  /** Where lines go (default: standard error). */
  readonly destination?: { write(chunk: string): unknown; isTTY?: boolean };
  /** Human-readable lines instead of JSON; default: when the destination is a terminal. */
  readonly pretty?: boolean;
  /** Bindings of the root logger, e.g. { component: 'engine' }. */
  readonly bindings?: Record<string, string | number>;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const out = opts.destination ?? process.stderr;
  const pretty = opts.pretty ?? out.isTTY === true;
  const redactor = new Redactor(opts.secrets ?? []);
  const stream: DestinationStream = { write: (line: string) => void out.write(pretty ? formatLine(line) : line) };
  const root = pino(
    {
      level: opts.level ?? 'info',
      base: opts.bindings ? redactor.value(opts.bindings) as Record<string, unknown> : null,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      hooks: {
        // Every argument passes the redactor: the message, its fields, and errors among them.
        logMethod(args, method) {
          method.apply(this, args.map((a) => redactor.value(a)) as Parameters<typeof method>);
        },
      },
    },
    stream,
  );
  return wrap(root, redactor);
}

function wrap(p: pino.Logger, redactor: Redactor): Logger {
  const at = (level: Level) => (msg: string, fields?: Record<string, unknown>) => (fields ? p[level](fields, msg) : p[level](msg));
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    // Bindings are written with every line of the child, so they are redacted once, here.
    child: (bindings) => wrap(p.child(redactor.value(bindings) as Record<string, unknown>), redactor),
  };
}

/** A logger that writes nothing (tests, library callers that pass none). */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
};
