import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { OcrmypdfEngine } from '../src/ocrmypdf/ocrmypdf.engine';
import {
  corpusPdf,
  IMAGE_CORPUS,
  jobFor,
  pdfInfo,
  pdfPageCount,
  pdfText,
  scanWithoutText,
} from './pdf-inspect';
import { failure } from './support';

const run = promisify(execFile);
const SCANNED = 'Seige_of_Vicksburg_Sample_OCR.pdf';
/** Words printed on page 1 of the scan (its running head and its first lines). */
const PAGE_ONE_WORDS = ['SIEGE', 'VICKSBURG', 'Johnston', 'thousand', 'Potomac', 'confederate'];

let root: string;
/** Page 1 of the scan without its OCR layer: an image and nothing else. */
let bareScan: string;
const sut = new OcrmypdfEngine();

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'engines-ocr-'));
  bareScan = await scanWithoutText(root, SCANNED);
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe(OcrmypdfEngine.name, () => {
  it('reports the OCRmyPDF version', async () => {
    expect(await sut.detect()).toEqual({
      version: expect.stringMatching(/^\d+\.\d+\.\d+$/) as string,
    });
  });

  it('adds a text layer to a scanned page that has none', async () => {
    expect((await pdfText(bareScan)).trim()).toBe('');

    const { files } = await sut.run(
      await jobFor(root, 'pdf/ocr', bareScan, { language: ['eng'], auto_orient: false }),
    );

    expect(files).toHaveLength(1);
    expect(await pdfPageCount(files[0]!)).toBe(1);
    const text = await pdfText(files[0]!);
    for (const word of PAGE_ONE_WORDS) {
      expect(text).toContain(word);
    }
  });

  it('keeps pages that already carry text, and their text (--skip-text)', async () => {
    const { files } = await sut.run(await jobFor(root, 'pdf/ocr', corpusPdf(SCANNED), {}));

    expect(await pdfPageCount(files[0]!)).toBe(6);
    expect(await pdfText(files[0]!)).toContain('THE SIEGE OF VICKSBURG');
  });

  it('reads several languages and turns an upside-down scan upright with auto_orient', async () => {
    // Page 3 of the scan, turned and rendered at 300 dpi: an image with upside-down text.
    const page = await scanWithoutText(root, SCANNED, 3);
    const turned = join(root, 'turned.pdf');
    await run('qpdf', [page, turned, '--rotate=+180']);
    await run('pdftoppm', ['-png', '-r', '300', '-singlefile', turned, join(root, 'upside-down')]);

    const { files } = await sut.run(
      await jobFor(
        root,
        'pdf/ocr',
        join(root, 'upside-down.png'),
        { language: ['eng', 'fra'], auto_orient: true },
        'pdf',
      ),
    );

    const { stdout } = await run('pdfinfo', ['-f', '1', '-l', '1', files[0]!]);
    expect(stdout).toMatch(/^Page\s+1 rot:\s+180$/m);
    const text = await pdfText(files[0]!);
    expect(text).toContain('court house');
    expect(text).toContain('Confederate flag');
  }, 180_000);

  it(
    'makes a searchable PDF of an image, assuming 300 dpi when the image records none',
    { timeout: 120_000 },
    async () => {
      const png = join(root, 'page.png');
      // pdftoppm records the resolution it rendered at; -r 150 gives a 6 x 9 inch page.
      await run('pdftoppm', ['-png', '-r', '150', '-singlefile', bareScan, join(root, 'page')]);
      const { files } = await sut.run(await jobFor(root, 'pdf/ocr', png, {}, 'pdf'));
      expect(await pdfInfo(files[0]!)).toMatchObject({ Pages: '1', 'Page size': '432 x 648 pts' });
      expect(await pdfText(files[0]!)).toContain('VICKSBURG');

      // The toucan PNG of the corpus has no resolution: 162 x 150 px at 300 dpi.
      const toucan = join(root, 'toucan.png');
      await copyFile(join(IMAGE_CORPUS, 'toucan.png'), toucan);
      const bird = await sut.run(await jobFor(root, 'pdf/ocr', toucan, {}, 'pdf'));
      expect(await pdfInfo(bird.files[0]!)).toMatchObject({
        Pages: '1',
        'Page size': '38.88 x 36 pts',
      });
    },
  );

  it('uses image_dpi for the page size of an image', async () => {
    const toucan = join(root, 'toucan-72.png');
    await copyFile(join(IMAGE_CORPUS, 'toucan.png'), toucan);

    const { files } = await sut.run(
      await jobFor(root, 'pdf/ocr', toucan, { image_dpi: 72 }, 'pdf'),
    );

    expect(await pdfInfo(files[0]!)).toMatchObject({ 'Page size': '162 x 150 pts' });
  });

  it('refuses an image with an alpha channel with a message that says so', async () => {
    const { err } = await failure(
      sut.run(await jobFor(root, 'pdf/ocr', join(IMAGE_CORPUS, 'basn6a16.png'), {}, 'pdf')),
    );

    expect(err.code).toBe('INVALID_CONVERSION_TYPE');
    expect(err.message).toContain('alpha channel');
  });

  it('refuses a language that is not installed, naming the language field', async () => {
    const { err } = await failure(
      sut.run(await jobFor(root, 'pdf/ocr', bareScan, { language: ['eng', 'kli'] })),
    );

    expect(err.code).toBe('INVALID_DATA');
    expect(err.errors?.['language']?.[0]).toMatch(
      /^Not installed on this worker: kli\. Installed: .*eng/,
    );
  });

  it('opens an encrypted PDF with its password, and refuses it without', async () => {
    const encrypted = corpusPdf('libreoffice-writer-password.pdf');

    const { files } = await sut.run(
      await jobFor(root, 'pdf/ocr', encrypted, { password: 'openpassword' }),
    );
    expect(await pdfInfo(files[0]!)).toMatchObject({ Encrypted: 'no' });
    expect(await pdfText(files[0]!)).toContain('Lorem ipsum');

    const { err } = await failure(sut.run(await jobFor(root, 'pdf/ocr', encrypted, {})));
    expect(err.code).toBe('PASSWORD_REQUIRED');
  });
});
