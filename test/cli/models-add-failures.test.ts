/**
 * `asyrp models add` failing, each way in one sentence that says what to do, leaving nothing in models/:
 * a wrong hash, no Python, a file of another architecture given with --from, a backbone with no direct
 * download, a mistyped id or direction (loopback server, real converter; the working path is in
 * models-add.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FileServer } from '../helpers/file-server.js';
import { tinyCheckpoint, type TinyCheckpoint } from '../helpers/tiny-checkpoint.js';
import { repoRoot } from '../helpers/paths.js';
import { runCli } from '../helpers/cli.js';

let server: FileServer;
let dir: string;
let sha: string;
let sources: TinyCheckpoint['sources'];
let overrides: TinyCheckpoint['overrides'];

beforeAll(async () => {
  ({ dir, sha, server, sources, overrides } = await tinyCheckpoint((ckpt) => ({ '/ok/celeba_hq.ckpt': { body: ckpt } })));
}, 30_000);
afterAll(async () => server?.close());

const hidden = () => readdirSync(join(dir, 'models')).filter((n) => n.startsWith('.') && !n.endsWith('.lock'));

describe('asyrp models add, failing', () => {
  it('a wrong hash: found and expected in one sentence, nothing in models/', async () => {
    const wrong = '0'.repeat(64);
    const src = sources({ sources: [`${server.url}/ok/celeba_hq.ckpt`], sha256: wrong });
    const r = await runCli(['models', 'add', 'celeba-hq', '--directions', 'none'], { cwd: dir, overrides: overrides(src) });
    expect(r.code).toBe(1);
    expect(r.err.trim().split('\n').at(-1)).toBe(
      `asyrp models add: celeba_hq.ckpt could not be downloaded; tried ${server.url}/ok/celeba_hq.ckpt (sha256 ${sha}, expected ${wrong}). Download it yourself and pass it with --from <file>.`,
    );
    expect(existsSync(join(dir, 'models', 'celeba-hq'))).toBe(false);
    expect(hidden()).toEqual([]);
  });

  it('no Python: the apt line, before anything is downloaded', async () => {
    const src = sources({ sources: [`${server.url}/ok/celeba_hq.ckpt`] });
    const before = server.log.length;
    const r = await runCli(['models', 'add', 'celeba-hq'], { cwd: dir, overrides: overrides(src, { python: join(dir, 'no-such-python3') }) });
    expect(r.code).toBe(1);
    expect(r.err).toContain(`no Python found at "${join(dir, 'no-such-python3')}": install it with apt-get install -y python3 python3-torch python3-onnx python3-numpy`);
    expect(server.log.length).toBe(before);
  });

  it('--from a file of another architecture: the converter\'s one-line reason, nothing in models/', async () => {
    const other = join(dir, 'afhq_dog_4m.pt');
    execFileSync('/usr/bin/python3', [join(repoRoot, 'tools', 'make_random_checkpoint.py'), '--backbone', 'afhq-dog', '--width', 'tiny', '--out', other], { stdio: 'pipe' });
    const src = sources({ minBytes: 1, maxBytes: 100_000_000 });
    const before = server.log.length;
    const r = await runCli(['models', 'add', 'celeba-hq', '--from', 'afhq_dog_4m.pt', '--directions', 'none'], { cwd: dir, overrides: overrides(src) });
    expect(r.code).toBe(1);
    expect(r.err.trim().split('\n').at(-1)).toMatch(
      new RegExp(`^asyrp models add: converting celeba_hq\\.ckpt failed: ${other}: state_dict does not match the architecture \\(\\d+ missing, \\d+ unexpected, 0 with another shape\\); is it celeba_hq\\.ckpt, the CelebA-HQ faces \\(DDPM, SDEdit weights\\) checkpoint\\?$`),
    );
    expect(server.log.length).toBe(before);
    expect(existsSync(join(dir, 'models', 'celeba-hq'))).toBe(false);
    expect(hidden()).toEqual([]);
    expect(existsSync(other)).toBe(true); // the user's own file is left alone
  });

  it('a backbone with no direct download says where to get it and how to pass it', async () => {
    const r = await runCli(['models', 'add', 'afhq-dog'], { cwd: dir, overrides: overrides(join(repoRoot, 'config', 'model-sources.json')) });
    expect(r.code).toBe(1);
    expect(r.err).toBe('asyrp models add: no direct download of afhq_dog_4m.pt is known (it is published on the OneDrive folder linked from the README of github.com/jychoi118/ilvr_adm); download it from there and run asyrp models add afhq-dog --from <file>\n');
  });

  it('a mistyped id or direction is a usage error with the closest match', async () => {
    const src = join(repoRoot, 'config', 'model-sources.json');
    const r = await runCli(['models', 'add', 'celeba-h'], { cwd: dir, overrides: overrides(src) });
    expect(r.code).toBe(2);
    expect(r.err).toContain('unknown model "celeba-h"; did you mean celeba-hq?');
    const d = await runCli(['models', 'add', 'celeba-hq', '--directions', 'smilling'], { cwd: dir, overrides: overrides(src) });
    expect(d.code).toBe(2);
    expect(d.err).toContain('celeba-hq has no released direction "smilling"; did you mean smiling?');
  });
});
