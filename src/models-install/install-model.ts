/**
 * `asyrp models add <id>`, the steps in order: lock, check Python and disk space (before any download),
 * download the checkpoint (mirrors, resume, size / HTML / hash checks) or take the user's own copy,
 * convert it into a staging folder (ONNX-vs-PyTorch parity checked by the converter), fetch and convert
 * the released directions, run the smoke edit the caller passes in, record where the checkpoint came from
 * and its sha256, and only then move the package into models/.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { downloadFile, formatBytes, sha256File, type DownloadProgress } from './download-file.js';
import { ensureSpace } from './disk-space.js';
import { InstallError } from './install-error.js';
import { directionSource, type BackboneSource, type ModelSources } from './model-sources.js';
import { commitPackage, createStaging, folderBytes, lockPackage } from './package-staging.js';
import { checkPython, lastJson, runPython, toolError } from './python-tools.js';

export interface SmokeResult {
  /** The direction the smoke edit applied (none: a reconstruction). */
  readonly direction: string | null;
  readonly steps: number;
  readonly seconds: number;
  /** Mean |edited − unedited| over the image, in [-1, 1] units (0 without a direction). */
  readonly change: number;
  readonly provider: string;
}

export type InstallEvent =
  | { readonly type: 'step'; readonly text: string }
  | { readonly type: 'progress'; readonly label: string; readonly progress: DownloadProgress }
  | { readonly type: 'done-download'; readonly label: string };

export interface InstallRequest {
  readonly backbone: BackboneSource;
  readonly sources: ModelSources;
  readonly modelsDir: string;
  /** Where downloads are kept until the install is done (resumable across runs). */
  readonly downloadsDir: string;
  readonly python: string;
  /** tools/ (convert_checkpoint.py, convert_direction.py). */
  readonly toolsDir: string;
  /** A URL or a local file instead of the built-in sources. */
  readonly from?: string;
  readonly fp16: boolean;
  /** Released attributes to install (each a name of backbone.directions.attributes). */
  readonly directions: readonly string[];
  /** Calibration trajectories per direction (convert_direction.py --n). */
  readonly calibration: number;
  /** onnxruntime provider for the calibration run (cpu or cuda). */
  readonly calibrationProvider: 'cpu' | 'cuda';
  readonly force: boolean;
  readonly keepDownloads: boolean;
  /** Runs a short edit on the staged package; throws if the package does not work. */
  readonly smoke: (dir: string, directions: readonly string[]) => Promise<SmokeResult>;
  readonly onEvent?: (e: InstallEvent) => void;
  /** Free bytes of a folder (tests pass their own). */
  readonly freeBytes?: (dir: string) => Promise<number>;
}

export interface InstallSummary {
  readonly id: string;
  readonly dir: string;
  readonly bytesOnDisk: number;
  readonly directions: readonly string[];
  readonly parity: Readonly<Record<string, number>> | null;
  readonly checkpoint: { readonly file: string; readonly source: string; readonly sha256: string; readonly sha256Verified: boolean; readonly resumed: boolean };
  readonly smoke: SmokeResult;
  readonly seconds: number;
  readonly tryCommand: string;
}

const DIRECTION_BYTES = 6_000_000; // a 40-step direction at 512x8x8 is 5.2 MB (docs/models.md §5)

export async function installModel(req: InstallRequest): Promise<InstallSummary> {
  const started = performance.now();
  const b = req.backbone;
  const say = (text: string) => req.onEvent?.({ type: 'step', text });
  const lock = lockPackage(req.modelsDir, b.id);
  let staging: string | undefined;
  const downloaded: string[] = [];
  try {
    if (existsSync(join(req.modelsDir, b.id)) && !req.force) {
      throw new InstallError('ALREADY_INSTALLED', `${b.id} is already installed in ${join(req.modelsDir, b.id)}; add --force to replace it, or run asyrp models remove ${b.id} first`);
    }
    for (const a of req.directions) {
      if (!b.directions?.attributes.includes(a)) {
        throw new InstallError('UNKNOWN_MODEL', `${b.id} has no released direction "${a}"; it has ${b.directions?.attributes.join(', ') || 'none'}`);
      }
    }
    const localFrom = req.from !== undefined && !/^https?:\/\//.test(req.from) ? req.from : undefined;
    if (localFrom && !existsSync(localFrom)) throw new InstallError('NO_SOURCE', `--from ${localFrom}: no such file`);
    if (!req.from && !b.sources.length) {
      throw new InstallError('NO_SOURCE', `no direct download of ${b.file} is known (it is published on ${b.manual}); download it from there and run asyrp models add ${b.id} --from <file>`);
    }

    say(`checking Python (${req.python}) and the converters' modules`);
    await checkPython(req.python);

    mkdirSync(req.downloadsDir, { recursive: true });
    const ckptDest = join(req.downloadsDir, b.file);
    const havePart = existsSync(`${ckptDest}.part`) ? statSync(`${ckptDest}.part`).size : 0;
    const needDownload = localFrom || existsSync(ckptDest) ? 0 : Math.max(0, b.maxBytes - havePart);
    const packageBytes = Math.ceil(b.parameters * (req.fp16 ? 2 : 4) * 1.05) + req.directions.length * DIRECTION_BYTES;
    await ensureSpace(
      [
        { dir: req.downloadsDir, bytes: needDownload + req.directions.length * DIRECTION_BYTES, what: 'downloads' },
        { dir: req.modelsDir, bytes: packageBytes, what: 'model package' },
      ],
      req.freeBytes,
    );

    // 1. the checkpoint
    let ckpt: string;
    let source: string;
    let sha256: string;
    let resumed = false;
    const reuse = !localFrom && !req.from && existsSync(ckptDest) ? ckptDest : undefined;
    if (localFrom || reuse) {
      // The user's own copy, or a whole download kept by an earlier run that failed later on.
      ckpt = (localFrom ?? reuse)!;
      source = localFrom ? `file ${localFrom}` : `${b.sources[0]} (downloaded earlier)`;
      const size = statSync(ckpt).size;
      if (size < b.minBytes || size > b.maxBytes) {
        throw new InstallError('CORRUPT_DOWNLOAD', `${ckpt} is ${formatBytes(size)} (${size} bytes); ${b.file} is ${formatBytes(b.minBytes)} to ${formatBytes(b.maxBytes)}: is it the right file, and whole?`);
      }
      say(`hashing ${ckpt}`);
      sha256 = await sha256File(ckpt);
      if (b.sha256 && sha256 !== b.sha256) throw new InstallError('CORRUPT_DOWNLOAD', `${ckpt}: sha256 ${sha256}, expected ${b.sha256}`);
      if (reuse) downloaded.push(reuse);
    } else {
      const urls = req.from ? [req.from] : b.sources;
      say(`downloading ${b.file} (${formatBytes(b.minBytes)})`);
      const r = await downloadFile({
        urls,
        dest: ckptDest,
        label: b.file,
        expect: { minBytes: b.minBytes, maxBytes: b.maxBytes, sha256: b.sha256, kind: 'torch' },
        onProgress: (p) => req.onEvent?.({ type: 'progress', label: b.file, progress: p }),
      });
      req.onEvent?.({ type: 'done-download', label: b.file });
      ckpt = ckptDest;
      downloaded.push(ckptDest);
      source = r.url;
      resumed = r.resumed;
      sha256 = r.sha256;
      for (const f of r.failures) say(`source skipped: ${f}`);
    }

    // 2. conversion into a staging folder
    staging = createStaging(req.modelsDir, b.id);
    const convertArgs = [join(req.toolsDir, 'convert_checkpoint.py'), '--arch', b.arch, '--ckpt', ckpt, '--dataset', b.dataset, '--out', staging, '--id', b.id, '--title', b.title];
    if (req.fp16) convertArgs.push('--fp16');
    if (b.archConfig) {
      const cfg = join(staging, '.arch-config.json');
      writeFileSync(cfg, JSON.stringify(b.archConfig));
      convertArgs.push('--config', cfg);
    }
    say(`converting ${b.file} to ONNX${req.fp16 ? ' (fp16 weights)' : ''} and checking it against PyTorch`);
    const conv = await runPython(req.python, convertArgs, { cwd: req.toolsDir });
    rmSync(join(staging, '.arch-config.json'), { force: true });
    const result = lastJson(conv.stdout);
    const parity = (result?.parity as Record<string, number> | undefined) ?? null;
    if (conv.code === 1 && result?.parity_ok === false) {
      const worst = Math.max(...Object.values(parity ?? {}).map((v) => (typeof v === 'number' ? v : NaN)));
      const shown = Number.isFinite(worst) ? worst.toExponential(2) : 'not a number';
      throw new InstallError('PARITY_FAILED', `the converted graph does not match PyTorch: largest difference ${shown}, above the bound ${req.fp16 ? '3e-2 (fp16)' : '1e-3 (fp32)'}; the checkpoint may be corrupt, or report the numbers (${JSON.stringify(parity)})`, { parity });
    }
    if (conv.code !== 0) {
      const msg = toolError(conv);
      if (/module .* is missing/.test(msg)) throw new InstallError('PYTHON_MODULE_MISSING', `converting ${b.file}: ${msg}`);
      const hint = /does not match the architecture/.test(msg) ? `; is it ${b.file}, the ${b.title} checkpoint?` : '';
      throw new InstallError('CONVERSION_FAILED', `converting ${b.file} failed: ${msg}${hint}`);
    }

    // 3. the released directions
    const installed: string[] = [];
    for (const attr of req.directions) {
      const { url, file } = directionSource(req.sources, b, attr);
      const dest = join(req.downloadsDir, file);
      if (!existsSync(dest)) {
        say(`downloading direction ${attr}`);
        await downloadFile({
          urls: [url],
          dest,
          label: file,
          expect: { minBytes: req.sources.directions.minBytes, maxBytes: req.sources.directions.maxBytes, kind: 'torch' },
          onProgress: (p) => req.onEvent?.({ type: 'progress', label: file, progress: p }),
        });
        req.onEvent?.({ type: 'done-download', label: file });
      }
      downloaded.push(dest);
      say(`converting direction ${attr} (${req.calibration} calibration trajectories)`);
      const args = [join(req.toolsDir, 'convert_direction.py'), '--ckpt', dest, '--model', staging, '--n', String(req.calibration), '--provider', req.calibrationProvider];
      const run = await runPython(req.python, args, { cwd: req.toolsDir });
      if (run.code !== 0) throw new InstallError('CONVERSION_FAILED', `converting the direction ${attr} failed: ${toolError(run)}`);
      const name = lastJson(run.stdout)?.name;
      installed.push(typeof name === 'string' ? name : attr);
    }

    // 4. the smoke edit, on the staged package
    say(`smoke edit${installed.length ? ` (${installed[0]})` : ''}`);
    let smoke: SmokeResult;
    try {
      smoke = await req.smoke(staging, installed);
    } catch (e) {
      throw new InstallError('SMOKE_EDIT_FAILED', `the converted model does not edit: ${(e as Error).message}`);
    }

    // 5. record the source, then move into place
    const manifestPath = join(staging, 'model.json');
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Record<string, unknown>;
    manifest.install = {
      source,
      checkpoint: b.file,
      sha256,
      sha256Verified: Boolean(b.sha256),
      directionsFrom: installed.length ? `${req.sources.directions.repository}@${req.sources.directions.commit}` : null,
      calibration: installed.length ? req.calibration : null,
      smoke,
    };
    writeFileSync(manifestPath, JSON.stringify(manifest, null, 2) + '\n');
    const dir = commitPackage(staging, req.modelsDir, b.id, req.force);
    staging = undefined;
    if (!req.keepDownloads) for (const f of downloaded) if (f.startsWith(req.downloadsDir)) rmSync(f, { force: true });
    return {
      id: b.id,
      dir,
      bytesOnDisk: folderBytes(dir),
      directions: installed,
      parity,
      checkpoint: { file: basename(ckpt), source, sha256, sha256Verified: Boolean(b.sha256), resumed },
      smoke,
      seconds: (performance.now() - started) / 1000,
      tryCommand: `asyrp edit <image> ${installed[0] ?? ''}${installed.length ? ' ' : ''}--model ${b.id} --compare before-after.png`.replace('  ', ' '),
    };
  } finally {
    if (staging) rmSync(staging, { recursive: true, force: true });
    lock.release();
  }
}
