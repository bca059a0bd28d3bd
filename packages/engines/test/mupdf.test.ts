import { execFile } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';

import sharp from 'sharp';
import { describe, expect, it } from 'vitest';

import { MupdfEngine } from '../src/mupdf/mupdf.engine';
import {
  ALICE,
  collapse,
  comicBook,
  comicBookOf,
  concatenated,
  fictionBook,
  htmlText,
  imageInfo,
  jobFor,
  KIDS,
  meanColour,
  MOBI,
  pdfPages,
  pdfText,
  readText,
  recordingLogger,
  runOn,
  TINY_PAGE,
  USER_PASSWORD,
  VICKSBURG,
  withPageBoxes,
  xpsDocument,
} from './paged';
import { failure, scratchDir } from './support';

const run = promisify(execFile);

const scratch = scratchDir('engines-mupdf-');
const sut = new MupdfEngine();

function convert(input: string, format: string, options: Record<string, unknown> = {}) {
  return runOn(sut, scratch.path, input, 'convert', format, options);
}

function thumbnail(input: string, format: string, options: Record<string, unknown> = {}) {
  return runOn(sut, scratch.path, input, 'thumbnail', format, { fit: 'max', count: 1, ...options });
}

/** Pages of a book laid out on 450 x 600 pt pages at 12 pt, as the engine lays e-books out. */
async function mutoolPages(file: string): Promise<number> {
  const script = join(scratch.path, 'count.js');
  await writeFile(
    script,
    'var doc = new Document(scriptArgs[0]);\ndoc.layout(450, 600, 12);\nprint(doc.countPages());\n',
  );
  const { stdout } = await run('mutool', ['run', script, file]);

  return Number(stdout.trim());
}

describe(MupdfEngine.name, () => {
  it('reports the version mutool prints', async () => {
    const { stdout, stderr } = await run('mutool', ['-v']);
    const printed = /version (\S+)/.exec(`${stdout}${stderr}`)?.[1];

    expect(await sut.detect()).toEqual({ version: printed });
    expect(printed).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('renders every page of a PDF to PNG at 150 dpi by default, in page order', async () => {
    const { files, job } = await convert(VICKSBURG, 'png');

    expect(files).toHaveLength(await pdfPages(VICKSBURG));
    expect(await readdir(job.outputDir)).toHaveLength(files.length);
    for (const [i, file] of files.entries()) {
      expect(basename(file)).toBe(`page-${i + 1}.png`);
      // 432 x 648 pt at 150 dpi.
      expect(await imageInfo(file)).toEqual({ format: 'png', width: 900, height: 1350 });
    }
  });

  it('renders the selected pages of a PDF in page order', async () => {
    const { files } = await convert(KIDS, 'png', { pages: '12,2,9-10', pixel_density: 20 });

    expect(files.map((f) => basename(f))).toEqual([
      'page-2.png',
      'page-9.png',
      'page-10.png',
      'page-12.png',
    ]);
    for (const [i, page] of [2, 9, 10, 12].entries()) {
      const single = join(scratch.path, `single-${page}.png`);
      await run('mutool', ['draw', '-q', '-r', '20', '-o', single, KIDS, String(page)]);
      expect(await meanColour(files[i]!)).toEqual(await meanColour(single));
    }
  });

  it('fits pages inside width x height, or scales them to one side', async () => {
    const both = await convert(KIDS, 'png', { pages: '1', width: 200, height: 200 });
    const wide = await convert(KIDS, 'png', { pages: '1', width: 306 });

    expect(await imageInfo(both.files[0]!)).toEqual({ format: 'png', width: 155, height: 200 });
    expect(await imageInfo(wide.files[0]!)).toEqual({ format: 'png', width: 306, height: 396 });
  });

  it('draws pages as shown: crop box, /Rotate and /UserUnit applied', async () => {
    const turned = await withPageBoxes(VICKSBURG, join(scratch.path, 'turned.pdf'), {
      cropBox: [0, 0, 300, 400],
      rotate: 90,
    });
    const { files } = await convert(turned, 'png', { pages: '1', pixel_density: 72 });

    expect(await imageInfo(files[0]!)).toEqual({ format: 'png', width: 400, height: 300 });
  });

  it('lays out an EPUB into pages and renders the ones asked for', async () => {
    const pages = await mutoolPages(ALICE);
    const { files } = await convert(ALICE, 'png', { pages: `1-3,${pages}`, pixel_density: 72 });

    expect(files).toHaveLength(4);
    for (const file of files) {
      // mutool's e-book page: 450 x 600 pt.
      expect(await imageInfo(file)).toEqual({ format: 'png', width: 450, height: 600 });
    }
  });

  it('extracts the text of EPUB, MOBI and FB2 books', async () => {
    const epub = await convert(ALICE, 'txt', { pages: '1-3' });
    const mobi = await convert(MOBI, 'txt', { pages: '1' });
    const fb2 = await convert(
      await fictionBook(
        join(scratch.path, 'fox.fb2'),
        'The quick brown fox jumps over the lazy dog.',
      ),
      'txt',
    );

    expect(collapse(await readText(epub.files[0]!))).toContain('Down The Rabbit-Hole');
    expect(collapse(await readText(mobi.files[0]!))).toContain('Lady Susan, by Jane Austen');
    expect(collapse(await readText(fb2.files[0]!))).toContain(
      'The quick brown fox jumps over the lazy dog.',
    );
  });

  it('writes the text and HTML of the selected PDF pages into one file each', async () => {
    const txt = await convert(KIDS, 'txt', { pages: '1,5' });
    const html = await convert(KIDS, 'html', { pages: '1-2' });
    const text = collapse(await readText(txt.files[0]!));

    expect(txt.files).toHaveLength(1);
    expect(text).toContain('Public domain texts for young people');
    expect(text).toContain((await pdfText(KIDS, 5)).slice(0, 80));
    expect(text).not.toContain((await pdfText(KIDS, 3)).slice(0, 80));
    expect(await readdir(html.job.outputDir)).toHaveLength(1);
    const page = await readText(html.files[0]!);
    expect(page.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(htmlText(page)).toContain('Public domain texts for young people');
    expect(page).toContain('id="page2"');
  });

  it('writes one SVG document per page', async () => {
    const { files } = await convert(KIDS, 'svg', { pages: '2-3' });

    expect(files.map((f) => basename(f))).toEqual(['page-2.svg', 'page-3.svg']);
    for (const file of files) {
      expect(await readText(file)).toMatch(/^<svg [^>]*width="612pt" height="792pt"/);
    }
  });

  it('renders XPS and CBZ documents page by page', async () => {
    const xps = await convert(await xpsDocument(join(scratch.path, 'boxes.xps'), 2), 'png');
    const cbz = await convert(
      await comicBook(join(scratch.path, 'strip.cbz'), [
        { width: 300, height: 400, colour: '#ff0000' },
        { width: 300, height: 400, colour: '#0000ff' },
        { width: 400, height: 300, colour: '#00ff00' },
      ]),
      'png',
      { width: 120, height: 120 },
    );

    expect(xps.files).toHaveLength(2);
    // 816 x 1056 units of 1/96 inch at 150 dpi.
    expect(await imageInfo(xps.files[1]!)).toEqual({ format: 'png', width: 1275, height: 1650 });
    expect(cbz.files).toHaveLength(3);
    expect(await imageInfo(cbz.files[0]!)).toEqual({ format: 'png', width: 90, height: 120 });
    expect(await imageInfo(cbz.files[2]!)).toEqual({ format: 'png', width: 120, height: 90 });
    expect(await meanColour(cbz.files[1]!)).toEqual([0, 0, 255]);
  });

  describe('thumbnail', () => {
    it('fits the first page inside the box with fit=max', async () => {
      const { files } = await thumbnail(KIDS, 'png', { width: 200, height: 200 });

      expect(files).toHaveLength(1);
      expect(await imageInfo(files[0]!)).toEqual({ format: 'png', width: 155, height: 200 });
    });

    it('fills the box exactly with fit=crop and fit=scale, for each of the first count pages', async () => {
      const crop = await thumbnail(KIDS, 'jpg', { width: 240, height: 120, fit: 'crop', count: 3 });
      const scale = await thumbnail(KIDS, 'webp', {
        width: 240,
        height: 120,
        fit: 'scale',
        count: 2,
      });

      expect(crop.files.map((f) => basename(f))).toEqual([
        'page-1.jpg',
        'page-2.jpg',
        'page-3.jpg',
      ]);
      for (const file of crop.files) {
        expect(await imageInfo(file)).toEqual({ format: 'jpeg', width: 240, height: 120 });
      }
      expect(scale.files).toHaveLength(2);
      for (const file of scale.files) {
        expect(await imageInfo(file)).toEqual({ format: 'webp', width: 240, height: 120 });
      }
    });

    it('keeps the top of a tall page when it crops', async () => {
      // A 100 x 400 page whose top quarter is red and the rest white.
      const page = await sharp({
        create: { width: 100, height: 400, channels: 3, background: '#ffffff' },
      })
        .composite([
          {
            input: { create: { width: 100, height: 100, channels: 3, background: '#ff0000' } },
            top: 0,
            left: 0,
          },
        ])
        .png()
        .toBuffer();
      const book = await comicBookOf(join(scratch.path, 'flag.cbz'), [page]);
      const { files } = await thumbnail(book, 'png', { width: 100, height: 100, fit: 'crop' });
      const [red = 0, green = 255, blue = 255] = await meanColour(files[0]!);

      expect(red).toBeGreaterThan(250);
      expect(Math.max(green, blue)).toBeLessThan(5);
    });

    it('derives the missing side from the page, and uses a 256 px box when no side is given', async () => {
      const wide = await thumbnail(KIDS, 'png', { width: 306, fit: 'crop' });
      const none = await thumbnail(ALICE, 'png');

      expect(await imageInfo(wide.files[0]!)).toEqual({ format: 'png', width: 306, height: 396 });
      // 450 x 600 pt inside 256 x 256.
      expect(await imageInfo(none.files[0]!)).toEqual({ format: 'png', width: 192, height: 256 });
    });

    it('makes as many thumbnails as the document has pages when count is larger', async () => {
      const { files } = await thumbnail(TINY_PAGE, 'png', { width: 64, height: 64, count: 5 });

      expect(files).toHaveLength(1);
      // A 4 x 4 pt page is drawn at 64 x 64 px, not blown up from pixels.
      expect(await imageInfo(files[0]!)).toEqual({ format: 'png', width: 64, height: 64 });
    });

    it('thumbnails EPUB, XPS and CBZ documents', async () => {
      const epub = await thumbnail(ALICE, 'webp', { width: 90, height: 120, fit: 'crop' });
      const xps = await thumbnail(await xpsDocument(join(scratch.path, 'thumb.xps'), 1), 'jpg', {
        width: 102,
      });
      const cbz = await thumbnail(
        await comicBook(join(scratch.path, 'thumb.cbz'), [
          { width: 300, height: 300, colour: '#00ff00' },
        ]),
        'png',
        { width: 50, height: 50 },
      );

      expect(await imageInfo(epub.files[0]!)).toEqual({ format: 'webp', width: 90, height: 120 });
      expect(await imageInfo(xps.files[0]!)).toEqual({ format: 'jpeg', width: 102, height: 132 });
      expect(await imageInfo(cbz.files[0]!)).toEqual({ format: 'png', width: 50, height: 50 });
    });

    it('refuses a box too large for memory', async () => {
      const { err } = await failure(
        thumbnail(KIDS, 'png', { width: 16384, height: 16384, fit: 'scale' }),
      );

      expect(err.code).toBe('INVALID_DATA');
      expect(err.errors?.['width']?.[0]).toContain('million pixels');
    });
  });

  it('opens a PDF with its password, and tells a missing and a wrong one apart', async () => {
    const logger = recordingLogger();
    const job = await jobFor(
      scratch.path,
      USER_PASSWORD,
      'convert',
      'png',
      { password: 'openpassword', pixel_density: 30 },
      { logger },
    );
    const { files } = await sut.run(job);

    expect(files).toHaveLength(1);
    expect(JSON.stringify(logger.lines)).not.toContain('openpassword');
    expect((await failure(convert(USER_PASSWORD, 'png'))).err.code).toBe('PASSWORD_REQUIRED');
    expect((await failure(thumbnail(USER_PASSWORD, 'png', { password: 'nope' }))).err.code).toBe(
      'PASSWORD_INVALID',
    );
  });

  it('refuses pages past the end of a document, naming the option', async () => {
    const pages = await mutoolPages(ALICE);
    const epub = await failure(convert(ALICE, 'txt', { pages: `${pages + 1}` }));
    const pdf = await failure(convert(KIDS, 'png', { pages: '56' }));

    expect(epub.err.code).toBe('INVALID_DATA');
    expect(epub.err.errors?.['pages']?.[0]).toContain(`${pages} pages`);
    expect(pdf.err.errors?.['pages']?.[0]).toContain('55 pages');
  });

  it('renders at most 500 pages per task, and any number to text', async () => {
    const big = await concatenated(KIDS, 10, join(scratch.path, 'big.pdf'));
    const { err } = await failure(convert(big, 'svg'));

    expect(err.code).toBe('INVALID_DATA');
    expect(err.errors?.['pages']?.[0]).toContain('At most 500 pages');
    const { files } = await convert(big, 'txt');
    expect(
      collapse(await readText(files[0]!)).split('Public domain texts for young people'),
    ).toHaveLength(11);
  });

  it('refuses a page image too large for memory', async () => {
    const { err } = await failure(
      convert(KIDS, 'png', { pages: '1', width: 16384, height: 16384 }),
    );

    expect(err.code).toBe('INVALID_DATA');
    expect(err.errors?.['height']?.[0]).toContain('million pixels');
  });

  it('reports files that are not documents, are cut short or have no pages as corrupt', async () => {
    const garbage = join(scratch.path, 'garbage.pdf');
    await writeFile(garbage, 'this is not a PDF at all\n'.repeat(50));
    const truncated = join(scratch.path, 'truncated.pdf');
    await writeFile(truncated, (await readFile(KIDS)).subarray(0, 20_000));
    const notEpub = join(scratch.path, 'not.epub');
    await writeFile(notEpub, 'plain text, not a zip');

    expect((await failure(convert(garbage, 'png'))).err.code).toBe('INPUT_CORRUPT');
    expect((await failure(thumbnail(truncated, 'png'))).err.code).toBe('INPUT_CORRUPT');
    expect((await failure(convert(notEpub, 'txt'))).err.code).toBe('INPUT_CORRUPT');
  });

  it('stops when the task is cancelled', async () => {
    const controller = new AbortController();
    controller.abort();
    const job = await jobFor(
      scratch.path,
      KIDS,
      'thumbnail',
      'png',
      { fit: 'max', count: 1 },
      { signal: controller.signal },
    );

    expect((await failure(sut.run(job))).err.code).toBe('ENGINE_CANCELLED');
  });
});
