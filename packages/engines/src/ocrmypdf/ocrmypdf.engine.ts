// OCRmyPDF adapter: a searchable text layer for scanned PDFs and images, with Tesseract.
// Pages that already carry text are kept as they are (--skip-text).
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { OCRMYPDF } from '@convertd/api';
import { AppError } from '@convertd/errors';

import type { Engine, EngineInput, EngineJob, EngineResult } from '../engine';
import { detectQpdf } from '../pdf/qpdf-job';
import { openJobPdf } from '../pdf/unlock';
import { runProcess } from '../runner';
import type { RunProcessResult } from '../runner';

const DETECT_DEADLINE_MS = 30_000;
/** What img2pdf assumes for a scan when the image records no resolution. */
const DEFAULT_IMAGE_DPI = 300;
/** OCRmyPDF's exit codes (ocrmypdf.exceptions.ExitCode). */
const EXIT = {
  ok: 0,
  inputFile: 2,
  missingDependency: 3,
  encryptedPdf: 8,
} as const;
// With exit code 2 OCRmyPDF names the exception last; these two need a specific answer.
const DPI_ERROR = /\bDpiError\b/;
const ALPHA_CHANNEL = /alpha channel/i;

export interface OcrmypdfEngineOptions {
  /** The ocrmypdf executable; default `ocrmypdf` from PATH. */
  binary?: string;
  /** The tesseract executable, asked for its languages; default `tesseract` from PATH. */
  tesseract?: string;
  killGraceMs?: number;
}

export class OcrmypdfEngine implements Engine {
  readonly name = 'ocrmypdf';
  readonly spec = OCRMYPDF;
  private readonly binary: string;
  private readonly tesseract: string;
  private readonly killGraceMs: number | undefined;
  private version: string | undefined;
  private languages: ReadonlySet<string> | undefined;

  constructor(options: OcrmypdfEngineOptions = {}) {
    this.binary = options.binary ?? 'ocrmypdf';
    this.tesseract = options.tesseract ?? 'tesseract';
    this.killGraceMs = options.killGraceMs;
  }

  async detect(): Promise<{ version: string } | null> {
    if (this.version !== undefined) {
      return { version: this.version };
    }

    try {
      const { stdout } = await runProcess(this.binary, ['--version'], {
        cwd: tmpdir(),
        env: ocrEnv(tmpdir()),
        inheritEnv: false,
        deadlineMs: DETECT_DEADLINE_MS,
      });
      // "14.0.1+dfsg1": the Debian suffix is no version users would ask for.
      const version = /^\d+(?:\.\d+)+/.exec(stdout.trim())?.[0];
      this.languages = await this.installedLanguages();
      if (version === undefined || (await detectQpdf()) === null) {
        return null;
      }

      this.version = version;
    } catch {
      return null;
    }

    return { version: this.version };
  }

  async run(job: EngineJob): Promise<EngineResult> {
    const deadlineAt = Date.now() + job.deadlineMs;
    const [input] = job.inputs;
    if (job.operation !== 'pdf/ocr' || input === undefined) {
      throw new AppError('INVALID_CONVERSION_TYPE', {
        message: `OCRmyPDF does not run ${job.operation}.`,
      });
    }

    const languages = await this.checkLanguages(job.options['language']);
    const orient = job.options['auto_orient'] === true;
    if (orient && !this.languages?.has('osd')) {
      throw new AppError('INVALID_DATA', {
        errors: {
          auto_orient: ['Orientation detection (Tesseract osd) is not installed on this worker.'],
        },
      });
    }

    const image = input.format !== 'pdf';
    const source = image ? input : await this.unlock(job, input);
    const output = join(job.outputDir, 'output.pdf');
    const args = [
      '--skip-text',
      '--output-type',
      'pdf',
      '--jobs',
      '1',
      '--quiet',
      '--language',
      languages.join('+'),
      ...(orient ? ['--rotate-pages'] : []),
    ];
    const dpi = job.options['image_dpi'];
    const asked = image && typeof dpi === 'number' ? ['--image-dpi', String(dpi)] : [];
    let run = await this.ocr([...args, ...asked], source, output, job, deadlineAt);
    if (
      image &&
      asked.length === 0 &&
      run.exitCode === EXIT.inputFile &&
      DPI_ERROR.test(run.stderr)
    ) {
      // The image records no resolution (or an implausible one): assume a common scan's.
      job.logger?.debug({ engine: this.name, dpi: DEFAULT_IMAGE_DPI }, 'image resolution assumed');
      const fallback = ['--image-dpi', String(DEFAULT_IMAGE_DPI)];
      run = await this.ocr([...args, ...fallback], source, output, job, deadlineAt);
    }

    this.check(run, image);

    return { files: [output] };
  }

  private async unlock(job: EngineJob, input: EngineInput): Promise<EngineInput> {
    const opened = await openJobPdf(job, input);

    return opened.input;
  }

  private async ocr(
    args: string[],
    input: EngineInput,
    output: string,
    job: EngineJob,
    deadlineAt: number,
  ): Promise<RunProcessResult> {
    // An absolute path never reads as '-' (stdin) or as an option.
    return runProcess(this.binary, [...args, resolve(input.path), output], {
      cwd: job.workDir,
      env: ocrEnv(job.workDir),
      inheritEnv: false,
      deadlineMs: deadlineAt - Date.now(),
      okExitCodes: [EXIT.ok, EXIT.inputFile, EXIT.missingDependency, EXIT.encryptedPdf],
      signal: job.signal,
      logger: job.logger,
      ...(this.killGraceMs === undefined ? {} : { killGraceMs: this.killGraceMs }),
    });
  }

  private check(run: RunProcessResult, image: boolean): void {
    const details = {
      engine: this.name,
      exitCode: run.exitCode,
      stderrTail: run.stderr.slice(-2048),
    };
    switch (run.exitCode) {
      case EXIT.ok:
        return;
      case EXIT.inputFile:
        if (image && ALPHA_CHANNEL.test(run.stderr)) {
          throw new AppError('INVALID_CONVERSION_TYPE', {
            message: 'OCR needs an image without transparency; remove its alpha channel first.',
            details,
          });
        }

        throw new AppError('INPUT_CORRUPT', {
          message: image
            ? 'The image could not be read for OCR.'
            : 'The PDF could not be read for OCR.',
          details,
        });
      case EXIT.encryptedPdf:
        throw new AppError('PASSWORD_REQUIRED', { details });
      default:
        throw new AppError('ENGINE_FAILED', { details });
    }
  }

  /** The requested languages, each installed on this worker. */
  private async checkLanguages(raw: unknown): Promise<string[]> {
    const asked = Array.isArray(raw) && raw.length > 0 ? raw.map(String) : ['eng'];
    const installed = (this.languages ??= await this.installedLanguages());
    const missing = asked.filter((code) => !installed.has(code));
    if (missing.length > 0) {
      throw new AppError('INVALID_DATA', {
        errors: {
          language: [
            `Not installed on this worker: ${missing.join(', ')}. Installed: ${[...installed].filter((c) => c !== 'osd').join(', ')}.`,
          ],
        },
      });
    }

    return [...new Set(asked)];
  }

  private async installedLanguages(): Promise<ReadonlySet<string>> {
    const { stdout } = await runProcess(this.tesseract, ['--list-langs'], {
      cwd: tmpdir(),
      env: ocrEnv(tmpdir()),
      inheritEnv: false,
      deadlineMs: DETECT_DEADLINE_MS,
    });
    // The first line is a heading. 'osd' (orientation data) is listed too: --rotate-pages needs it.
    const codes = stdout
      .split('\n')
      .slice(1)
      .map((line) => line.trim())
      .filter((code) => /^[A-Za-z0-9_]+$/.test(code));

    return new Set(codes);
  }
}

function ocrEnv(workDir: string): Record<string, string> {
  return {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: workDir,
    TMPDIR: workDir,
    LANG: 'C.UTF-8',
    // One Tesseract thread per page: the worker runs several tasks at once already.
    OMP_THREAD_LIMIT: '1',
  };
}
