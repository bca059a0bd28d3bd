// The pdf-lib engine on real corpus PDFs; every output is checked with poppler (pdfinfo,
// pdftotext, pdffonts, pdftoppm) and sharp, never with pdf-lib itself.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, extname, join, resolve } from 'node:path';
import { promisify } from 'node:util';

import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { EngineInput, EngineJob } from '../src/engine';
import { LibreOfficeEngine } from '../src/libreoffice/libreoffice.engine';
import { pagesOf, parsePageSpec } from '../src/pdf/pages';
import { PdfLibEngine } from '../src/pdflib/pdflib.engine';
import { failure } from './support';

const run = promisify(execFile);

const CORPUS = resolve(import.meta.dirname, '../../../../shared/corpus');
const KIDS = join(CORPUS, "pdf/kids' stories & tales [v2] 100%.pdf");
const VICKSBURG = join(CORPUS, 'pdf/Seige_of_Vicksburg_Sample_OCR.pdf');
const WORD = join(CORPUS, 'pdf/bug2004951.pdf');
const RC4 = join(CORPUS, 'pdf/libreoffice-writer-password.pdf');
const TOUCAN = join(CORPUS, 'image/toucan.png');
const NOTES_DOCX = join(CORPUS, 'office/notes.docx');

let root: string;
const sut = new PdfLibEngine();

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'engines-pdflib-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function inputOf(path: string, source = 'test'): EngineInput {
  return { path, format: extname(path).slice(1).toLowerCase(), filename: basename(path), source };
}

async function jobOf(
  operation: string,
  paths: string[],
  options: Record<string, unknown> = {},
  extra: Partial<EngineJob> = {},
): Promise<EngineJob> {
  const workDir = await mkdtemp(join(root, 'run-'));
  const outputDir = join(workDir, 'out');
  await mkdir(outputDir);
  const inputs = paths.map((p) => inputOf(p));

  return {
    operation,
    inputs,
    siblings: inputs,
    assets: [],
    outputFormat: null,
    options,
    workDir,
    outputDir,
    deadlineMs: 120_000,
    ...extra,
  };
}

async function pages(file: string): Promise<number> {
  const { stdout } = await run('pdfinfo', [file]);

  return Number(/^Pages:\s+(\d+)/m.exec(stdout)?.[1]);
}

/** pdfinfo's fields of the document, e.g. Title, Author, Keywords. */
async function info(file: string): Promise<Record<string, string>> {
  const { stdout } = await run('pdfinfo', ['-isodates', file]);

  return Object.fromEntries(
    stdout
      .split('\n')
      .filter((line) => line.includes(':'))
      .map((line) => [
        line.slice(0, line.indexOf(':')).trim(),
        line.slice(line.indexOf(':') + 1).trim(),
      ]),
  );
}

/** "Page N rot: R" of every page. */
async function rotations(file: string): Promise<number[]> {
  const count = await pages(file);
  const { stdout } = await run('pdfinfo', ['-f', '1', '-l', String(count), file]);

  return [...stdout.matchAll(/^Page\s+\d+\s+rot:\s+(\d+)/gm)].map((m) => Number(m[1]));
}

/** The text of page `n`, whitespace collapsed. */
async function pageText(file: string, n: number): Promise<string> {
  const { stdout } = await run('pdftotext', ['-f', String(n), '-l', String(n), file, '-']);

  return stdout.replace(/\s+/g, ' ').trim();
}

function words(text: string): string[] {
  return text.split(' ').sort();
}

async function fonts(file: string): Promise<string> {
  return (await run('pdffonts', [file])).stdout;
}

/** Page `n` rendered to PNG at `dpi`. */
async function render(file: string, n = 1, dpi = 40): Promise<Buffer> {
  const prefix = join(await mkdtemp(join(root, 'png-')), 'page');
  await run('pdftoppm', [
    '-png',
    '-r',
    String(dpi),
    '-f',
    String(n),
    '-l',
    String(n),
    '-singlefile',
    file,
    prefix,
  ]);

  return readFile(`${prefix}.png`);
}

/** Mean of the red, green and blue channels over a region given in fractions of the image. */
async function meanOf(
  png: Buffer,
  region = { left: 0, top: 0, width: 1, height: 1 },
): Promise<number[]> {
  const { width = 0, height = 0 } = await sharp(png).metadata();
  // stats() reads the image it is given, so the region is cut out first.
  const cut = await sharp(png)
    .extract({
      left: Math.floor(region.left * width),
      top: Math.floor(region.top * height),
      width: Math.max(1, Math.floor(region.width * width)),
      height: Math.max(1, Math.floor(region.height * height)),
    })
    .removeAlpha()
    .png()
    .toBuffer();
  const stats = await sharp(cut).stats();

  return stats.channels.slice(0, 3).map((c) => c.mean);
}

async function solidPng(name: string, colour: string, width = 100, height = 100): Promise<string> {
  const path = join(root, name);
  await sharp({ create: { width, height, channels: 3, background: colour } })
    .png()
    .toFile(path);

  return path;
}

async function onlyFile(job: EngineJob): Promise<string> {
  const { files } = await sut.run(job);
  expect(files).toHaveLength(1);
  expect(await readdir(job.outputDir)).toEqual([basename(files[0]!)]);

  return files[0]!;
}

describe(PdfLibEngine.name, () => {
  it('reports the pdf-lib package version', async () => {
    expect(await sut.detect()).toEqual({ version: '1.17.1' });
    expect(sut.spec.name).toBe('pdflib');
  });

  describe('merge', () => {
    it('puts every page of every input in one PDF, in the order of the inputs', async () => {
      const job = await jobOf('merge', [WORD, VICKSBURG]);
      const merged = await onlyFile(job);

      expect(basename(merged)).toBe('bug2004951.pdf');
      expect(await pages(merged)).toBe(1 + 6);
      expect(await pageText(merged, 1)).toBe(await pageText(WORD, 1));
      for (let n = 1; n <= 6; n += 1) {
        expect(await pageText(merged, n + 1)).toBe(await pageText(VICKSBURG, n));
      }
    });

    it('has an office document converted to PDF first, through convertWith', async () => {
      const office = new LibreOfficeEngine({
        profileRoot: join(root, 'profiles'),
        workRoot: join(root, 'lo-work'),
      });
      const converted: string[] = [];
      try {
        const job = await jobOf(
          'merge',
          [NOTES_DOCX, WORD],
          {},
          {
            convertWith: async (input, format) => {
              converted.push(input.filename);
              const outputDir = await mkdtemp(join(root, 'pre-'));
              const { files } = await office.convert({
                inputPath: input.path,
                inputFormat: input.format,
                outputFormat: format,
                outputDir,
                options: {},
                deadlineMs: 60_000,
              });

              return { ...input, path: files[0]!, format, filename: 'notes.pdf' };
            },
          },
        );
        const merged = await onlyFile(job);

        expect(converted).toEqual(['notes.docx']);
        expect(basename(merged)).toBe('notes.pdf');
        const total = await pages(merged);
        expect(total).toBeGreaterThanOrEqual(2);
        expect((await pageText(merged, 1)).toLowerCase()).toContain('footnote');
        expect(await pageText(merged, total)).toBe(await pageText(WORD, 1));
      } finally {
        await office.close();
      }
    });

    it('names the damaged file when an input is not a readable PDF', async () => {
      const broken = join(root, 'broken report.pdf');
      await writeFile(broken, (await readFile(WORD)).subarray(0, 400));
      const { err } = await failure(sut.run(await jobOf('merge', [WORD, broken])));

      expect(err.code).toBe('INPUT_CORRUPT');
      expect(err.message).toContain('broken report.pdf');
    });

    it('refuses an input that is still encrypted, naming it', async () => {
      const { err } = await failure(sut.run(await jobOf('merge', [WORD, RC4])));

      expect(err.code).toBe('PASSWORD_REQUIRED');
      expect(err.message).toContain('libreoffice-writer-password.pdf');
    });
  });

  describe('watermark', () => {
    it('stamps text on the chosen pages only', async () => {
      const job = await jobOf('watermark', [KIDS], {
        text: 'CONFIDENTIAL',
        pages: '2-3,5',
        font_size: 30,
        font_color: '#ff0000',
        opacity: 60,
        position_vertical: 'bottom',
      });
      const out = await onlyFile(job);

      expect(await pages(out)).toBe(55);
      for (const n of [2, 3, 5]) {
        expect(await pageText(out, n)).toContain('CONFIDENTIAL');
        expect(await pageText(out, n)).toContain(await pageText(KIDS, n));
      }
      for (const n of [1, 4, 6, 55]) {
        expect(await pageText(out, n)).not.toContain('CONFIDENTIAL');
      }
      expect(await fonts(out)).toContain('Helvetica');
    });

    it('maps CloudConvert font names onto the standard PDF fonts', async () => {
      const out = await onlyFile(
        await jobOf('watermark', [WORD], { text: 'Draft', font_name: 'Times New Roman Bold' }),
      );

      expect(await fonts(out)).toContain('Times-Bold');
      expect(await pageText(out, 1)).toContain('Draft');
    });

    it('embeds a TrueType font for text outside WinAnsi, and draws CJK as outlines', async () => {
      const cyrillic = await onlyFile(
        await jobOf('watermark', [WORD], { text: 'Черновик Ελληνικά', font_name: 'Arial' }),
      );
      expect(await pageText(cyrillic, 1)).toContain('Черновик Ελληνικά');
      expect(await fonts(cyrillic)).toMatch(
        /^LiberationSans\S*\s+CID TrueType\s+Identity-H\s+yes/m,
      );

      const cjk = await onlyFile(
        await jobOf('watermark', [WORD], {
          text: '機密 猫',
          font_width_percent: 60,
          position_vertical: 'bottom',
          font_color: '#000000',
        }),
      );
      // Outlines are not text: the page shows the glyphs, pdftotext has only the page's own text.
      expect(await pageText(cjk, 1)).toBe(await pageText(WORD, 1));
      const lowerThird = { left: 0, top: 0.66, width: 1, height: 0.34 };
      const before = await meanOf(await render(WORD), lowerThird);
      const after = await meanOf(await render(cjk), lowerThird);
      expect(after[0]!).toBeLessThan(before[0]! - 5);
    });

    it('sizes text to a share of the page width with font_width_percent', async () => {
      const out = await onlyFile(
        await jobOf('watermark', [WORD], { text: 'WIDE', font_width_percent: 80, font_size: 10 }),
      );
      const { stdout } = await run('pdftotext', ['-bbox', out, '-']);
      const word = /<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)" [^>]*>WIDE</.exec(stdout);
      expect(word).not.toBeNull();
      const width = Number(word![2]) - Number(word![1]);
      // 80 % of a 612 pt page; glyph boxes differ from advance widths by a little.
      expect(width).toBeGreaterThan(612 * 0.7);
      expect(width).toBeLessThan(612 * 0.9);
    });

    it('draws each line of the text, aligned as asked', async () => {
      const out = await onlyFile(
        await jobOf('watermark', [WORD], {
          text: 'FIRST LINE\n\nend',
          font_align: 'left',
          font_size: 20,
        }),
      );
      const { stdout } = await run('pdftotext', ['-bbox', out, '-']);
      const box = (word: string) => {
        const m = new RegExp(`<word xMin="([\\d.]+)" yMin="([\\d.]+)"[^>]*>${word}<`).exec(stdout);
        expect(m, word).not.toBeNull();
        return { x: Number(m![1]), y: Number(m![2]) };
      };

      expect(box('end').x).toBeCloseTo(box('FIRST').x, 0);
      // Two line heights (1.2 x 20 pt) below, the empty line kept.
      expect(box('end').y - box('FIRST').y).toBeCloseTo(48, 0);
    });

    it('refuses text that no font on this machine can draw', async () => {
      const { err } = await failure(
        sut.run(await jobOf('watermark', [WORD], { text: 'private \u{E000}' })),
      );

      expect(err.code).toBe('INVALID_DATA');
      expect(Object.keys(err.errors ?? {})).toEqual(['text']);
    });

    it('stamps an image handed over as an asset, and keeps the page text', async () => {
      const job = await jobOf('watermark', [WORD], {
        image: 'logo',
        image_width_percent: 40,
        position_vertical: 'bottom',
        position_horizontal: 'right',
        margin_vertical: 20,
        margin_horizontal: 20,
      });
      job.assets = [inputOf(TOUCAN, 'logo')];
      const out = await onlyFile(job);

      expect(await pageText(out, 1)).toBe(await pageText(WORD, 1));
      const corner = { left: 0.55, top: 0.6, width: 0.45, height: 0.4 };
      const before = await meanOf(await render(WORD), corner);
      const after = await meanOf(await render(out), corner);
      expect(before.every((m) => m > 250)).toBe(true);
      expect(after[0]!).toBeLessThan(before[0]! - 10);
      // The opposite corner stays as it was.
      const topLeft = { left: 0, top: 0, width: 0.3, height: 0.1 };
      expect(await meanOf(await render(out), topLeft)).toEqual(
        await meanOf(await render(WORD), topLeft),
      );
    });

    it('draws below the page content with layer "below"', async () => {
      const white = await solidPng('white.png', '#ffffff');
      const cover = { image: 'white', image_width_percent: 100, image_height: 2000 };
      const above = await jobOf('watermark', [VICKSBURG], cover);
      above.assets = [inputOf(white, 'white')];
      const below = await jobOf('watermark', [VICKSBURG], { ...cover, layer: 'below' });
      below.assets = [inputOf(white, 'white')];

      const hidden = await sharp(await render(await onlyFile(above))).stats();
      const shown = await sharp(await render(await onlyFile(below))).stats();
      // On top, an opaque white image hides the scan; underneath, the scan still shows.
      expect(hidden.channels[0]!.min).toBeGreaterThan(250);
      expect(shown.channels[0]!.min).toBeLessThan(100);
    });

    it('places marks on the page as shown, after its /Rotate', async () => {
      const turned = await onlyFile(await jobOf('pdf/rotate-pages', [WORD], { rotation: '+90' }));
      const black = await solidPng('black.png', '#000000');
      const job = await jobOf('watermark', [turned], {
        image: 'black',
        image_width_percent: 25,
        position_vertical: 'top',
        position_horizontal: 'left',
        margin_vertical: 0,
        margin_horizontal: 0,
      });
      job.assets = [inputOf(black, 'black')];
      const png = await render(await onlyFile(job));

      const { width = 0, height = 0 } = await sharp(png).metadata();
      expect(width).toBeGreaterThan(height);
      const topLeft = await meanOf(png, { left: 0.02, top: 0.05, width: 0.2, height: 0.2 });
      const bottomRight = await meanOf(png, { left: 0.78, top: 0.75, width: 0.2, height: 0.2 });
      expect(topLeft[0]!).toBeLessThan(10);
      expect(bottomRight[0]!).toBeGreaterThan(250);
    });

    it('wants a text or an image', async () => {
      const { err } = await failure(sut.run(await jobOf('watermark', [WORD], { opacity: 50 })));

      expect(err.code).toBe('INVALID_DATA');
      expect(Object.keys(err.errors ?? {})).toEqual(['text']);
    });

    it('refuses an image option without an image file, and a file that is no image', async () => {
      const missing = await failure(sut.run(await jobOf('watermark', [WORD], { image: 'logo' })));
      expect(missing.err.code).toBe('INVALID_DATA');
      expect(Object.keys(missing.err.errors ?? {})).toEqual(['image']);

      const job = await jobOf('watermark', [WORD], { image: 'logo' });
      job.assets = [inputOf(WORD, 'logo')];
      const wrong = await failure(sut.run(job));
      expect(wrong.err.code).toBe('INVALID_DATA');
      expect(wrong.err.errors?.image?.[0]).toContain('PNG or JPEG');
    });

    it('refuses a colour that is not #RRGGBB and pages past the end', async () => {
      const colour = await failure(
        sut.run(await jobOf('watermark', [WORD], { text: 'x', font_color: 'red' })),
      );
      expect(colour.err.errors).toEqual({ font_color: [expect.any(String)] });

      const range = await failure(
        sut.run(await jobOf('watermark', [WORD], { text: 'x', pages: '2' })),
      );
      expect(range.err.errors?.pages?.[0]).toContain('1 page');
    });

    it('stamps every readable corpus PDF and refuses the encrypted ones', async () => {
      const manifest = await readFile(join(CORPUS, 'MANIFEST.tsv'), 'utf8');
      const rows = [
        ...new Map(
          manifest
            .split('\n')
            .map((line) => line.split('\t'))
            .filter(([path]) => path?.startsWith('pdf/'))
            .map((row) => [row[0]!, row[7] ?? ''] as const),
        ),
      ];
      expect(rows.length).toBeGreaterThanOrEqual(10);

      for (const [path, why] of rows) {
        const file = join(CORPUS, path);
        const job = await jobOf('watermark', [file], { text: 'MARK', font_width_percent: 50 });
        if (/password/i.test(why)) {
          const { err } = await failure(sut.run(job));
          expect(err.code, path).toBe('PASSWORD_REQUIRED');
          continue;
        }
        const out = await onlyFile(job);
        expect(await pages(out), path).toBe(await pages(file));
        expect(await pageText(out, 1), path).toContain('MARK');
      }
    });
  });

  describe('pages', () => {
    it('splits a PDF into one file per page, in page order', async () => {
      const { files } = await sut.run(await jobOf('pdf/split-pages', [VICKSBURG]));

      expect(files).toHaveLength(6);
      for (const [i, file] of files.entries()) {
        expect(await pages(file)).toBe(1);
        expect(await pageText(file, 1)).toBe(await pageText(VICKSBURG, i + 1));
      }
    });

    it('extracts the pages asked for, in the order asked', async () => {
      const out = await onlyFile(await jobOf('pdf/extract-pages', [KIDS], { pages: '3,1,5-6' }));

      expect(await pages(out)).toBe(4);
      for (const [i, source] of [3, 1, 5, 6].entries()) {
        expect(await pageText(out, i + 1)).toBe(await pageText(KIDS, source));
      }
      const tail = await onlyFile(await jobOf('pdf/extract-pages', [KIDS], { pages: '54-' }));
      expect(await pages(tail)).toBe(2);
      expect(await pageText(tail, 2)).toBe(await pageText(KIDS, 55));
    });

    it('refuses pages past the end of the document', async () => {
      const { err } = await failure(
        sut.run(await jobOf('pdf/extract-pages', [VICKSBURG], { pages: '5-9' })),
      );

      expect(err.code).toBe('INVALID_DATA');
      expect(err.errors?.pages?.[0]).toContain('6 pages');
    });

    it('turns the chosen pages, on top of their rotation', async () => {
      const once = await onlyFile(
        await jobOf('pdf/rotate-pages', [VICKSBURG], { pages: '1-2,6', rotation: '+90' }),
      );
      expect(await rotations(once)).toEqual([90, 90, 0, 0, 0, 90]);

      const twice = await onlyFile(
        await jobOf('pdf/rotate-pages', [once], { pages: '2', rotation: '-90' }),
      );
      expect(await rotations(twice)).toEqual([90, 0, 0, 0, 0, 90]);

      const all = await onlyFile(await jobOf('pdf/rotate-pages', [VICKSBURG], { rotation: 270 }));
      expect(await rotations(all)).toEqual([270, 270, 270, 270, 270, 270]);
      // A turned page reads in another order; its words are the same.
      expect(words(await pageText(all, 3))).toEqual(words(await pageText(VICKSBURG, 3)));
    });
  });

  describe('metadata/write', () => {
    it('writes the Info dictionary, keys in any case, custom keys kept', async () => {
      const out = await onlyFile(
        await jobOf('metadata/write', [WORD], {
          metadata: {
            title: 'Quarterly – Überblick',
            AUTHOR: 'Ann Example',
            Keywords: 'pdf, test',
            CreationDate: '2021-03-04T05:06:07Z',
            Reviewer: 'Bob',
            Subject: '',
          },
        }),
      );
      const fields = await info(out);

      expect(fields.Title).toBe('Quarterly – Überblick');
      expect(fields.Author).toBe('Ann Example');
      expect(fields.Keywords).toBe('pdf, test');
      expect(fields.CreationDate).toBe('2021-03-04T05:06:07Z');
      expect(fields.Subject).toBeUndefined();
      const { stdout } = await run('pdfinfo', ['-custom', out]);
      expect(stdout).toMatch(/^Reviewer:\s+Bob$/m);
      expect(await pageText(out, 1)).toBe(await pageText(WORD, 1));
    });

    it('refuses a date that is not ISO 8601, naming the key', async () => {
      const { err } = await failure(
        sut.run(await jobOf('metadata/write', [WORD], { metadata: { ModDate: 'yesterday' } })),
      );

      expect(err.code).toBe('INVALID_DATA');
      expect(Object.keys(err.errors ?? {})).toEqual(['metadata.ModDate']);
    });
  });

  it('stops before starting when the task is already cancelled', async () => {
    const controller = new AbortController();
    controller.abort();
    const job = await jobOf('pdf/split-pages', [KIDS], {}, { signal: controller.signal });
    const { err } = await failure(sut.run(job));

    expect(err.code).toBe('ENGINE_CANCELLED');
    expect(await readdir(job.outputDir)).toEqual([]);
  });
});

describe('page selections', () => {
  it('reads numbers, ranges and open ranges, keeping the order given', () => {
    expect(parsePageSpec(' 1, 2,5-7 ')).toEqual([
      { from: 1, to: 1 },
      { from: 2, to: 2 },
      { from: 5, to: 7 },
    ]);
    expect(parsePageSpec('3-')).toEqual([{ from: 3, to: null }]);
    expect(parsePageSpec(undefined)).toBeUndefined();
    expect(pagesOf('4-,2,3', 6)).toEqual([4, 5, 6, 2, 3]);
    expect(pagesOf(undefined, 3)).toEqual([1, 2, 3]);
  });

  it('names the field for anything else', () => {
    for (const bad of ['a', '0', '5-3', '1,,2', '-2', '1-2-3']) {
      expect(() => parsePageSpec(bad, 'pages'), bad).toThrow(
        expect.objectContaining({ code: 'INVALID_DATA', errors: { pages: [expect.any(String)] } }),
      );
    }
    expect(() => pagesOf('7', 6)).toThrow(expect.objectContaining({ code: 'INVALID_DATA' }));
  });
});
