/** What every CLI command receives: the config and secrets read once at start, and where to write. */
import type { AppConfig } from '../config/load-config.js';
import type { Secrets } from '../config/secrets.js';

export interface CliOutput {
  write(text: string): void;
  /** True when the stream is an interactive terminal (progress bars are drawn only then). */
  readonly isTTY: boolean;
}

export interface CliContext {
  readonly config: AppConfig;
  /** Tokens and signing secrets, kept out of the config object; only the code that sends one reads it. */
  readonly secrets: Secrets;
  readonly out: CliOutput;
  readonly err: CliOutput;
  /** The directory relative paths given on the command line are resolved against. */
  readonly cwd: string;
}

export type CliCommand = (args: string[], ctx: CliContext) => Promise<number>;
