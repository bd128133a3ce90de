#!/usr/bin/env node
/**
 * `npm run test:parallel`: what `npm test` runs (vitest, then the tools' Python tests), with the two
 * suites side by side instead of one after the other.
 *
 * Why it exists: the suites share nothing (pytest writes only to its own temporary folders), and on a
 * 2-core machine vitest's default is a single fork, so pytest's minute of mostly single-threaded torch work
 * could fill the core vitest leaves idle. Why it is not `npm test`: on the loaded 2-core VM, the extra
 * contention made timing-sensitive engine-service tests fail that pass with the suites in turn
 * (docs/benchmarks.md, "Test suite time"); it should become the default only once those tests hold under
 * it and a quiet 2-core machine shows the shorter wall time.
 *
 * vitest's output streams through as it comes; pytest's is held and printed, whole, after vitest's, so
 * the two never interleave. Arguments go to vitest (`npm run test:parallel -- --maxWorkers=2`). The exit
 * status is vitest's if it failed, else pytest's.
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** Runs a command in the repository root; resolves to its exit status (1 when it died of a signal). */
function run(command, argv, stdio) {
  const child = spawn(command, argv, { cwd: root, stdio });
  const done = new Promise((resolve) => {
    child.on('error', (e) => {
      process.stderr.write(`${command}: ${e.message}\n`);
      resolve(1);
    });
    child.on('close', (code) => resolve(code ?? 1));
  });
  return { child, done };
}

const children = [];
// Ctrl-C reaches every child of the terminal's process group itself; a SIGTERM sent to this process
// alone (a CI timeout) is passed on so that no suite outlives the run.
process.on('SIGTERM', () => {
  for (const c of children) c.kill('SIGTERM');
});

const toolsOut = [];
const tools = run(npm, ['run', '--silent', 'test:tools'], ['ignore', 'pipe', 'pipe']);
tools.child.stdout.on('data', (d) => toolsOut.push(d));
tools.child.stderr.on('data', (d) => toolsOut.push(d));
children.push(tools.child);
const vitest = run(join(root, 'node_modules', '.bin', 'vitest'), ['run', ...args], 'inherit');
children.push(vitest.child);

const vitestCode = await vitest.done;
const toolsCode = await tools.done;
process.stdout.write('\n> npm run test:tools (tools/tests, run beside vitest)\n');
process.stdout.write(Buffer.concat(toolsOut));
process.exitCode = vitestCode !== 0 ? vitestCode : toolsCode;
