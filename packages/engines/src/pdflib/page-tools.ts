// Merge, split, extract and rotate: pages copied between documents, or turned in place.
import { join } from 'node:path';

import { cleanFilename, replaceExtension } from '@convertd/api';
import { AppError } from '@convertd/errors';
import { degrees, PDFDocument } from 'pdf-lib';

import type { EngineInput, EngineJob } from '../engine';
import { pagesOf } from '../pdf/pages';
import { type Guard, loadPdf, reading, savePdf } from './document';

/**
 * Every input's pages, in the order of the inputs. Files that are not PDFs are converted to PDF
 * by another engine of the worker first (LibreOffice for office files, and so on).
 */
export async function merge(job: EngineJob, guard: Guard): Promise<string[]> {
  const [first] = job.inputs;
  if (!first) {
    throw new AppError('NO_INPUT_FILES');
  }

  const out = await PDFDocument.create({ updateMetadata: false });
  for (const original of job.inputs) {
    const input = await asPdf(job, original, guard);
    const source = await loadPdf(input, guard);
    const pages = await reading(input, () => out.copyPages(source, source.getPageIndices()));
    for (const page of pages) {
      out.addPage(page);
    }
    job.logger?.debug({ engine: 'pdflib', pages: pages.length }, 'merge input added');
  }

  const name = cleanFilename(replaceExtension(first.filename, 'pdf'), 'merged.pdf');

  return [await savePdf(out, join(job.outputDir, name), guard)];
}

async function asPdf(job: EngineJob, input: EngineInput, guard: Guard): Promise<EngineInput> {
  if (input.format === 'pdf') {
    return input;
  }
  if (!job.convertWith) {
    throw new AppError('ENGINE_UNAVAILABLE', {
      message: `The file ${input.filename} would have to be converted to PDF first, which this worker cannot do.`,
    });
  }
  guard.check();

  return job.convertWith(input, 'pdf');
}

/** One document per page, in page order. */
export async function splitPages(job: EngineJob, guard: Guard): Promise<string[]> {
  const input = single(job);
  const source = await loadPdf(input, guard);
  const count = source.getPageCount();
  const width = String(count).length;
  const files: string[] = [];
  for (let index = 0; index < count; index += 1) {
    const part = await PDFDocument.create({ updateMetadata: false });
    const [page] = await reading(input, () => part.copyPages(source, [index]));
    part.addPage(page);
    // The worker names the outputs; these names only keep them in order on disk.
    const name = `page-${String(index + 1).padStart(width, '0')}.pdf`;
    files.push(await savePdf(part, join(job.outputDir, name), guard));
  }

  return files;
}

/** The pages asked for, in the order asked, in one document. */
export async function extractPages(job: EngineJob, guard: Guard): Promise<string[]> {
  const input = single(job);
  const source = await loadPdf(input, guard);
  const pages = pagesOf(job.options.pages, source.getPageCount());
  const out = await PDFDocument.create({ updateMetadata: false });
  const copied = await reading(input, () =>
    out.copyPages(
      source,
      pages.map((n) => n - 1),
    ),
  );
  for (const page of copied) {
    out.addPage(page);
  }

  return [await savePdf(out, join(job.outputDir, outputName(input)), guard)];
}

/** Turns the pages asked for by `rotation` degrees clockwise, on top of their own rotation. */
export async function rotatePages(job: EngineJob, guard: Guard): Promise<string[]> {
  const input = single(job);
  const turn = rotationOf(job.options.rotation);
  const doc = await loadPdf(input, guard);
  const pages = pagesOf(job.options.pages, doc.getPageCount());
  await reading(input, () => {
    const all = doc.getPages();
    for (const n of pages) {
      const page = all[n - 1]!;
      const current = page.getRotation().angle;
      page.setRotation(degrees((((current + turn) % 360) + 360) % 360));
    }
  });

  return [await savePdf(doc, join(job.outputDir, outputName(input)), guard)];
}

/** "+90", "90", "-90", "270", "180" as degrees; the spec lets nothing else through. */
export function rotationOf(value: unknown): number {
  const turn = Number(value);
  if (!Number.isInteger(turn) || turn % 90 !== 0) {
    throw new AppError('INVALID_DATA', {
      errors: { rotation: ['The rotation must be one of +90, -90, 180, 90 or 270.'] },
    });
  }

  return turn;
}

export function single(job: EngineJob): EngineInput {
  const [input] = job.inputs;
  if (!input) {
    throw new AppError('NO_INPUT_FILES');
  }

  return input;
}

/** The input's own name: the worker renames single outputs after the input anyway. */
export function outputName(input: EngineInput): string {
  return cleanFilename(replaceExtension(input.filename, 'pdf'), 'output.pdf');
}
