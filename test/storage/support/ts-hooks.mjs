/**
 * Node module hooks that run this repository's TypeScript directly, for the child processes of the
 * storage tests and for the storage benchmark. Node 20 cannot strip types itself and the project does not
 * depend on a TS runner, so each .ts file is transpiled with the TypeScript compiler already installed
 * (transpileModule: no type check, just erase types), and `./x.js` imports resolve to `./x.ts` the way
 * tsc's NodeNext resolution does. Why not build dist/ first: that would compile the whole project, which
 * other people are changing under us, and a failure there is not a storage failure.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath, URL } from 'node:url';
import ts from 'typescript';

export async function resolve(specifier, context, nextResolve) {
  const parent = context.parentURL;
  if (parent?.endsWith('.ts') && specifier.endsWith('.js') && /^(\.|\/|file:)/.test(specifier)) {
    const asJs = new URL(specifier, parent);
    const asTs = new URL(asJs.href.replace(/\.js$/, '.ts'));
    if (!existsSync(fileURLToPath(asJs)) && existsSync(fileURLToPath(asTs))) return nextResolve(asTs.href, context);
  }
  return nextResolve(specifier, context);
}

export async function load(url, context, nextLoad) {
  if (!url.startsWith('file:') || !url.endsWith('.ts')) return nextLoad(url, context);
  const source = await readFile(fileURLToPath(url), 'utf8');
  const { outputText } = ts.transpileModule(source, {
    fileName: fileURLToPath(url),
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, sourceMap: false },
  });
  return { format: 'module', source: outputText, shortCircuit: true };
}
