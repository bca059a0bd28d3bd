import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { OPTIMIZE_PROFILES } from '@convertd/api';

import { GhostscriptEngine } from '../src/ghostscript/ghostscript.engine';
import { qFactor } from '../src/ghostscript/optimize';
import {
  corpusPdf,
  IMAGE_CORPUS,
  jobFor,
  pdfInfo,
  pdfPageCount,
  pdfText,
  pdfXmp,
} from './pdf-inspect';
import { failure } from './support';

const run = promisify(execFile);
const FORM_PDF = corpusPdf('libreoffice-form.pdf');
const SCANNED_PDF = corpusPdf('Seige_of_Vicksburg_Sample_OCR.pdf');
const STORIES_PDF = corpusPdf("kids' stories & tales [v2] 100%.pdf");
const USER_PASSWORD_PDF = corpusPdf('libreoffice-writer-password.pdf');

let root: string;
/** Three pages of the stories as PostScript, one page of the scan as EPS (made by poppler). */
let storiesPs: string;
let scanEps: string;
/** One JPEG photo on a page at 72 dpi, and the scan's first page as a 300 dpi JPEG (mutool). */
let photoPdf: string;
let hiresPdf: string;
const sut = new GhostscriptEngine();

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'engines-gs-'));
  storiesPs = join(root, 'stories.ps');
  scanEps = join(root, 'scan.eps');
  photoPdf = join(root, 'photo.pdf');
  hiresPdf = join(root, 'hires.pdf');
  await run('pdftocairo', ['-ps', '-f', '2', '-l', '4', STORIES_PDF, storiesPs]);
  await run('pdftocairo', ['-eps', '-f', '1', '-l', '1', SCANNED_PDF, scanEps]);
  await run('mutool', ['convert', '-o', photoPdf, join(IMAGE_CORPUS, 'Landscape_6.jpg')]);
  const hires = join(root, 'hires');
  await run('pdftocairo', [
    '-jpeg',
    '-r',
    '300',
    '-f',
    '1',
    '-l',
    '1',
    '-singlefile',
    SCANNED_PDF,
    hires,
  ]);
  await run('mutool', ['convert', '-o', hiresPdf, `${hires}.jpg`]);
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function size(file: string): Promise<number> {
  return (await stat(file)).size;
}

/** Width and height of a PNG or JPEG, as ImageMagick's identify reads them. */
async function imageSize(file: string): Promise<{ format: string; width: number; height: number }> {
  const { stdout } = await run('/usr/bin/identify', ['-format', '%m %w %h', file]);
  const [format = '', width = '0', height = '0'] = stdout.trim().split(' ');

  return { format, width: Number(width), height: Number(height) };
}

/** pdfimages -list rows: encoding, width and height of each image. */
async function images(file: string): Promise<{ enc: string; width: number; height: number }[]> {
  const { stdout } = await run('pdfimages', ['-list', file]);

  return stdout
    .split('\n')
    .slice(2)
    .filter((line) => line.trim() !== '')
    .map((line) => line.trim().split(/\s+/))
    .map((cols) => ({ enc: cols[8] ?? '', width: Number(cols[3]), height: Number(cols[4]) }));
}

/** The catalogue's output intent, from qpdf's JSON. */
async function outputIntent(file: string): Promise<Record<string, unknown> | undefined> {
  const { stdout } = await run('qpdf', ['--json=2', '--json-key=qpdf', file], {
    maxBuffer: 64 * 1024 * 1024,
  });
  const objects = (JSON.parse(stdout) as { qpdf: [unknown, Record<string, Json>] }).qpdf[1];
  const dict = (o: Json | undefined) => o?.value ?? o?.stream?.dict;
  const catalog = Object.values(objects)
    .map(dict)
    .find((d) => d?.['/Type'] === '/Catalog');
  const ref = (catalog?.['/OutputIntents'] as string[] | undefined)?.[0];

  return ref === undefined ? undefined : dict(objects[`obj:${ref}`]);
}

type Json = { value?: Record<string, unknown>; stream?: { dict: Record<string, unknown> } };

describe(GhostscriptEngine.name, () => {
  it('reports the Ghostscript version', async () => {
    expect(await sut.detect()).toEqual({ version: expect.stringMatching(/^\d+\.\d+/) as string });
  });

  describe('convert', () => {
    it('converts PostScript to PDF with its pages and text', async () => {
      const job = await jobFor(root, 'convert', storiesPs, {}, 'pdf');

      const { files } = await sut.run(job);

      expect(files).toHaveLength(1);
      expect(await pdfPageCount(files[0]!)).toBe(3);
      const original = await run('pdftotext', ['-f', '2', '-l', '2', STORIES_PDF, '-']);
      const firstWords = original.stdout
        .replace(/\s+/g, ' ')
        .trim()
        .split(' ')
        .slice(0, 6)
        .join(' ');
      expect(await pdfText(files[0]!)).toContain(firstWords);
    });

    it('converts EPS to a PDF page the size of its bounding box', async () => {
      const { files } = await sut.run(await jobFor(root, 'convert', scanEps, {}, 'pdf'));

      expect(await pdfInfo(files[0]!)).toMatchObject({ Pages: '1', 'Page size': '432 x 648 pts' });
      expect((await images(files[0]!)).length).toBeGreaterThan(0);
    });

    it('renders PostScript to one PNG per page at the pixel density asked for', async () => {
      // A % in the work dir must not read as Ghostscript's page-number format.
      const odd = await mkdtemp(join(root, 'odd 100%d-'));
      const job = await jobFor(odd, 'convert', storiesPs, { pixel_density: 72 }, 'png');

      const { files } = await sut.run(job);

      expect(files.map((f) => basename(f))).toEqual(['page-1.png', 'page-2.png', 'page-3.png']);
      // Letter paper at 72 dpi.
      for (const file of files) {
        expect(await imageSize(file)).toEqual({ format: 'PNG', width: 612, height: 792 });
      }
    });

    it('renders EPS to JPEG cropped to its bounding box', async () => {
      const job = await jobFor(root, 'convert', scanEps, { pixel_density: 100 }, 'jpg');

      const { files } = await sut.run(job);

      expect(files).toHaveLength(1);
      expect(await imageSize(files[0]!)).toEqual({ format: 'JPEG', width: 600, height: 900 });
    });

    it.each([
      ['a PostScript error', '%!PS\n/nosuchoperator_xyz 12 nosuchoperator_xyz\nshowpage\n'],
      [
        'an attempt to read a file outside its own',
        '%!PS\n(/etc/hostname) (r) file pop\nshowpage\n',
      ],
    ])('reports %s as INPUT_CORRUPT', async (_label, program) => {
      const file = join(root, `bad-${Date.now()}.ps`);
      await writeFile(file, program);

      const { err } = await failure(sut.run(await jobFor(root, 'convert', file, {}, 'pdf')));

      expect(err.code).toBe('INPUT_CORRUPT');
      expect(err.message).toBe('The PostScript file could not be interpreted.');
    });

    it('reports a PostScript file that draws no page as INPUT_CORRUPT', async () => {
      const file = join(root, 'empty.ps');
      await writeFile(file, '%!PS\n% nothing to draw\n');

      // pdfwrite always writes a page; the image devices write none.
      const { err } = await failure(sut.run(await jobFor(root, 'convert', file, {}, 'png')));

      expect(err.code).toBe('INPUT_CORRUPT');
      expect(err.message).toBe('The PostScript file draws no page.');
    });
  });

  describe('optimize', () => {
    it('makes a PDF smaller, keeps its pages and text, and says how much it saved', async () => {
      const job = await jobFor(root, 'optimize', FORM_PDF, { profile: 'web' });

      const { files, message } = await sut.run(job);

      const [output] = files;
      expect(await size(output!)).toBeLessThan(await size(FORM_PDF));
      expect(message).toMatch(/^Reduced the file size by \d+% \(34\.2 kB to \d+\.\d kB\)\.$/);
      const saved = Number(/by (\d+)%/.exec(message ?? '')?.[1]);
      expect(saved).toBe(Math.round((1 - (await size(output!)) / (await size(FORM_PDF))) * 100));
      expect(await pdfPageCount(output!)).toBe(1);
      expect(await pdfText(output!)).toContain('Example for a Form');
      expect(await readdir(job.outputDir)).toEqual(['output.pdf']);
      // qpdf exits 3 on warnings, which execFile would reject.
      await run('qpdf', ['--check', output!]);
    });

    it.each(OPTIMIZE_PROFILES)('keeps the filled form values with profile %s', async (profile) => {
      const [output] = (await sut.run(await jobFor(root, 'optimize', FORM_PDF, { profile }))).files;

      const text = await pdfText(output!);
      expect(text).toContain('Alice');
      expect(text).toContain('Bob');
    });

    it('returns the original bytes when nothing makes the file smaller', async () => {
      // The scan's JBIG2 masks come out of pdfwrite larger than they went in, and a file that
      // qpdf has packed already does not shrink when packed again.
      const packed = join(root, 'packed-scan.pdf');
      await run('qpdf', ['--object-streams=generate', SCANNED_PDF, packed]);

      const { files, message } = await sut.run(
        await jobFor(root, 'optimize', packed, { profile: 'print' }),
      );

      expect((await readFile(files[0]!)).equals(await readFile(packed))).toBe(true);
      expect(message).toBe('The PDF could not be made smaller; it is returned unchanged.');
    });

    it('packs a text PDF losslessly when pdfwrite would make it larger, linearized for the web', async () => {
      const job = await jobFor(root, 'optimize', STORIES_PDF, { profile: 'web' });

      const { files, message } = await sut.run(job);

      // pdfwrite's own result is the larger one here.
      expect(await size(join(job.workDir, 'optimized.pdf'))).toBeGreaterThan(
        await size(STORIES_PDF),
      );
      expect(await size(files[0]!)).toBeLessThan(await size(STORIES_PDF));
      expect(message).toMatch(/^Reduced the file size by \d+% \(546\.1 kB to \d+\.\d kB\)\.$/);
      expect(await pdfInfo(files[0]!)).toMatchObject({ Pages: '55', Optimized: 'yes' });
      await run('qpdf', ['--check', files[0]!]);
      expect(await pdfText(files[0]!)).toBe(await pdfText(STORIES_PDF));
    });

    it.each(['web', 'print', 'archive', 'mrc', 'max'])(
      'never returns a larger file, and keeps pages and text, with profile %s',
      async (profile) => {
        const inputs = [
          [STORIES_PDF, 'she was determined to face the matter out'],
          [SCANNED_PDF, 'THE SIEGE OF VICKSBURG'],
        ] as const;
        for (const [input, phrase] of inputs) {
          const [output] = (await sut.run(await jobFor(root, 'optimize', input, { profile })))
            .files;

          expect(await size(output!)).toBeLessThanOrEqual(await size(input));
          expect(await pdfPageCount(output!)).toBe(await pdfPageCount(input));
          expect(await pdfText(output!)).toContain(phrase);
        }
      },
    );

    it('re-encodes JPEG images at the quality asked for', async () => {
      const low = (await sut.run(await jobFor(root, 'optimize', photoPdf, { quality: 20 })))
        .files[0]!;
      const high = (await sut.run(await jobFor(root, 'optimize', photoPdf, { quality: 90 })))
        .files[0]!;

      expect(await size(low)).toBeLessThan(await size(high));
      expect(await size(high)).toBeLessThanOrEqual(await size(photoPdf));
      // Same picture, same pixels, only compressed harder.
      expect(await images(low)).toEqual([{ enc: 'jpeg', width: 450, height: 600 }]);
      expect(await images(high)).toEqual([{ enc: 'jpeg', width: 450, height: 600 }]);
    });

    it.each([
      ['web', 900, 1350],
      ['max', 432, 648],
      ['mrc', 900, 1350],
      ['print', 1800, 2700],
      ['archive', 1800, 2700],
    ])(
      'brings a 300 dpi photo down to the resolution of profile %s',
      async (profile, width, height) => {
        const { files } = await sut.run(await jobFor(root, 'optimize', hiresPdf, { profile }));

        const [image] = await images(files[0]!);
        expect(image).toEqual({ enc: 'jpeg', width, height });
        expect(await size(files[0]!)).toBeLessThanOrEqual(await size(hiresPdf));
      },
    );

    it('optimizes an encrypted PDF given its password', async () => {
      const job = await jobFor(root, 'optimize', USER_PASSWORD_PDF, { password: 'openpassword' });

      const [output] = (await sut.run(job)).files;

      expect(await pdfInfo(output!)).toMatchObject({ Encrypted: 'no', Pages: '1' });
      expect(await pdfText(output!)).toContain('Lorem ipsum');
    });

    it('maps JPEG quality to the DCT QFactor libjpeg would use', () => {
      expect([1, 25, 50, 75, 90, 100].map(qFactor)).toEqual([
        '50.000',
        '2.000',
        '1.000',
        '0.500',
        '0.200',
        '0.010',
      ]);
    });
  });

  describe('pdf/a', () => {
    it.each([
      ['1b', '1', '1.4'],
      ['2b', '2', '1.7'],
      ['3b', '3', '1.7'],
    ])(
      'writes PDF/A-%s with its identification and an sRGB output intent',
      async (level, part, version) => {
        const job = await jobFor(root, 'pdf/a', FORM_PDF, { conformance_level: level });

        const [output] = (await sut.run(job)).files;

        const xmp = await pdfXmp(output!);
        expect(xmp).toMatch(new RegExp(`pdfaid:part=['"]${part}['"]`));
        expect(xmp).toMatch(/pdfaid:conformance=['"]B['"]/);
        expect(await pdfInfo(output!)).toMatchObject({ Pages: '1', 'PDF version': version });
        const text = await pdfText(output!);
        expect(text).toContain('Example for a Form');
        // The filled form values, flattened into the page.
        expect(text).toContain('Alice');
        expect(text).toContain('Bob');
        expect(await outputIntent(output!)).toMatchObject({
          '/S': '/GTS_PDFA1',
          '/OutputConditionIdentifier': 'u:sRGB IEC61966-2.1',
        });
      },
    );

    it('converts a scan with non-embedded fonts and keeps all its pages', async () => {
      const [output] = (await sut.run(await jobFor(root, 'pdf/a', SCANNED_PDF, {}))).files;

      expect(await pdfXmp(output!)).toMatch(/pdfaid:part=['"]2['"]/);
      expect(await pdfPageCount(output!)).toBe(6);
      expect(await pdfText(output!)).toContain('VICKSBURG');
    });

    it('refuses an encrypted PDF without its password', async () => {
      const { err } = await failure(sut.run(await jobFor(root, 'pdf/a', USER_PASSWORD_PDF, {})));

      expect(err.code).toBe('PASSWORD_REQUIRED');
    });
  });
});
