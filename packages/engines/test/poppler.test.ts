import { execFile } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';

import { describe, expect, it } from 'vitest';

import { PopplerEngine } from '../src/poppler/poppler.engine';
import {
  collapse,
  concatenated,
  htmlText,
  imageInfo,
  jobFor,
  KIDS,
  meanColour,
  OWNER_ONLY,
  pdfPages,
  pdfText,
  readText,
  recordingLogger,
  runOn,
  USER_PASSWORD,
  UTF8_PASSWORD,
  VICKSBURG,
  withPageBoxes,
} from './paged';
import { failure, scratchDir } from './support';

const run = promisify(execFile);

const scratch = scratchDir('engines-poppler-');
const sut = new PopplerEngine();

function convert(input: string, format: string, options: Record<string, unknown> = {}) {
  return runOn(sut, scratch.path, input, 'convert', format, options);
}

describe(PopplerEngine.name, () => {
  it('reports the version pdftoppm prints', async () => {
    const { stderr } = await run('pdftoppm', ['-v']);
    const printed = /version (\S+)/.exec(stderr)?.[1];

    expect(await sut.detect()).toEqual({ version: printed });
    expect(printed).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('renders every page of a PDF to PNG at 150 dpi by default, in page order', async () => {
    const { files, job } = await convert(VICKSBURG, 'png');

    expect(files).toHaveLength(await pdfPages(VICKSBURG));
    expect(files.map((f) => basename(f))).toEqual([1, 2, 3, 4, 5, 6].map((n) => `page-${n}.png`));
    expect(await readdir(job.outputDir)).toHaveLength(6);
    for (const file of files) {
      // 432 x 648 pt at 150 dpi.
      expect(await imageInfo(file)).toEqual({ format: 'png', width: 900, height: 1350 });
    }
  });

  it('keeps the page order past the padded page numbers of pdftoppm', async () => {
    const { files } = await convert(KIDS, 'png', { pages: '11,9-10,2', pixel_density: 20 });

    expect(files.map((f) => basename(f))).toEqual([
      'page-2.png',
      'page-9.png',
      'page-10.png',
      'page-11.png',
    ]);
    for (const [i, page] of [2, 9, 10, 11].entries()) {
      const single = join(scratch.path, `single-${page}`);
      await run('pdftoppm', [
        '-png',
        '-r',
        '20',
        '-cropbox',
        '-singlefile',
        '-f',
        `${page}`,
        '-l',
        `${page}`,
        KIDS,
        single,
      ]);
      expect(await meanColour(files[i]!)).toEqual(await meanColour(`${single}.png`));
    }
  });

  it('writes JPEG at the asked width, and quality changes the encoding', async () => {
    const low = await convert(KIDS, 'jpg', { pages: '1-2', width: 300, quality: 20 });
    const high = await convert(KIDS, 'jpg', { pages: '1-2', width: 300, quality: 95 });

    expect(low.files).toHaveLength(2);
    for (const file of [...low.files, ...high.files]) {
      // 612 x 792 pt scaled to 300 px wide; pdftoppm rounds up.
      expect(await imageInfo(file)).toEqual({
        format: 'jpeg',
        width: 300,
        height: Math.ceil((300 * 792) / 612),
      });
    }
    const sizes = async (files: string[]) =>
      Promise.all(files.map(async (f) => (await readFile(f)).length));
    const [lowSizes, highSizes] = [await sizes(low.files), await sizes(high.files)];
    expect(lowSizes[0]!).toBeLessThan(highSizes[0]!);
  });

  it('fits each page inside width x height, and writes TIFF named .tiff', async () => {
    const { files } = await convert(KIDS, 'tiff', { pages: '3', width: 200, height: 200 });

    expect(files.map((f) => basename(f))).toEqual(['page-3.tiff']);
    expect(await imageInfo(files[0]!)).toEqual({ format: 'tiff', width: 155, height: 200 });
  });

  it('renders the crop box as turned by /Rotate, to images and to SVG', async () => {
    const turned = await withPageBoxes(VICKSBURG, join(scratch.path, 'turned.pdf'), {
      cropBox: [0, 0, 300, 400],
      rotate: 90,
    });
    const png = await convert(turned, 'png', { pages: '1', pixel_density: 72 });
    const svg = await convert(turned, 'svg', { pages: '1' });

    expect(await imageInfo(png.files[0]!)).toEqual({ format: 'png', width: 400, height: 300 });
    expect(await readText(svg.files[0]!)).toMatch(/<svg[^>]*width="400pt" height="300pt"/);
  });

  it('writes one SVG document per page', async () => {
    const { files } = await convert(KIDS, 'svg', { pages: '1-2' });

    expect(files.map((f) => basename(f))).toEqual(['page-1.svg', 'page-2.svg']);
    for (const file of files) {
      const svg = await readText(file);
      expect(svg.startsWith('<?xml')).toBe(true);
      expect(svg).toMatch(/<svg[^>]*width="612pt" height="792pt"/);
    }
  });

  it('extracts UTF-8 text of the selected pages, with the layout when asked', async () => {
    const { files } = await convert(KIDS, 'txt', { pages: '1-2,5' });
    const text = collapse(await readText(files[0]!));

    expect(files).toHaveLength(1);
    expect(text).toContain((await pdfText(KIDS, 1, 2)).slice(0, 200));
    expect(text).toContain((await pdfText(KIDS, 5)).slice(0, 200));
    expect(text).not.toContain((await pdfText(KIDS, 3)).slice(0, 200));

    // The scanned book's text layer has columns of figures that only -layout keeps apart.
    const laidOut = await convert(VICKSBURG, 'txt', { layout: true });
    const flowing = await convert(VICKSBURG, 'txt');
    expect(await readText(laidOut.files[0]!)).toMatch(/\S {3,}\S/);
    expect(await readText(flowing.files[0]!)).not.toMatch(/\S {3,}\S/);
  });

  it('writes one HTML file with the text and inline images', async () => {
    const { files, job } = await convert(KIDS, 'html', { pages: '1-2' });
    const html = await readText(files[0]!);

    expect(await readdir(job.outputDir)).toEqual([basename(files[0]!)]);
    expect(html).toContain('<!DOCTYPE html>');
    expect(htmlText(html)).toContain('Public domain texts for young people');
    expect(html).toContain('src="data:image/');
    expect(html).not.toContain(scratch.path);
  });

  it('refuses HTML of pages that are not one range', async () => {
    const { err } = await failure(convert(KIDS, 'html', { pages: '1,3' }));

    expect(err.code).toBe('INVALID_DATA');
    expect(Object.keys(err.errors ?? {})).toEqual(['pages']);
  });

  it('reads the document information as typed metadata', async () => {
    const job = await jobFor(scratch.path, KIDS, 'metadata', null);
    const { files, metadata } = await sut.run(job);

    expect(files).toEqual([]);
    expect(metadata).toMatchObject({
      Author: 'Matt Pierard',
      Producer: 'OpenOffice.org 3.1',
      Pages: 55,
      Encrypted: false,
      PDFVersion: '1.4',
      PageSize: '612 x 792 pts (letter)',
      PageWidth: 612,
      PageHeight: 792,
      FileSize: 546144,
      Tagged: false,
    });
    expect(metadata?.['CreationDate']).toMatch(/^2010-09-0\dT/);
  });

  it('names the permissions of an encrypted PDF in its metadata', async () => {
    const { metadata } = await sut.run(await jobFor(scratch.path, OWNER_ONLY, 'metadata', null));

    expect(metadata).toMatchObject({ Encrypted: true, JavaScript: true });
    expect(metadata?.['Encryption']).toContain('copy:no');
  });

  it('opens a PDF with its user password, and tells a missing and a wrong one apart', async () => {
    const { files } = await convert(USER_PASSWORD, 'png', {
      password: 'openpassword',
      pixel_density: 30,
    });
    expect(files).toHaveLength(1);

    const unicode = await convert(UTF8_PASSWORD, 'txt', { password: 'æøå' });
    expect(unicode.files).toHaveLength(1);

    expect((await failure(convert(USER_PASSWORD, 'png'))).err.code).toBe('PASSWORD_REQUIRED');
    expect((await failure(convert(USER_PASSWORD, 'png', { password: 'nope' }))).err.code).toBe(
      'PASSWORD_INVALID',
    );
  });

  it('ignores a password that a PDF does not need', async () => {
    const { files } = await convert(OWNER_ONLY, 'txt', { password: 'not-the-owner' });

    expect(collapse(await readText(files[0]!))).toContain('Security Handler');
  });

  it('keeps the password out of what it logs', async () => {
    const logger = recordingLogger();
    const job = await jobFor(
      scratch.path,
      USER_PASSWORD,
      'convert',
      'txt',
      { password: 'openpassword' },
      { logger },
    );
    await sut.run(job);

    expect(logger.lines.length).toBeGreaterThan(0);
    expect(JSON.stringify(logger.lines)).not.toContain('openpassword');
  });

  it('refuses pages past the end of the document, naming the option', async () => {
    const { err } = await failure(convert(KIDS, 'png', { pages: '50-60' }));

    expect(err.code).toBe('INVALID_DATA');
    expect(err.errors?.['pages']?.[0]).toContain('55 pages');
  });

  it('refuses a page range it cannot read', async () => {
    const { err } = await failure(convert(KIDS, 'txt', { pages: '3-1' }));

    expect(err.code).toBe('INVALID_DATA');
    expect(Object.keys(err.errors ?? {})).toEqual(['pages']);
  });

  it('renders at most 500 pages per task', async () => {
    const big = await concatenated(KIDS, 10, join(scratch.path, 'big.pdf'));
    expect(await pdfPages(big)).toBe(550);

    const { err } = await failure(convert(big, 'png'));
    expect(err.code).toBe('INVALID_DATA');
    expect(err.errors?.['pages']?.[0]).toContain('At most 500 pages');

    const { files } = await convert(big, 'png', { pages: '549-550', pixel_density: 10 });
    expect(files).toHaveLength(2);
  });

  it('refuses a page image too large for memory', async () => {
    const poster = await withPageBoxes(VICKSBURG, join(scratch.path, 'poster.pdf'), {
      mediaBox: [0, 0, 14400, 14400],
      cropBox: [0, 0, 14400, 14400],
    });
    const { err } = await failure(convert(poster, 'png', { pages: '1' }));

    expect(err.code).toBe('INVALID_DATA');
    expect(err.errors?.['pixel_density']?.[0]).toContain('30000 x 30000');
  });

  it('reports files that are not PDFs or are cut short as corrupt', async () => {
    const garbage = join(scratch.path, 'garbage.pdf');
    await writeFile(garbage, 'this is not a PDF at all\n'.repeat(50));
    const truncated = join(scratch.path, 'truncated.pdf');
    await writeFile(truncated, (await readFile(KIDS)).subarray(0, 20_000));

    expect((await failure(convert(garbage, 'png'))).err.code).toBe('INPUT_CORRUPT');
    expect((await failure(convert(truncated, 'txt'))).err.code).toBe('INPUT_CORRUPT');
  });

  it('stops when the task is cancelled', async () => {
    const controller = new AbortController();
    controller.abort();
    const job = await jobFor(
      scratch.path,
      KIDS,
      'convert',
      'png',
      {},
      { signal: controller.signal },
    );

    expect((await failure(sut.run(job))).err.code).toBe('ENGINE_CANCELLED');
  });
});
