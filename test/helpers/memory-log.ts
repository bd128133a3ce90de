/**
 * The app's real logger (src/log), writing into memory: `lines` as "level message" for easy matching,
 * `records` as the parsed JSON objects (bindings such as interaction or job included).
 */
import { createLogger, type Logger } from '../../src/log/logger.js';

export interface MemoryLog {
  readonly log: Logger;
  readonly lines: string[];
  readonly records: Record<string, unknown>[];
}

export function memoryLog(secrets: readonly string[] = []): MemoryLog {
  const lines: string[] = [];
  const records: Record<string, unknown>[] = [];
  const log = createLogger({
    level: 'debug',
    pretty: false,
    secrets,
    destination: {
      write: (line: string) => {
        const o = JSON.parse(line) as Record<string, unknown>;
        records.push(o);
        lines.push(`${String(o.level)} ${String(o.msg)}`);
      },
    },
  });
  return { log, lines, records };
}
