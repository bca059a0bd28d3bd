// PDF pages to images and text, thumbnails and PDF metadata through the official node SDK, on
// the poppler and mupdf engines of a real worker. Outputs are downloaded and read back: image
// format and size with sharp, text against pdftotext of the source.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import sharp from 'sharp';
import { describe, expect, it } from 'vitest';

import { CORPUS } from '../../../test/harness';
import { sdkStack, taskOf } from './support';

const KIDS = "kids' stories & tales [v2] 100%.pdf";
const KIDS_PDF = path.join(CORPUS, 'pdf', KIDS);
const VICKSBURG_PDF = path.join(CORPUS, 'pdf/Seige_of_Vicksburg_Sample_OCR.pdf');

const sdk = sdkStack('pdf-render');
const { runFile: runJob } = sdk;

async function imageInfo(file: string) {
  const { format, width, height } = await sharp(file).metadata();

  return { format, width, height };
}

function pdfText(file: string, first: number, last: number): string {
  const text = execFileSync('pdftotext', ['-f', `${first}`, '-l', `${last}`, file, '-'], {
    encoding: 'utf8',
  });

  return text.replace(/\s+/g, ' ').trim();
}

describe('PDF rendering through the node SDK', () => {
  it('renders a multi-page PDF to PNGs named after the upload, with mupdf by default', async () => {
    const job = await runJob(KIDS_PDF, KIDS, {
      operation: 'convert',
      output_format: 'png',
      pages: '1-3',
      pixel_density: 36,
    });

    expect(job.status).toBe('finished');
    const work = taskOf(job, 'work');
    expect(work.engine).toBe('mupdf');
    expect(work.engine_version).toMatch(/^\d+\.\d+/);
    const files = await sdk.exports(job);
    const stem = "kids' stories & tales [v2] 100%";
    expect(files.map((f) => f.filename)).toEqual([1, 2, 3].map((n) => `${stem}-${n}.png`));
    for (const { file } of files) {
      // 612 x 792 pt at 36 dpi.
      expect(await imageInfo(file)).toEqual({ format: 'png', width: 306, height: 396 });
    }
  });

  it('renders with poppler when asked, numbering files with a printf filename', async () => {
    const job = await runJob(VICKSBURG_PDF, 'vicksburg.pdf', {
      operation: 'convert',
      output_format: 'png',
      engine: 'poppler',
      pixel_density: 24,
      filename: 'p-%02d.png',
    });

    expect(job.status).toBe('finished');
    expect(taskOf(job, 'work').engine).toBe('poppler');
    const files = await sdk.exports(job);
    expect(files.map((f) => f.filename)).toEqual([1, 2, 3, 4, 5, 6].map((n) => `p-0${n}.png`));
    for (const { file } of files) {
      // 432 x 648 pt at 24 dpi.
      expect(await imageInfo(file)).toEqual({ format: 'png', width: 144, height: 216 });
    }
  });

  it('extracts the text of the selected pages with poppler', async () => {
    const job = await runJob(KIDS_PDF, KIDS, {
      operation: 'convert',
      output_format: 'txt',
      pages: '2-3',
    });

    expect(job.status).toBe('finished');
    expect(taskOf(job, 'work').engine).toBe('poppler');
    const [txt] = await sdk.exports(job);
    expect(txt!.filename).toBe("kids' stories & tales [v2] 100%.txt");
    const text = fs.readFileSync(txt!.file, 'utf8').replace(/\s+/g, ' ').trim();
    expect(text).toBe(pdfText(KIDS_PDF, 2, 3));
  });

  it('makes a cropped thumbnail of the first page', async () => {
    const job = await runJob(KIDS_PDF, 'kids.pdf', {
      operation: 'thumbnail',
      output_format: 'jpg',
      width: 160,
      height: 90,
      fit: 'crop',
    });

    expect(job.status).toBe('finished');
    expect(taskOf(job, 'work').engine).toBe('mupdf');
    const files = await sdk.exports(job);
    expect(files.map((f) => f.filename)).toEqual(['kids.jpg']);
    expect(await imageInfo(files[0]!.file)).toEqual({ format: 'jpeg', width: 160, height: 90 });
  });

  it('reads the metadata of a PDF', async () => {
    const done = await sdk.runJob(
      {
        'import-it': { operation: 'import/upload' },
        'meta-it': { operation: 'metadata', input: 'import-it', engine: 'poppler' },
      },
      { 'import-it': [KIDS_PDF, KIDS] },
    );

    expect(done.status).toBe('finished');
    const meta = taskOf(done, 'meta-it');
    expect(meta.engine).toBe('poppler');
    expect(meta.result?.metadata).toMatchObject({
      Pages: 55,
      Author: 'Matt Pierard',
      PDFVersion: '1.4',
    });
  });

  it('fails the task naming pages when the range is past the end', async () => {
    const job = await runJob(KIDS_PDF, KIDS, {
      operation: 'convert',
      output_format: 'png',
      pages: '54-60',
    });
    const work = taskOf(job, 'work');

    expect(job.status).toBe('error');
    expect(work.status).toBe('error');
    expect(work.code).toBe('INVALID_DATA');
    expect(work.message).toContain('The document has 55 pages; page 60 is past its end.');
  });

  it('refuses options the engines do not have before running anything', async () => {
    const err: unknown = await sdk.cc.jobs
      .create({
        tasks: {
          'import-it': { operation: 'import/upload' },
          'work-it': {
            operation: 'convert',
            input: 'import-it',
            input_format: 'pdf',
            output_format: 'png',
            dpi: 300,
          },
        },
      } as never)
      .catch((e: unknown) => e);
    const res = (err as { cause: Response }).cause;

    expect(res.status).toBe(422);
    const body = (await res.json()) as { code: string; errors: Record<string, string[]> };
    expect(body.code).toBe('INVALID_DATA');
    expect(Object.keys(body.errors)).toEqual(['tasks.work-it.dpi']);
  });
});
