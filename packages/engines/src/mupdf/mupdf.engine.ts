// MuPDF adapter: `mutool draw` turns pages of PDF, XPS, CBZ and e-books into PNG, SVG, text or
// HTML, and draws thumbnails that sharp finishes.
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';

import { MUPDF } from '@convertd/api';
import { AppError, isAppError } from '@convertd/errors';

import type { Engine, EngineInput, EngineJob, EngineResult } from '../engine';
import { rasterSize, readRasterOptions } from '../paged/fit';
import type { Size } from '../paged/fit';
import { collectPages, linkOrCopy, moveInto, pageFiles } from '../paged/files';
import { outputStem } from '../paged/names';
import {
  checkPageCount,
  checkPixels,
  formatRanges,
  parsePages,
  runsOf,
  selectPages,
} from '../paged/selection';
import { runTool, toolVersion } from '../paged/tools';
import type { ToolContext } from '../paged/tools';
import { EBOOK_LAYOUT, measure } from './measure';
import type { Measured } from './measure';
import { drawArgs, finish, readBox } from './thumbnail';
import type { ThumbnailFormat } from './thumbnail';

const INPUTS = new Set(['pdf', 'xps', 'oxps', 'cbz', 'epub', 'mobi', 'fb2']);
const CONVERT_OUTPUTS = new Set(['png', 'svg', 'txt', 'html']);
const THUMBNAIL_OUTPUTS = new Set(['png', 'jpg', 'webp']);
/** E-books are laid out as when measured; other documents ignore these. */
const LAYOUT_ARGS = [
  '-W',
  String(EBOOK_LAYOUT.width),
  '-H',
  String(EBOOK_LAYOUT.height),
  '-S',
  String(EBOOK_LAYOUT.em),
];

export interface MupdfEngineOptions {
  /** The mutool executable; default `mutool` from PATH. */
  binary?: string;
  /** Delay between SIGTERM and SIGKILL when a run is stopped; default 2000. */
  killGraceMs?: number;
}

/** One task's document, opened and measured. */
interface Opened {
  /** The input staged under a name whose extension tells mutool its type. */
  file: string;
  doc: Measured;
  /** `-p <password>` when the document needs one. */
  passwordArgs: string[];
  ctx: ToolContext;
  scratch: string;
}

/** Runs MuPDF's `mutool` on PDF, XPS, CBZ, EPUB, MOBI and FB2 documents. */
export class MupdfEngine implements Engine {
  readonly name = 'mupdf';
  readonly spec = MUPDF;
  private readonly binary: string;
  private readonly killGraceMs: number | undefined;
  private version: string | undefined;

  constructor(options: MupdfEngineOptions = {}) {
    this.binary = options.binary ?? 'mutool';
    this.killGraceMs = options.killGraceMs;
  }

  async detect(): Promise<{ version: string } | null> {
    if (this.version === undefined) {
      try {
        // "mutool version 1.21.1"
        this.version = await toolVersion(this.binary, ['-v'], /mutool version (\d+(?:\.\d+)+)/);
      } catch {
        return null;
      }
    }

    return this.version === undefined ? null : { version: this.version };
  }

  async run(job: EngineJob): Promise<EngineResult> {
    const [input] = job.inputs;
    const outputs = job.operation === 'thumbnail' ? THUMBNAIL_OUTPUTS : CONVERT_OUTPUTS;
    const format = job.outputFormat ?? '';
    const known = job.operation === 'thumbnail' || job.operation === 'convert';
    if (input === undefined || !INPUTS.has(input.format) || !known || !outputs.has(format)) {
      throw new AppError('INVALID_CONVERSION_TYPE', {
        message: `MuPDF does not run ${job.operation} from ${input?.format ?? 'nothing'} to ${format || 'nothing'}.`,
      });
    }

    const scratch = await mkdtemp(join(job.workDir, 'mupdf-'));
    try {
      const files =
        job.operation === 'thumbnail'
          ? await this.thumbnails(job, input, format as ThumbnailFormat, scratch)
          : await this.convert(job, input, format, scratch);
      job.logger?.debug({ engine: this.name, files: files.length }, 'engine converted');

      return { files };
    } catch (err) {
      if (input.format !== 'epub' || !isEncryptedEpub(err)) {
        throw err;
      }
      // MuPDF refuses any EPUB that lists encrypted parts, even only obfuscated fonts, which
      // calibre reads: the book as calibre's PDF, drawn here.
      if (job.convertWith === undefined) {
        throw new AppError('INPUT_CORRUPT', {
          message:
            'The EPUB lists encrypted content (DRM or obfuscated fonts), which MuPDF cannot open.',
          cause: err,
        });
      }
      const pdf = await job.convertWith(input, 'pdf');
      job.logger?.debug({ engine: this.name }, 'encrypted EPUB drawn from its PDF');

      return this.run({ ...job, inputs: [pdf] });
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }

  private async convert(job: EngineJob, input: EngineInput, format: string, scratch: string) {
    const ranges = parsePages(job.options['pages']);
    const measured =
      format === 'png' ? (ranges === undefined ? 'all' : formatRanges(ranges)) : 'none';
    const doc = await this.open(job, input, scratch, measured);
    const pages = selectPages(ranges, doc.doc.pages);
    const spec = formatRanges(runsOf(pages, () => 0));
    const stem = outputStem(input.filename);
    switch (format) {
      case 'png': {
        checkPageCount(pages);
        const scale = this.rasterScale(job.options, pages, doc.doc.sizes);
        await this.draw(doc, ['-F', 'png', ...scale, '-o', 'page-%d.png'], spec);

        return collectPages(
          await pageFiles(scratch, 'page', 'png'),
          pages,
          job.outputDir,
          'png',
          this.name,
        );
      }
      case 'svg':
        checkPageCount(pages);
        await this.draw(doc, ['-F', 'svg', '-o', 'page-%d.svg'], spec);

        return collectPages(
          await pageFiles(scratch, 'page', 'svg'),
          pages,
          job.outputDir,
          'svg',
          this.name,
        );
      default: {
        // Text and HTML: every selected page goes into one file.
        const name = `${stem}.${format}`;
        await this.draw(doc, ['-F', format, '-o', name], spec);

        return [await moveInto(join(scratch, name), job.outputDir, name)];
      }
    }
  }

  /** mutool's scale arguments; refuses pages too large for memory. */
  private rasterScale(
    options: Record<string, unknown>,
    pages: readonly number[],
    sizes: ReadonlyMap<number, Size>,
  ): string[] {
    const raster = readRasterOptions(options);
    for (const page of pages) {
      const size = sizes.get(page);
      if (size === undefined) {
        throw new AppError('ENGINE_FAILED', {
          details: { engine: this.name, reason: 'page not measured', page },
        });
      }

      const { pixels, by } = rasterSize(raster, size);
      checkPixels(pixels, page, by);
    }

    // Without -r, -w and -h scale each page by itself (both: inside the box), as rasterSize does.
    const box = [
      ...(raster.width === undefined ? [] : ['-w', String(raster.width)]),
      ...(raster.height === undefined ? [] : ['-h', String(raster.height)]),
    ];

    return box.length > 0 ? box : ['-r', String(raster.dpi)];
  }

  private async thumbnails(
    job: EngineJob,
    input: EngineInput,
    format: ThumbnailFormat,
    scratch: string,
  ): Promise<string[]> {
    const count = (job.options['count'] as number | undefined) ?? 1;
    const doc = await this.open(job, input, scratch, `1-${count}`);
    const pages = selectPages([{ from: 1, to: Math.min(count, doc.doc.pages) }], doc.doc.pages);
    const box = readBox(job.options);
    const argsOf = new Map<number, string[]>();
    for (const page of pages) {
      const size = doc.doc.sizes.get(page);
      if (size === undefined) {
        throw new AppError('ENGINE_FAILED', {
          details: { engine: this.name, reason: 'page not measured', page },
        });
      }

      argsOf.set(page, drawArgs(box, page, size));
    }

    for (const run of runsOf(pages, (page) => (argsOf.get(page) ?? []).join(' '))) {
      const args = argsOf.get(run.from) ?? [];
      await this.draw(doc, ['-F', 'png', ...args, '-o', 'drawn-%d.png'], formatRanges([run]));
    }

    const drawn = await pageFiles(scratch, 'drawn', 'png');
    const files: string[] = [];
    for (const page of pages) {
      const file = drawn.get(page);
      if (file === undefined) {
        throw new AppError('ENGINE_FAILED', {
          details: { engine: this.name, reason: 'page not drawn', page },
        });
      }

      if (job.signal?.aborted === true) {
        throw new AppError('ENGINE_CANCELLED', { cause: job.signal.reason });
      }

      const target = join(job.outputDir, `page-${page}.${format}`);
      await finish(file, target, box, format, doc.ctx.deadlineAt);
      files.push(target);
    }

    return files;
  }

  /** Stages, opens and measures the input (`wanted`: pages to measure, see `measure`). */
  private async open(
    job: EngineJob,
    input: EngineInput,
    scratch: string,
    wanted: string,
  ): Promise<Opened> {
    const password =
      typeof job.options['password'] === 'string' ? job.options['password'] : undefined;
    const ctx: ToolContext = {
      cwd: scratch,
      deadlineAt: Date.now() + job.deadlineMs,
      signal: job.signal,
      logger: job.logger,
      killGraceMs: this.killGraceMs,
      secrets: password === undefined ? [] : [password],
    };
    // mutool tells a document's type by its extension; the worker's copy may have none.
    const file = join(scratch, `input.${input.format}`);
    await linkOrCopy(input.path, file);
    const doc = await measure(this.binary, file, password, wanted, ctx);
    const passwordArgs = password === undefined ? [] : ['-p', password];

    return { file, doc, passwordArgs, ctx, scratch };
  }

  private async draw(doc: Opened, args: readonly string[], pages: string): Promise<void> {
    await runTool(
      this.binary,
      ['draw', '-q', ...LAYOUT_ARGS, ...doc.passwordArgs, ...args, doc.file, pages],
      doc.ctx,
    );
  }
}

/** mutool's refusal of an EPUB with an encryption.xml ("EPUB is locked by DRM"). */
function isEncryptedEpub(err: unknown): boolean {
  if (!isAppError(err) || err.code !== 'INPUT_CORRUPT') {
    return false;
  }
  const reason = (err.details as { error?: unknown } | undefined)?.error;

  return typeof reason === 'string' && /locked by DRM/i.test(reason);
}
