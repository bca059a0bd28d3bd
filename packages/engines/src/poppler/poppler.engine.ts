// Poppler adapter: PDF to page images, SVG, text and HTML, and pdfinfo's metadata.
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';

import { POPPLER } from '@convertd/api';
import { AppError } from '@convertd/errors';

import type { Engine, EngineJob, EngineResult } from '../engine';
import { outputStem } from '../paged/names';
import { parsePages, selectPages } from '../paged/selection';
import { toolVersion } from '../paged/tools';
import type { ToolContext } from '../paged/tools';
import { openPdf, toMetadata } from './pdfinfo';
import { extractText, isRasterFormat, rasterize, svgPages, toHtml } from './outputs';
import type { PdfJob, PopplerPrograms } from './outputs';

export interface PopplerEngineOptions {
  /** Directory of poppler's programs; default: found on PATH. */
  binDir?: string;
  /** Delay between SIGTERM and SIGKILL when a run is stopped; default 2000. */
  killGraceMs?: number;
}

/** Runs poppler-utils (pdftoppm, pdftocairo, pdftotext, pdftohtml, pdfinfo) on PDFs. */
export class PopplerEngine implements Engine {
  readonly name = 'poppler';
  readonly spec = POPPLER;
  private readonly programs: PopplerPrograms;
  private readonly killGraceMs: number | undefined;
  private version: string | undefined;

  constructor(options: PopplerEngineOptions = {}) {
    const at = (name: string) => (options.binDir === undefined ? name : join(options.binDir, name));
    this.programs = {
      pdfinfo: at('pdfinfo'),
      pdftoppm: at('pdftoppm'),
      pdftocairo: at('pdftocairo'),
      pdftotext: at('pdftotext'),
      pdftohtml: at('pdftohtml'),
    };
    this.killGraceMs = options.killGraceMs;
  }

  async detect(): Promise<{ version: string } | null> {
    if (this.version === undefined) {
      try {
        // "pdftoppm version 22.12.0", on stderr.
        this.version = await toolVersion(
          this.programs.pdftoppm,
          ['-v'],
          /pdftoppm version (\d+(?:\.\d+)+)/,
          [0, 99],
        );
      } catch {
        return null;
      }
    }

    return this.version === undefined ? null : { version: this.version };
  }

  async run(job: EngineJob): Promise<EngineResult> {
    const [input] = job.inputs;
    const supported =
      job.operation === 'metadata' || (job.operation === 'convert' && job.outputFormat !== null);
    if (input === undefined || input.format !== 'pdf' || !supported) {
      throw new AppError('INVALID_CONVERSION_TYPE', {
        message: `Poppler does not run ${job.operation} for ${input?.format ?? 'no input'}.`,
      });
    }

    const password =
      typeof job.options['password'] === 'string' ? job.options['password'] : undefined;
    const scratch = await mkdtemp(join(job.workDir, 'poppler-'));
    const ctx: ToolContext = {
      cwd: scratch,
      deadlineAt: Date.now() + job.deadlineMs,
      signal: job.signal,
      logger: job.logger,
      killGraceMs: this.killGraceMs,
      secrets: password === undefined ? [] : [password],
    };
    try {
      const doc = await openPdf(this.programs.pdfinfo, input.path, password, ctx);
      if (job.operation === 'metadata') {
        return { files: [], metadata: toMetadata(doc.fields) };
      }

      const pdf: PdfJob = {
        programs: this.programs,
        input: input.path,
        doc,
        pages: selectPages(parsePages(job.options['pages']), doc.pages),
        options: job.options,
        scratch,
        outputDir: job.outputDir,
        ctx,
      };
      const files = await this.convert(pdf, job.outputFormat ?? '', outputStem(input.filename));
      job.logger?.debug(
        { engine: this.name, pages: pdf.pages.length, files: files.length },
        'engine converted',
      );

      return { files };
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }

  private async convert(pdf: PdfJob, format: string, stem: string): Promise<string[]> {
    if (isRasterFormat(format)) {
      return rasterize(pdf, format);
    }

    switch (format) {
      case 'svg':
        return svgPages(pdf);
      case 'txt':
        return extractText(pdf, `${stem}.txt`);
      case 'html':
        return toHtml(pdf, stem);
      default:
        throw new AppError('INVALID_CONVERSION_TYPE', {
          message: `Poppler does not convert pdf to ${format}.`,
        });
    }
  }
}
