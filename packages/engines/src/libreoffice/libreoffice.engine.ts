// LibreOffice adapter: conversions over UNO on a supervised pool of warm soffice processes.
import { copyFile, link, mkdir, mkdtemp, readdir, rename, rm, unlink } from 'node:fs/promises';
import { realpathSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { basename, dirname, extname, join } from 'node:path';
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
import type { EngineLogger } from '../logger';
import { runProcess } from '../runner';
import {
  convertToArgument,
  exportFilter,
  familyOf,
  framelessService,
  importFilterFor,
  listConversions,
  supports,
  type Family,
} from './formats';
import { pageRangeField, pdfSettings, readPageRange } from './options';
import { OfficePool, type PoolState } from './office-pool';
import { hardenProfile, sofficeEnv, type UnoReply } from './office-process';
import { inspectOfficeInput } from './preflight';
import type { Inspection } from './preflight';

const DETECT_DEADLINE_MS = 30_000;
/** Outputs that are the PDF drawn by another engine, one image per page. */
const RENDERED = new Set(['png', 'jpg']);
/** LibreOffice's own Python has `uno`; the python3 first on PATH may not (TOOLCHAIN.md). */
const UNO_PYTHON = '/usr/bin/python3';

/** Longest file name most file systems take, in bytes. */
const MAX_NAME_BYTES = 255;
/** Stems handed to soffice as they are; anything else is staged as `input`. */
const PLAIN_STEM = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$/;
const START_TIMEOUT_MS = 60_000;
const COLD_ARGS = ['--headless', '--norestore', '--nologo', '--nodefault', '--nolockcheck'];
const STOP_GRACE_MS = 5000;

export interface LibreOfficeEngineOptions {
  /** Directory holding the warm processes' profiles; created if missing. */
  profileRoot: string;
  /** The soffice launcher, for its version; default `soffice` from PATH. */
  binary?: string;
  /** soffice.bin, which the pool starts directly; default the one beside `binary`. */
  sofficeBin?: string;
  /** A Python with `uno`; default LibreOffice's /usr/bin/python3. */
  python?: string;
  /** Private working directories go here (created if missing; keep it ASCII, soffice sees it). */
  workRoot?: string;
  /** Warm processes, and conversions at once; default one per core. */
  poolSize?: number;
  /** Conversions a process serves before it is replaced; default 200, 0 for never. */
  restartAfter?: number;
  /** soffice memory past which a conversion is stopped and its process replaced; default 2 GiB, 0 for no limit. */
  maxRssBytes?: number;
  /** Time a quitting soffice gets before it is killed; default 5000. */
  stopGraceMs?: number;
}

/** Converts office documents with LibreOffice's command line. */
export class LibreOfficeEngine implements Engine {
  readonly name = 'libreoffice';
  readonly spec = LIBREOFFICE;
  private readonly binary: string;
  private readonly workRoot: string;
  private readonly pool: OfficePool;
  private readonly pairs: ConversionPair[] = listConversions();
  private version: string | undefined;

  constructor(private readonly options: LibreOfficeEngineOptions) {
    this.binary = options.binary ?? 'soffice';
    this.workRoot = options.workRoot ?? tmpdir();
    this.pool = new OfficePool({
      size: Math.max(1, options.poolSize ?? availableParallelism()),
      restartAfter: options.restartAfter ?? 200,
      maxRssBytes: options.maxRssBytes ?? 2 ** 31,
      root: options.profileRoot,
      sofficeBin: options.sofficeBin ?? sofficeBinBeside(this.binary),
      python: options.python ?? UNO_PYTHON,
      startTimeoutMs: START_TIMEOUT_MS,
      stopGraceMs: options.stopGraceMs ?? STOP_GRACE_MS,
    });
  }

  /** Starts the pool's processes; the worker calls it before it takes tasks. */
  async warm(logger?: EngineLogger): Promise<void> {
    const started = Date.now();
    this.pool.useLogger(logger);
    await this.pool.warm();
    logger?.info(
      { engine: this.name, durationMs: Date.now() - started, pool: this.pool.state() },
      'LibreOffice pool warm',
    );
  }

  state(): PoolState & Record<string, unknown> {
    return { ...this.pool.state() };
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
    // 'encrypted': maybe only with the default "VelvetSweatshop" password, which LibreOffice tries.
    const needsPassword =
      inspection.kind === 'encrypted' ||
      (inspection.kind === 'reject' && inspection.code === 'PASSWORD_REQUIRED');
    if (inspection.kind === 'reject' && !(needsPassword && password)) {
      throw new AppError(inspection.code, {
        details: { engine: this.name, reason: inspection.reason },
      });
    }

    // The input is linked into a private directory as `<stem>.<format>`: the extension steers
    // LibreOffice's type detection, and a stem that is not plain ASCII (or starts with '-')
    // becomes `input`. Plain stems are kept because Calc shows the file name as the sheet name
    // of a CSV and Writer fields may print it.
    await mkdir(this.workRoot, { recursive: true });
    const work = await mkdtemp(join(this.workRoot, 'convertd-lo-'));
    try {
      const stem = stagingStem(req.inputPath);
      const input = join(work, `${stem}.${req.inputFormat}`);
      const outDir = join(work, 'out');
      const main = `${stem}.${req.outputFormat}`;
      await linkOrCopy(req.inputPath, input);
      await mkdir(outDir);
      const filter = exportFilter(family, req.outputFormat);
      const importFilter = importFilterFor(req.inputFormat);
      const frameless = framelessService(req.inputFormat);
      const started = Date.now();
      if (frameless !== undefined && req.outputFormat === 'pdf' && !password) {
        // PDF export needs a view, and HTML with a view aborts a long-running soffice: a
        // one-shot soffice ends before that happens.
        await this.convertCold(req, family, settings, work, input, outDir, deadlineAt);
      } else {
        const reply = await this.pool.convert(
          {
            input: pathToFileURL(input).href,
            output: pathToFileURL(join(outDir, main)).href,
            filter: filter.name,
            ...(filter.options === undefined ? {} : { filterOptions: filter.options }),
            filterData: Object.fromEntries(Object.entries(settings).map(([k, v]) => [k, v.value])),
            ...(importFilter === undefined ? {} : { importFilter }),
            ...(password ? { password } : {}),
            ...(frameless === undefined ? {} : { frameless }),
            // `include_markup: false` (the default): a clean PDF, without revision marks.
            ...(family === 'writer' &&
            req.outputFormat === 'pdf' &&
            req.options.include_markup !== true
              ? { acceptChanges: true }
              : {}),
          },
          deadlineAt - Date.now(),
          req.signal,
        );
        if (!reply.ok) {
          throw failureError(
            reply,
            inspection,
            password !== '',
            pageRange === undefined ? undefined : pageRangeField(req.options),
          );
        }
      }

      const produced = await readdir(outDir);
      if (!produced.includes(main)) {
        throw new AppError('ENGINE_FAILED', {
          details: { engine: this.name, reason: 'no output' },
        });
      }

      const files = [await moveFile(join(outDir, main), req.outputDir, outputName(req))];
      for (const extra of produced.filter((name) => name !== main)) {
        files.push(await moveFile(join(outDir, extra), req.outputDir, extra));
      }

      req.logger?.debug(
        { engine: this.name, files: files.length, durationMs: Date.now() - started },
        'engine converted',
      );

      return { files };
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }

  async close(): Promise<void> {
    await this.pool.close();
  }

  /** One `soffice --convert-to` on a profile of its own inside `work`. */
  private async convertCold(
    req: ConvertRequest,
    family: Family,
    settings: ReturnType<typeof pdfSettings>,
    work: string,
    input: string,
    outDir: string,
    deadlineAt: number,
  ): Promise<void> {
    await mkdir(join(work, 'tmp'), { recursive: true });
    await hardenProfile(join(work, 'profile'));
    const importFilter = importFilterFor(req.inputFormat);
    const args = [
      `-env:UserInstallation=${pathToFileURL(join(work, 'profile')).href}`,
      ...COLD_ARGS,
      ...(importFilter === undefined ? [] : [`--infilter=${importFilter}`]),
      '--convert-to',
      convertToArgument(family, req.outputFormat, settings),
      '--outdir',
      outDir,
      input,
    ];
    await runProcess(this.binary, args, {
      cwd: work,
      env: sofficeEnv(work),
      inheritEnv: false,
      deadlineMs: deadlineAt - Date.now(),
      ...(req.signal === undefined ? {} : { signal: req.signal }),
      ...(req.logger === undefined ? {} : { logger: req.logger }),
    });
  }
}

/** The task error for a conversion the UNO helper reported as failed. */
function failureError(
  reply: Extract<UnoReply, { ok: false }>,
  inspection: Inspection,
  withPassword: boolean,
  /** The page-range option's name when one was requested. */
  pageRangeOption: string | undefined,
): AppError {
  const details = { engine: 'libreoffice', reason: `${reply.stage} failed`, error: reply.error };
  if (reply.stage === 'bridge') {
    return new AppError('ENGINE_CRASHED', { details });
  }
  if (reply.stage === 'load') {
    // An encrypted file that fails to load was not opened by its password or a default one.
    if (inspection.kind === 'encrypted' || (inspection.kind === 'reject' && withPassword)) {
      return new AppError(withPassword ? 'PASSWORD_INVALID' : 'PASSWORD_REQUIRED', { details });
    }
    return new AppError('INPUT_CORRUPT', { details });
  }

  // The PDF export refuses a range that selects no page of the document (e.g. "20-30" of 13).
  if (pageRangeOption !== undefined) {
    return new AppError('INVALID_DATA', {
      errors: { [pageRangeOption]: ['The page range selects no page of the document.'] },
      details,
    });
  }

  return new AppError('ENGINE_FAILED', { details });
}

/** soffice.bin beside the `soffice` launcher (Debian: /usr/lib/libreoffice/program). */
function sofficeBinBeside(binary: string): string {
  const found = (process.env['PATH'] ?? '/usr/bin:/bin')
    .split(':')
    .map((dir) => join(dir, binary))
    .find((candidate) => {
      try {
        realpathSync(candidate);
        return true;
      } catch {
        return false;
      }
    });
  const launcher = binary.includes('/') ? binary : found;
  if (launcher === undefined) {
    return '/usr/lib/libreoffice/program/soffice.bin';
  }
  try {
    return join(dirname(realpathSync(launcher)), 'soffice.bin');
  } catch {
    return '/usr/lib/libreoffice/program/soffice.bin';
  }
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
