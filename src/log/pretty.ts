/**
 * One JSON log line as a person reads it on a terminal:
 *   12:03:04.120 WARN  engine job=j_1 step failed code=TIMEOUT
 * The time is local wall-clock, the level padded, then the component, the other fields as key=value after
 * the message, and an error's stack indented below. A line that is not JSON passes unchanged.
 */
const STANDARD = new Set(['level', 'time', 'msg', 'component', 'pid', 'hostname', 'err']);

export function formatLine(line: string): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const time = typeof o.time === 'string' ? clock(o.time) : '';
  const level = String(o.level ?? '').toUpperCase().padEnd(5);
  const head = [time, level, typeof o.component === 'string' ? o.component : null].filter(Boolean).join(' ');
  const fields = Object.entries(o)
    .filter(([k]) => !STANDARD.has(k))
    .map(([k, v]) => `${k}=${typeof v === 'string' ? (/\s/.test(v) ? JSON.stringify(v) : v) : JSON.stringify(v)}`);
  // Ids first (job, interaction), so a reader scanning for one finds it at the same place on every line.
  fields.sort((a, b) => rank(a) - rank(b));
  const ids = fields.filter((f) => rank(f) === 0);
  const rest = fields.filter((f) => rank(f) !== 0);
  const err = o.err as { message?: string; stack?: string } | undefined;
  const body = [head, ...ids, String(o.msg ?? ''), ...rest].filter((s) => s !== '').join(' ');
  const stack = err?.stack ? `\n    ${err.stack.split('\n').join('\n    ')}` : err?.message ? ` (${err.message})` : '';
  return `${body}${stack}\n`;
}

function rank(field: string): number {
  return /^(job|interaction|request)=/.test(field) ? 0 : 1;
}

function clock(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}
