// LibreOffice adapter: one cold `soffice --convert-to` process per conversion, on a leased profile.
import {
  copyFile,
  link,
  mkdir,
  mkdtemp,
  readdir,
  rename,
  rm,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, extname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { AppError } from '@convertd/errors';

import { LIBREOFFICE } from '@convertd/api';

import type {
  ConversionPair,
  ConvertRequest,
  ConvertResult,
  Engine,
  EngineJob,
  EngineResult,
} from '../engine';
import { runProcess } from '../runner';
import type { RunProcessResult } from '../runner';
import {
  convertToArgument,
  exportFilter,
  familyOf,
  importFilterFor,
  listConversions,
  supports,
  type Family,
} from './formats';
import { pageRangeField, pdfSettings, readPageRange } from './options';
import { UNO_CONVERT_SCRIPT } from './uno-script';
import { inspectOfficeInput } from './preflight';
import type { Inspection } from './preflight';
import { installationUrl, ProfilePool } from './profile-pool';

const DETECT_DEADLINE_MS = 30_000;
/** Outputs that are the PDF drawn by another engine, one image per page. */
const RENDERED = new Set(['png', 'jpg']);
/** LibreOffice's own Python has `uno`; the python3 first on PATH may not (TOOLCHAIN.md). */
const UNO_PYTHON = '/usr/bin/python3';

/** Longest file name most file systems take, in bytes. */
const MAX_NAME_BYTES = 255;
/** Stems handed to soffice as they are; anything else is staged as `input`. */
const PLAIN_STEM = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$/;
const BASE_ARGS = ['--headless', '--norestore', '--nologo', '--nodefault', '--nolockcheck'];
// soffice exits 0 on these; its messages are the only signal of what went wrong.
const LOAD_FAILED = 'source file could not be loaded';
const STORE_FAILED = /SfxBaseModel::impl_store|Please verify input parameters/;

export interface LibreOfficeEngineOptions {
  /** Directory holding the pooled user profiles; created if missing. */
  profileRoot: string;
  /** The soffice executable; default `soffice` from PATH. */
  binary?: string;
  /** Private working directories go here (created if missing; keep it ASCII, soffice sees it). */
  workRoot?: string;
  /** Delay between SIGTERM and SIGKILL when a conversion is stopped; default 2000. */
  killGraceMs?: number;
}

/** Converts office documents with LibreOffice's command line. */
export class LibreOfficeEngine implements Engine {
  readonly name = 'libreoffice';
  readonly spec = LIBREOFFICE;
  private readonly binary: string;
  private readonly workRoot: string;
  private readonly killGraceMs: number | undefined;
  private readonly profiles: ProfilePool;
  private readonly pairs: ConversionPair[] = listConversions();
  private version: string | undefined;

  constructor(options: LibreOfficeEngineOptions) {
    this.binary = options.binary ?? 'soffice';
    this.workRoot = options.workRoot ?? tmpdir();
    this.killGraceMs = options.killGraceMs;
    this.profiles = new ProfilePool(options.profileRoot);
  }

  async detect(): Promise<{ version: string } | null> {
    if (this.version !== undefined) {
      return { version: this.version };
    }

    try {
      const { stdout } = await runProcess(this.binary, ['--version'], {
        cwd: tmpdir(),
        deadlineMs: DETECT_DEADLINE_MS,
      });
      // "LibreOffice 7.4.7.2 40(Build:2)"
      this.version = /LibreOffice\s+(\d+(?:\.\d+)+)/.exec(stdout)?.[1];
    } catch {
      return null;
    }

    return this.version === undefined ? null : { version: this.version };
  }

  async run(job: EngineJob): Promise<EngineResult> {
    const [input] = job.inputs;
    if (!input || !job.outputFormat) {
      throw new AppError('NO_INPUT_FILES');
    }
    if (job.operation === 'thumbnail') {
      return this.viaPdf(job, input, 'thumbnail', { count: job.options.count ?? 1 });
    }
    if (job.operation === 'convert' && RENDERED.has(job.outputFormat)) {
      return this.viaPdf(job, input, 'convert', {});
    }
    if (job.operation !== 'convert') {
      throw new AppError('INVALID_CONVERSION_TYPE', {
        message: `LibreOffice does not run ${job.operation}.`,
      });
    }

    return this.convert({
      inputPath: input.path,
      inputFormat: input.format,
      outputFormat: job.outputFormat,
      outputDir: job.outputDir,
      options: job.options,
      deadlineMs: job.deadlineMs,
      signal: job.signal,
      logger: job.logger,
    });
  }

  /**
   * The document as PDF, then drawn by the worker's PDF renderer: thumbnails, and pages as
   * images. The options other than the password are the renderer's.
   */
  private async viaPdf(
    job: EngineJob,
    input: EngineJob['inputs'][number],
    operation: string,
    extra: Record<string, unknown>,
  ): Promise<EngineResult> {
    if (!job.delegate || !job.outputFormat) {
      throw new AppError('ENGINE_UNAVAILABLE', { message: 'This worker has no PDF renderer.' });
    }
    const pdfDir = join(job.workDir, 'pdf');
    await mkdir(pdfDir, { recursive: true });
    const started = Date.now();
    const { files } = await this.convert({
      inputPath: input.path,
      inputFormat: input.format,
      outputFormat: 'pdf',
      outputDir: pdfDir,
      options: { ...(job.options.password ? { password: job.options.password } : {}) },
      deadlineMs: job.deadlineMs,
      signal: job.signal,
      logger: job.logger,
    });
    const pdf = files[0]!;
    const { password: _p, ...options } = job.options;
    const drawn = await job.delegate(
      operation,
      [{ ...input, path: pdf, format: 'pdf' }],
      job.outputFormat,
      { ...options, ...extra },
    );
    job.logger?.debug({ engine: this.name, ms: Date.now() - started }, 'pages drawn');

    return { files: drawn };
  }

  conversions(): ReadonlyArray<ConversionPair> {
    return this.pairs;
  }

  canConvert(input: string, output: string): boolean {
    return supports(input, output);
  }

  async convert(req: ConvertRequest): Promise<ConvertResult> {
    const deadlineAt = Date.now() + req.deadlineMs;
    if (req.signal?.aborted === true) {
      throw new AppError('ENGINE_CANCELLED', { cause: req.signal.reason });
    }

    const family = familyOf(req.inputFormat);
    if (family === undefined || !supports(req.inputFormat, req.outputFormat)) {
      throw new AppError('INVALID_CONVERSION_TYPE', {
        details: { engine: this.name, input: req.inputFormat, output: req.outputFormat },
      });
    }

    const pageRange = req.outputFormat === 'pdf' ? readPageRange(req.options) : undefined;
    const settings = req.outputFormat === 'pdf' ? pdfSettings(req.options, pageRange) : {};
    const inspection = await inspectOfficeInput(req.inputPath, req.inputFormat);
    req.logger?.debug({ engine: this.name, inspection }, 'input inspected');
    const password = typeof req.options.password === 'string' ? req.options.password : '';
    // 'encrypted': maybe only with the default "VelvetSweatshop" password, which soffice tries.
    const needsPassword =
      inspection.kind === 'encrypted' ||
      (inspection.kind === 'reject' && inspection.code === 'PASSWORD_REQUIRED');
    if (needsPassword && password) {
      return this.convertWithPassword(req, family, settings, password, deadlineAt);
    }
    if (inspection.kind === 'reject') {
      throw new AppError(inspection.code, {
        details: { engine: this.name, reason: inspection.reason },
      });
    }

    // soffice gets a link in a private directory, named `<stem>.<format>`: the extension steers its
    // type detection, and a stem that is not plain ASCII (or starts with '-') becomes `input`, so
    // odd names cannot trip its argv and locale handling. Plain stems are kept because Calc shows
    // the file name as the sheet name of a CSV and Writer fields may print it.
    await mkdir(this.workRoot, { recursive: true });
    const work = await mkdtemp(join(this.workRoot, 'convertd-lo-'));
    try {
      const stem = stagingStem(req.inputPath);
      const input = join(work, `${stem}.${req.inputFormat}`);
      const outDir = join(work, 'out');
      await linkOrCopy(req.inputPath, input);
      await mkdir(outDir);
      await mkdir(join(work, 'tmp'));
      const args = [...BASE_ARGS];
      const importFilter = importFilterFor(req.inputFormat);
      if (importFilter !== undefined) {
        args.push(`--infilter=${importFilter}`);
      }

      args.push('--convert-to', convertToArgument(family, req.outputFormat, settings));
      args.push('--outdir', outDir, input);
      const run = await this.runOnProfile(args, work, deadlineAt, req);
      const produced = await readdir(outDir);
      const main = `${stem}.${req.outputFormat}`;
      if (!produced.includes(main)) {
        throw missingOutputError(
          run,
          inspection,
          pageRange === undefined ? undefined : pageRangeField(req.options),
        );
      }

      const files = [await moveFile(join(outDir, main), req.outputDir, outputName(req))];
      for (const extra of produced.filter((name) => name !== main)) {
        files.push(await moveFile(join(outDir, extra), req.outputDir, extra));
      }

      req.logger?.debug(
        { engine: this.name, files: files.length, durationMs: run.durationMs },
        'engine converted',
      );

      return { files };
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }

  async close(): Promise<void> {
    await this.profiles.close();
  }

  /**
   * An encrypted document opened with the user's password: soffice's command line has no way to
   * pass one, so a small UNO script (run by LibreOffice's Python) loads and stores it instead.
   */
  private async convertWithPassword(
    req: ConvertRequest,
    family: Family,
    settings: Record<string, { value: unknown }>,
    password: string,
    deadlineAt: number,
  ): Promise<ConvertResult> {
    await mkdir(this.workRoot, { recursive: true });
    const work = await mkdtemp(join(this.workRoot, 'convertd-lo-'));
    const profile = await this.profiles.acquire();
    let wipe = true;
    try {
      const input = join(work, `input.${req.inputFormat}`);
      const output = join(work, `output.${req.outputFormat}`);
      await linkOrCopy(req.inputPath, input);
      await mkdir(join(work, 'tmp'));
      const filter = exportFilter(family, req.outputFormat);
      const job = {
        soffice: this.binary === 'soffice' ? '/usr/bin/soffice' : this.binary,
        profile: installationUrl(profile),
        pipe: `convertd-${basename(work)}`,
        startSec: 30,
        input: pathToFileURL(input).href,
        output: pathToFileURL(output).href,
        password,
        filter: filter.name,
        filterOptions: filter.options,
        filterData: Object.fromEntries(Object.entries(settings).map(([k, v]) => [k, v.value])),
        importFilter: importFilterFor(req.inputFormat),
      };
      const script = join(work, 'uno-convert.py');
      await writeFile(script, UNO_CONVERT_SCRIPT);
      const run = await runProcess(UNO_PYTHON, [script], {
        cwd: work,
        env: sofficeEnv(work),
        inheritEnv: false,
        input: JSON.stringify(job),
        deadlineMs: deadlineAt - Date.now(),
        okExitCodes: [0, 3, 4, 5, 10],
        ...(req.signal === undefined ? {} : { signal: req.signal }),
        ...(req.logger === undefined ? {} : { logger: req.logger }),
        ...(this.killGraceMs === undefined ? {} : { killGraceMs: this.killGraceMs }),
      });
      wipe = false;
      if (run.exitCode === 3) {
        throw new AppError('PASSWORD_INVALID', { details: { engine: this.name } });
      }
      if (run.exitCode !== 0) {
        throw new AppError('ENGINE_FAILED', {
          details: {
            engine: this.name,
            reason: `uno exit ${run.exitCode}`,
            stderrTail: run.stderr.slice(-2048),
          },
        });
      }

      return { files: [await moveFile(output, req.outputDir, outputName(req))] };
    } finally {
      await this.profiles.release(profile, { wipe });
      await rm(work, { recursive: true, force: true });
    }
  }

  private async runOnProfile(
    args: string[],
    cwd: string,
    deadlineAt: number,
    req: ConvertRequest,
  ): Promise<RunProcessResult> {
    // TODO(#4): warm pool over UNO instead of a cold soffice (~0.9 s) per conversion.
    const profile = await this.profiles.acquire();
    let wipe = true;
    try {
      const result = await runProcess(
        this.binary,
        [`-env:UserInstallation=${installationUrl(profile)}`, ...args],
        {
          cwd,
          // Documents are untrusted: soffice gets no secrets from the worker's environment, and
          // its temp and home files go with the work directory, even after a kill.
          // TODO(#7): sandbox soffice (no network, read-only file system outside `cwd`).
          env: sofficeEnv(cwd),
          inheritEnv: false,
          deadlineMs: deadlineAt - Date.now(),
          ...(req.signal === undefined ? {} : { signal: req.signal }),
          ...(req.logger === undefined ? {} : { logger: req.logger }),
          ...(this.killGraceMs === undefined ? {} : { killGraceMs: this.killGraceMs }),
        },
      );
      wipe = false;

      return result;
    } finally {
      await this.profiles.release(profile, { wipe });
    }
  }
}

function missingOutputError(
  run: RunProcessResult,
  inspection: Inspection,
  /** The page-range option's name when one was requested. */
  pageRangeOption: string | undefined,
): AppError {
  const output = `${run.stdout}\n${run.stderr}`;
  const details = { engine: 'libreoffice', stderrTail: run.stderr.slice(-4096) };
  if (output.includes(LOAD_FAILED)) {
    // An encrypted file that fails to load was not opened by any default password.
    const code = inspection.kind === 'encrypted' ? 'PASSWORD_REQUIRED' : 'INPUT_CORRUPT';

    return new AppError(code, { details: { ...details, reason: 'load failed' } });
  }

  if (!STORE_FAILED.test(output)) {
    return new AppError('ENGINE_FAILED', { details: { ...details, reason: 'no output' } });
  }

  // The PDF export refuses a range that selects no page of the document (e.g. "20-30" of 13).
  if (pageRangeOption !== undefined) {
    return new AppError('INVALID_DATA', {
      errors: { [pageRangeOption]: ['The page range selects no page of the document.'] },
      details: { ...details, reason: 'export failed' },
    });
  }

  return new AppError('ENGINE_FAILED', { details: { ...details, reason: 'export failed' } });
}

async function linkOrCopy(from: string, to: string): Promise<void> {
  try {
    await link(from, to);
  } catch {
    // Another file system, or one without hard links.
    await copyFile(from, to);
  }
}

async function moveFile(from: string, dir: string, name: string): Promise<string> {
  const to = join(dir, name);
  try {
    await rename(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') {
      throw err;
    }

    await copyFile(from, to);
    await unlink(from);
  }

  return to;
}

function sofficeEnv(work: string): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: work,
    TMPDIR: join(work, 'tmp'),
    // soffice decodes argv paths with the locale's charset.
    LANG: process.env['LANG'] ?? 'C.UTF-8',
  };
  const lcAll = process.env['LC_ALL'];
  if (lcAll !== undefined && lcAll !== '') {
    env['LC_ALL'] = lcAll;
  }

  return env;
}

function stagingStem(inputPath: string): string {
  const stem = basename(inputPath, extname(inputPath));

  return PLAIN_STEM.test(stem) ? stem : 'input';
}

/** The input's own stem (Unicode allowed), cut so that stem plus extension fits in a file name. */
function outputName(req: ConvertRequest): string {
  const stem = basename(req.inputPath, extname(req.inputPath));
  const ext = `.${req.outputFormat}`;
  const room = MAX_NAME_BYTES - Buffer.byteLength(ext);
  // A cut inside a multi-byte character decodes to U+FFFD; drop it.
  const cut = Buffer.from(stem, 'utf8')
    .subarray(0, room)
    .toString('utf8')
    .replace(/\uFFFD+$/, '');

  return `${cut === '' ? 'output' : cut}${ext}`;
}
