// What poppler writes from a PDF: page images (pdftoppm), one SVG per page (pdftocairo), text
// (pdftotext) and one self-contained HTML file (pdftohtml).
import { mkdir, open, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';

import { AppError } from '@convertd/errors';

import { rasterSize, readRasterOptions } from '../paged/fit';
import type { RasterOptions, Size } from '../paged/fit';
import { collectPages, moveInto, pageFiles } from '../paged/files';
import { checkPageCount, checkPixels, runsOf } from '../paged/selection';
import { runTool } from '../paged/tools';
import type { ToolContext } from '../paged/tools';
import { pageSizes } from './pdfinfo';
import type { OpenedPdf } from './pdfinfo';

/** Paths of poppler's programs. */
export interface PopplerPrograms {
  pdfinfo: string;
  pdftoppm: string;
  pdftocairo: string;
  pdftotext: string;
  pdftohtml: string;
}

export interface PdfJob {
  programs: PopplerPrograms;
  input: string;
  doc: OpenedPdf;
  pages: number[];
  options: Record<string, unknown>;
  /** Empty scratch directory; programs write here before outputs move to `outputDir`. */
  scratch: string;
  outputDir: string;
  ctx: ToolContext;
}

/** pdftoppm's switch and file extension per output format. */
const RASTER = {
  png: { args: ['-png'], ext: 'png' },
  jpg: { args: ['-jpeg'], ext: 'jpg' },
  tiff: { args: ['-tiff', '-tiffcompression', 'lzw'], ext: 'tif' },
} as const;

export type RasterFormat = keyof typeof RASTER;

export function isRasterFormat(format: string): format is RasterFormat {
  return Object.hasOwn(RASTER, format);
}

/** One image per page; each run of pdftoppm covers consecutive pages scaled alike. */
export async function rasterize(job: PdfJob, format: RasterFormat): Promise<string[]> {
  checkPageCount(job.pages);
  const sizes = await sizesOf(job);
  const raster = readRasterOptions(job.options);
  const scaleArgs = new Map<number, string[]>();
  for (const page of job.pages) {
    const size = sizes.get(page);
    if (size === undefined) {
      throw new AppError('ENGINE_FAILED', {
        details: { engine: 'poppler', reason: 'page not measured', page },
      });
    }

    scaleArgs.set(page, scaleOf(raster, page, size));
  }

  const { args, ext } = RASTER[format];
  const quality = (job.options['quality'] as number | undefined) ?? 85;
  const qualityArgs = format === 'jpg' ? ['-jpegopt', `quality=${quality}`] : [];
  for (const run of runsOf(job.pages, (page) => scaleArgs.get(page)?.join(' '))) {
    await runTool(
      job.programs.pdftoppm,
      [
        ...args,
        ...qualityArgs,
        ...(scaleArgs.get(run.from) ?? []),
        // Viewers show the crop box; pdftoppm would render the media box.
        '-cropbox',
        '-f',
        String(run.from),
        '-l',
        String(run.to),
        ...job.doc.passwordArgs,
        job.input,
        'page',
      ],
      job.ctx,
    );
  }

  const found = await pageFiles(job.scratch, 'page', ext);

  return collectPages(found, job.pages, job.outputDir, format, 'poppler');
}

/**
 * One SVG document per page: pdftocairo puts several pages of one file in an SVG page set. Vector
 * output is cut to the crop box without being asked.
 */
export async function svgPages(job: PdfJob): Promise<string[]> {
  checkPageCount(job.pages);
  for (const page of job.pages) {
    const at = String(page);
    await runTool(
      job.programs.pdftocairo,
      ['-svg', '-f', at, '-l', at, ...job.doc.passwordArgs, job.input, `page-${at}.svg`],
      job.ctx,
    );
  }

  return collectPages(
    await pageFiles(job.scratch, 'page', 'svg'),
    job.pages,
    job.outputDir,
    'svg',
    'poppler',
  );
}

/** UTF-8 text of the selected pages, pages separated by form feeds as pdftotext writes them. */
export async function extractText(job: PdfJob, name: string): Promise<string[]> {
  const layout = job.options['layout'] === true ? ['-layout'] : [];
  const parts: string[] = [];
  for (const run of runsOf(job.pages, () => 0)) {
    const part = `part-${run.from}.txt`;
    const range = ['-f', String(run.from), '-l', String(run.to)];
    await runTool(
      job.programs.pdftotext,
      ['-enc', 'UTF-8', ...layout, ...range, ...job.doc.passwordArgs, job.input, part],
      job.ctx,
    );
    parts.push(join(job.scratch, part));
  }

  if (parts.length === 1 && parts[0] !== undefined) {
    return [await moveInto(parts[0], job.outputDir, name)];
  }

  const target = join(job.outputDir, name);
  const out = await open(target, 'w');
  try {
    for (const part of parts) {
      await out.write(await readFile(part));
    }
  } finally {
    await out.close();
  }

  return [target];
}

/**
 * One HTML file with the pages' text in place over their backgrounds, images inlined as data
 * URLs so that nothing is written beside it. `stem` becomes the title when the PDF has none.
 */
export async function toHtml(job: PdfJob, stem: string): Promise<string[]> {
  const [run, ...more] = runsOf(job.pages, () => 0);
  if (run === undefined || more.length > 0) {
    const message = 'HTML takes one range of pages, like "2-5".';
    throw new AppError('INVALID_DATA', { message, errors: { pages: [message] } });
  }

  const dir = join(job.scratch, 'html');
  await mkdir(dir);
  await runTool(
    job.programs.pdftohtml,
    [
      '-q',
      '-s',
      '-noframes',
      '-dataurls',
      '-enc',
      'UTF-8',
      // Copy restrictions are advisory; pdftotext and mutool do not apply them either.
      '-nodrm',
      '-f',
      String(run.from),
      '-l',
      String(run.to),
      ...job.doc.passwordArgs,
      job.input,
      // Relative: pdftohtml puts the name into the title.
      stem,
    ],
    { ...job.ctx, cwd: dir },
  );
  const written = (await readdir(dir)).filter((name) => name.endsWith('.html'));
  const [html] = written;
  if (html === undefined || written.length > 1) {
    throw new AppError('ENGINE_FAILED', {
      details: { engine: 'poppler', reason: 'html not written', written },
    });
  }

  return [await moveInto(join(dir, html), job.outputDir, `${stem}.html`)];
}

/** pdftoppm's scale arguments for one page; refuses pages too large for memory. */
function scaleOf(raster: RasterOptions, page: number, size: Size): string[] {
  const { pixels, by } = rasterSize(raster, size);
  checkPixels(pixels, page, by);
  switch (by) {
    case 'pixel_density':
      return ['-r', String(raster.dpi)];
    case 'width':
      return ['-scale-to-x', String(pixels.width), '-scale-to-y', '-1'];
    case 'height':
      return ['-scale-to-x', '-1', '-scale-to-y', String(pixels.height)];
  }
}

/** Page sizes of the selected pages, one pdfinfo run per stretch of consecutive pages. */
async function sizesOf(job: PdfJob): Promise<Map<number, Size>> {
  const { pdfinfo } = job.programs;
  const sizes = new Map<number, Size>();
  for (const run of runsOf(job.pages, () => 0)) {
    for (const [page, size] of await pageSizes(pdfinfo, job.input, job.doc, run, job.ctx)) {
      sizes.set(page, size);
    }
  }

  return sizes;
}
