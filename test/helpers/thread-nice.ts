/** Every thread of this process with its nice value (Linux: /proc/self/task/<tid>/stat, field 19). */
import { readdirSync, readFileSync } from 'node:fs';

export interface ThreadNice {
  readonly tid: number;
  readonly nice: number;
}

export function threadNices(): ThreadNice[] {
  const out: ThreadNice[] = [];
  for (const tid of readdirSync('/proc/self/task')) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    } catch {
      continue; // the thread ended while we looked
    }
    // "tid (name) state ...": the name may hold spaces and parentheses; the fields after it start at 3.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    out.push({ tid: Number(tid), nice: Number(fields[19 - 3]) });
  }
  return out;
}
