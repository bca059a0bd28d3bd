// Ghostscript adapter: PostScript and EPS to PDF or images, PDF optimization and PDF/A. Every
// run is -dSAFER (files readable only when named on the command line or permitted) with an
// environment of its own, so GS_OPTIONS and the like of the worker never reach it.
import { copyFile, mkdir, readdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { GHOSTSCRIPT, PAGE_RENDER_LIMITS } from '@convertd/api';
import { AppError, isAppError } from '@convertd/errors';

import type { Engine, EngineInput, EngineJob, EngineResult } from '../engine';
import { moveFile } from '../pdf/files';
import { detectQpdf, runQpdf } from '../pdf/qpdf-job';
import { inspectPdf, openJobPdf } from '../pdf/unlock';
import type { OpenedPdf } from '../pdf/unlock';
import { runProcess } from '../runner';
import { formatBytes } from '../sizes';
import type { RunProcessResult } from '../runner';
import { linearizes, optimizeArgs, qualityProgram } from './optimize';
import type { OptimizeProfile } from './optimize';
import { findSrgbProfile, pdfaPart, writePdfaPrefix } from './pdfa';
import type { PdfaLevel } from './pdfa';

const DETECT_DEADLINE_MS = 10_000;
const BASE_ARGS = ['-dSAFER', '-dNOPAUSE', '-dBATCH', '-q'];
/** A PostScript error report ("Error: /undefined in foo"): the input's program failed. */
const POSTSCRIPT_ERROR = /Error: \/\w+/;
const RASTER_DEVICES: Record<string, readonly string[]> = {
  png: ['-sDEVICE=png16m'],
  jpg: ['-sDEVICE=jpeg', '-dJPEGQ=90'],
};

export interface GhostscriptEngineOptions {
  /** The gs executable; default `gs` from PATH. */
  binary?: string;
  /** sRGB ICC profile for PDF/A output intents; default: the one Ghostscript ships. */
  iccProfile?: string;
  /** Delay between SIGTERM and SIGKILL when a run is stopped; default 2000. */
  killGraceMs?: number;
}

/** Runs Ghostscript; PDF inputs are opened (passwords, damage) with qpdf first. */
export class GhostscriptEngine implements Engine {
  readonly name = 'ghostscript';
  readonly spec = GHOSTSCRIPT;
  private readonly binary: string;
  private readonly iccProfile: string | undefined;
  private readonly killGraceMs: number | undefined;
  private version: string | undefined;

  constructor(options: GhostscriptEngineOptions = {}) {
    this.binary = options.binary ?? 'gs';
    this.iccProfile = options.iccProfile;
    this.killGraceMs = options.killGraceMs;
  }

  async detect(): Promise<{ version: string } | null> {
    if (this.version !== undefined) {
      return { version: this.version };
    }

    try {
      const { stdout } = await runProcess(this.binary, ['--version'], {
        cwd: tmpdir(),
        env: gsEnv(tmpdir()),
        inheritEnv: false,
        deadlineMs: DETECT_DEADLINE_MS,
      });
      this.version = /^\d+(?:\.\d+)+/.exec(stdout.trim())?.[0];
    } catch {
      return null;
    }

    // PDF inputs are checked and decrypted with qpdf before Ghostscript reads them.
    if (this.version === undefined || (await detectQpdf()) === null) {
      return null;
    }

    return { version: this.version };
  }

  async run(job: EngineJob): Promise<EngineResult> {
    const deadlineAt = Date.now() + job.deadlineMs;
    const [input] = job.inputs;
    if (input === undefined) {
      throw new AppError('NO_INPUT_FILES');
    }

    switch (job.operation) {
      case 'convert':
        return this.convert(job, input, deadlineAt);
      case 'optimize': {
        const opened = await this.open(job, input);
        return this.optimize(job, opened, await this.withFormFlattened(job, opened), deadlineAt);
      }
      case 'pdf/a':
        return this.pdfa(
          job,
          await this.withFormFlattened(job, await this.open(job, input)),
          deadlineAt,
        );
      default:
        throw new AppError('INVALID_CONVERSION_TYPE', {
          message: `Ghostscript does not run ${job.operation}.`,
        });
    }
  }

  private async open(job: EngineJob, input: EngineInput): Promise<OpenedPdf> {
    if (input.format !== 'pdf') {
      throw new AppError('INVALID_CONVERSION_TYPE', {
        message: `Ghostscript runs ${job.operation} on PDF files, not ${input.format}.`,
      });
    }

    return openJobPdf(job, input);
  }

  /**
   * Filled form fields whose values have no appearance stream (LibreOffice writes them so, with
   * NeedAppearances) are dropped by Ghostscript's pdfwrite: their appearances are generated and
   * flattened into the page first, so that what the form shows stays in the output.
   */
  private async withFormFlattened(job: EngineJob, opened: OpenedPdf): Promise<OpenedPdf> {
    const deadlineAt = Date.now() + job.deadlineMs;
    const call = { workDir: job.workDir, deadlineAt, signal: job.signal, logger: job.logger };
    const { stdout } = await runQpdf(
      ['--json', '--json-key=acroform', opened.input.path],
      call,
    ).catch(() => ({ stdout: '' }));
    const fields = (() => {
      try {
        return (JSON.parse(stdout) as { acroform?: { fields?: unknown[] } }).acroform?.fields;
      } catch {
        return undefined;
      }
    })();
    if (!fields || fields.length === 0) {
      return opened;
    }

    const path = join(job.workDir, 'form-flattened.pdf');
    await runQpdf(
      ['--generate-appearances', '--flatten-annotations=all', opened.input.path, path],
      call,
    );
    job.logger?.debug({ engine: this.name, fields: fields.length }, 'pdf form flattened');

    return { ...opened, input: { ...opened.input, path } };
  }

  private async convert(
    job: EngineJob,
    input: EngineInput,
    deadlineAt: number,
  ): Promise<EngineResult> {
    const format = job.outputFormat ?? '';
    if (input.format !== 'ps' && input.format !== 'eps') {
      throw new AppError('INVALID_CONVERSION_TYPE', {
        message: `Ghostscript converts PostScript and EPS, not ${input.format}.`,
      });
    }

    // An EPS describes one picture: its page is its bounding box, not a sheet of paper.
    const eps = input.format === 'eps' ? ['-dEPSCrop'] : [];
    const source = resolve(input.path);
    if (format === 'pdf') {
      const output = join(job.outputDir, 'output.pdf');
      await this.interpret(
        [...eps, '-sDEVICE=pdfwrite', `-sOutputFile=${outputFile(output)}`, source],
        job,
        deadlineAt,
      );
      await this.pageCount(output, job, deadlineAt).catch((err: unknown) => {
        throw isAppError(err) && err.code === 'INPUT_CORRUPT' ? noPage() : err;
      });

      return { files: [output] };
    }

    const device = RASTER_DEVICES[format];
    if (device === undefined) {
      throw new AppError('INVALID_CONVERSION_TYPE', {
        message: `Ghostscript does not write ${format} images.`,
      });
    }

    const density = Number(job.options['pixel_density'] ?? 150);
    const dir = join(job.workDir, 'pages');
    await mkdir(dir, { recursive: true });
    await this.interpret(
      [
        ...eps,
        ...device,
        `-r${density}`,
        '-dTextAlphaBits=4',
        '-dGraphicsAlphaBits=4',
        `-dLastPage=${PAGE_RENDER_LIMITS.maxPages}`,
        `-sOutputFile=${outputFile(dir)}/page-%05d.${format}`,
        source,
      ],
      job,
      deadlineAt,
    );
    const names = (await readdir(dir)).filter((n) => n.startsWith('page-')).sort();
    if (names.length === 0) {
      throw noPage();
    }

    const files: string[] = [];
    for (const [index, name] of names.entries()) {
      files.push(
        await moveFile(join(dir, name), join(job.outputDir, `page-${index + 1}.${format}`)),
      );
    }

    return {
      files,
      ...(files.length >= PAGE_RENDER_LIMITS.maxPages
        ? { message: `Only the first ${PAGE_RENDER_LIMITS.maxPages} pages were rendered.` }
        : {}),
    };
  }

  /**
   * Ghostscript rewrites the PDF with the profile's settings; qpdf then packs objects into object
   * streams (and linearizes for the web). The original packed losslessly by qpdf competes too:
   * pdfwrite often makes text PDFs larger. The smallest wins, and the input itself when nothing
   * is smaller.
   */
  private async optimize(
    job: EngineJob,
    original: OpenedPdf,
    opened: OpenedPdf,
    deadlineAt: number,
  ): Promise<EngineResult> {
    const profile = (job.options['profile'] ?? 'web') as OptimizeProfile;
    const quality = typeof job.options['quality'] === 'number' ? job.options['quality'] : undefined;
    const source = resolve(opened.input.path);
    const rewritten = join(job.workDir, 'optimized.pdf');
    const program = qualityProgram(profile, quality);
    await this.pdfwrite(
      [
        ...optimizeArgs(profile, quality),
        `-sOutputFile=${outputFile(rewritten)}`,
        ...(program === undefined ? [] : ['-c', program, '-f']),
        source,
      ],
      job,
      deadlineAt,
    );
    await this.expectPages(rewritten, opened.pages, job, deadlineAt);
    const linearize = linearizes(profile);
    const packed = await this.pack(rewritten, 'optimized-packed.pdf', linearize, job, deadlineAt);
    const lossless = await this.pack(source, 'lossless-packed.pdf', linearize, job, deadlineAt);
    const candidates = [rewritten, ...(packed ? [packed] : []), ...(lossless ? [lossless] : [])];
    const sized = await Promise.all(
      candidates.map(async (file) => ({ file, size: (await stat(file)).size })),
    );
    const best = sized.reduce((a, b) => (b.size < a.size ? b : a));

    // Sizes compare with the file as sent (its form not flattened), which is what comes back
    // when nothing is smaller.
    const unchanged = resolve(original.input.path);
    const before = (await stat(unchanged)).size;
    const after = best.size;
    const output = join(job.outputDir, 'output.pdf');
    job.logger?.debug(
      { engine: this.name, profile, quality, before, sizes: sized.map((c) => c.size) },
      'pdf optimized',
    );
    if (after >= before) {
      await copyFile(unchanged, output);

      return {
        files: [output],
        message: 'The PDF could not be made smaller; it is returned unchanged.',
      };
    }

    await moveFile(best.file, output);
    const saved = Math.round((1 - after / before) * 100);
    const sizes = `(${formatBytes(before)} to ${formatBytes(after)})`;

    return {
      files: [output],
      message:
        saved >= 1
          ? `Reduced the file size by ${saved}% ${sizes}.`
          : `Reduced the file size by less than 1% ${sizes}.`,
    };
  }

  /**
   * `file` with its objects packed into compressed object streams, or undefined when qpdf
   * cannot rewrite it (the other candidates still count).
   */
  private async pack(
    file: string,
    name: string,
    linearize: boolean,
    job: EngineJob,
    deadlineAt: number,
  ): Promise<string | undefined> {
    const output = join(job.workDir, name);
    const args = [file, output, '--object-streams=generate', ...(linearize ? ['--linearize'] : [])];
    try {
      await runQpdf(args, {
        workDir: job.workDir,
        deadlineAt,
        signal: job.signal,
        logger: job.logger,
      });
    } catch (err) {
      if (isAppError(err) && err.code === 'ENGINE_FAILED') {
        job.logger?.debug({ engine: this.name, err }, 'pdf not packed');

        return undefined;
      }

      throw err;
    }

    return output;
  }

  private async pdfa(job: EngineJob, opened: OpenedPdf, deadlineAt: number): Promise<EngineResult> {
    const level = (job.options['conformance_level'] ?? '2b') as PdfaLevel;
    const icc = this.iccProfile ?? (await findSrgbProfile(this.version));
    if (icc === undefined) {
      throw new AppError('ENGINE_FAILED', {
        message: 'This worker has no sRGB colour profile for PDF/A.',
        details: { engine: this.name, reason: 'srgb.icc not found' },
      });
    }

    const prefix = await writePdfaPrefix(job.workDir, icc);
    const output = join(job.outputDir, 'output.pdf');
    await this.pdfwrite(
      [
        `-dPDFA=${pdfaPart(level)}`,
        // Features PDF/A forbids are dropped rather than failing the conversion.
        '-dPDFACompatibilityPolicy=1',
        '-sColorConversionStrategy=RGB',
        `--permit-file-read=${icc}`,
        `-sOutputFile=${outputFile(output)}`,
        prefix,
        resolve(opened.input.path),
      ],
      job,
      deadlineAt,
    );
    await this.expectPages(output, opened.pages, job, deadlineAt);

    return { files: [output] };
  }

  /** pdfwrite on a PDF that qpdf has opened already: any failure is Ghostscript's. */
  private async pdfwrite(args: string[], job: EngineJob, deadlineAt: number): Promise<void> {
    await this.gs([...BASE_ARGS, '-sDEVICE=pdfwrite', ...args], job, deadlineAt);
  }

  /** Runs a PostScript or EPS input; its own errors are reported as a bad input. */
  private async interpret(args: string[], job: EngineJob, deadlineAt: number): Promise<void> {
    const run = await this.gs(
      // PostScript `print` and error reports go to stdout; one stream keeps them together.
      [...BASE_ARGS, '-sstdout=%stderr', ...args],
      job,
      deadlineAt,
      [0, 1],
    );
    if (run.exitCode === 0) {
      return;
    }

    const details = {
      engine: this.name,
      exitCode: run.exitCode,
      stderrTail: run.stderr.slice(-2048),
    };
    if (POSTSCRIPT_ERROR.test(run.stderr)) {
      throw new AppError('INPUT_CORRUPT', {
        message: 'The PostScript file could not be interpreted.',
        details,
      });
    }

    throw new AppError('ENGINE_FAILED', { details });
  }

  private async gs(
    args: string[],
    job: EngineJob,
    deadlineAt: number,
    okExitCodes: readonly number[] = [0],
  ): Promise<RunProcessResult> {
    return runProcess(this.binary, args, {
      cwd: job.workDir,
      env: gsEnv(job.workDir),
      inheritEnv: false,
      deadlineMs: deadlineAt - Date.now(),
      okExitCodes,
      signal: job.signal,
      logger: job.logger,
      ...(this.killGraceMs === undefined ? {} : { killGraceMs: this.killGraceMs }),
    });
  }

  private async pageCount(file: string, job: EngineJob, deadlineAt: number): Promise<number> {
    const facts = await inspectPdf(file, {
      workDir: job.workDir,
      deadlineMs: deadlineAt - Date.now(),
      signal: job.signal,
      logger: job.logger,
    });

    return facts.pages ?? 0;
  }

  /** Ghostscript skips pages it cannot draw; a result that lost pages is not a result. */
  private async expectPages(
    file: string,
    pages: number,
    job: EngineJob,
    deadlineAt: number,
  ): Promise<void> {
    const written = await this.pageCount(file, job, deadlineAt).catch(() => 0);
    if (written !== pages) {
      throw new AppError('ENGINE_FAILED', {
        message: `Ghostscript wrote ${written} of the ${pages} pages.`,
        details: { engine: this.name, written, pages },
      });
    }
  }
}

function noPage(): AppError {
  return new AppError('INPUT_CORRUPT', { message: 'The PostScript file draws no page.' });
}

/** -sOutputFile's value for a path: Ghostscript reads % as the start of a page-number format. */
function outputFile(path: string): string {
  return path.replace(/%/g, '%%');
}

function gsEnv(workDir: string): Record<string, string> {
  return {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: workDir,
    TMPDIR: workDir,
    LANG: 'C.UTF-8',
  };
}
