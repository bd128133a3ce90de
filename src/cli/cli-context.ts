/** What every CLI command receives: the config read once at start, and where to write. */
import type { AppConfig } from '../config/load-config.js';

export interface CliOutput {
  write(text: string): void;
  /** True when the stream is an interactive terminal (progress bars are drawn only then). */
  readonly isTTY: boolean;
}

export interface CliContext {
  readonly config: AppConfig;
  readonly out: CliOutput;
  readonly err: CliOutput;
  /** The directory relative paths given on the command line are resolved against. */
  readonly cwd: string;
}

export type CliCommand = (args: string[], ctx: CliContext) => Promise<number>;
