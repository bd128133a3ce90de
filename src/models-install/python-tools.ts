/**
 * Runs the Python tools of tools/: the converters (Debian's PyTorch) and the face renderer (numpy, Pillow).
 * Before anything is downloaded or rendered, checks that Python and the modules the tool imports are there,
 * and names the apt line that installs what is missing.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { InstallError } from './install-error.js';

/** Module → Debian package. */
export const APT_PACKAGES: Readonly<Record<string, string>> = { torch: 'python3-torch', onnx: 'python3-onnx', numpy: 'python3-numpy', PIL: 'python3-pil' };
export const CONVERTER_MODULES = ['torch', 'onnx', 'numpy'] as const;

export const aptLine = (modules: readonly string[]): string => `apt-get install -y ${modules.map((m) => APT_PACKAGES[m] ?? `python3-${m.toLowerCase()}`).join(' ')}`;

export interface ToolRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** `aptModules`: the modules the tool needs, named in the apt line when Python itself is missing (default: the converters'). */
export function runPython(python: string, args: readonly string[], opts: { cwd?: string; onLine?: (line: string) => void; aptModules?: readonly string[] } = {}): Promise<ToolRun> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(python, args, { cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let pending = '';
    child.stdout.setEncoding('utf8').on('data', (t: string) => {
      stdout += t;
      pending += t;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const l of lines) opts.onLine?.(l);
    });
    child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') {
        reject(new InstallError('PYTHON_MISSING', `no Python found at "${python}": install it with ${aptLine(opts.aptModules ?? CONVERTER_MODULES).replace('install -y', 'install -y python3')}`));
      } else reject(new InstallError('CONVERSION_FAILED', `cannot run ${python}: ${e.message}`));
    });
    child.on('close', (code) => {
      if (pending) opts.onLine?.(pending);
      resolveRun({ code: code ?? 1, stdout, stderr });
    });
  });
}

/** Fails with the apt line when Python or one of `modules` is missing; `purpose` names who needs them. */
export async function checkPython(python: string, modules: readonly string[] = CONVERTER_MODULES, purpose = 'the converters'): Promise<{ version: string }> {
  const probe = [
    'import importlib.util, json, sys',
    `mods = ${JSON.stringify(modules)}`,
    'print(json.dumps({"version": sys.version.split()[0], "missing": [m for m in mods if importlib.util.find_spec(m) is None]}))',
  ].join('\n');
  const r = await runPython(python, ['-c', probe], { aptModules: modules });
  let parsed: { version: string; missing: string[] };
  try {
    parsed = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '');
  } catch {
    throw new InstallError('PYTHON_MISSING', `"${python}" did not run as Python 3 (${(r.stderr.trim().split('\n').at(-1) ?? `exit ${r.code}`).slice(0, 200)}): install it with apt-get install -y python3`);
  }
  if (parsed.missing.length) {
    throw new InstallError('PYTHON_MODULE_MISSING', `Python ${parsed.version} (${python}) lacks ${parsed.missing.join(', ')}, needed by ${purpose}: ${aptLine(parsed.missing)}`, { missing: parsed.missing });
  }
  return { version: parsed.version };
}

/** The converter's one-line error (its "error: ..." line), or the last line of its output. */
export function toolError(run: ToolRun): string {
  const lines = run.stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  const missing = /ModuleNotFoundError: No module named '([^']+)'/.exec(run.stderr);
  if (missing) return `the module ${missing[1]} is missing: ${aptLine([missing[1]!.split('.')[0]!])}`;
  const error = lines.filter((l) => l.startsWith('error:')).at(-1);
  return (error ?? lines.at(-1) ?? `exit status ${run.code}`).replace(/^error:\s*/, '');
}

/** The JSON object a converter prints last. */
export function lastJson(stdout: string): Record<string, unknown> | null {
  const line = stdout.trim().split('\n').at(-1) ?? '';
  try {
    // Python's json writes NaN and Infinity, which JSON does not have (a parity of NaN must still be read).
    const v: unknown = JSON.parse(line.replace(/-?\bInfinity\b|\bNaN\b/g, 'null'));
    return v && typeof v === 'object' ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

export const toolPath = (toolsDir: string, script: string): string => join(toolsDir, script);
