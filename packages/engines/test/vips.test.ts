// The vips engine on the corpus images and on images made here: formats, sizes and frames of the
// outputs read back with sharp (ImageMagick for BMP and ICO, poppler for PDF).
import { execFile } from 'node:child_process';
import { deflateSync } from 'node:zlib';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, extname, join, resolve } from 'node:path';
import { promisify } from 'node:util';

import sharp, { type Sharp } from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { checkOptions, chooseRow, COMMON_KEYS, optionsFor } from '@convertd/api';

import type { EngineInput, EngineJob, EngineResult } from '../src/engine';
import { VipsEngine } from '../src/vips/vips.engine';
import { failure } from './support';

const exec = promisify(execFile);
const CORPUS = resolve(import.meta.dirname, '../../../../shared/corpus');
const IMAGES = join(CORPUS, 'image');
const TOUCAN = join(IMAGES, 'toucan.png'); // 162×150 palette PNG, tRNS alpha, interlaced
const PNG16 = join(IMAGES, 'basn6a16.png'); // 32×32 RGBA, 16 bits per channel
const KATZE = join(IMAGES, 'Katze 猫 progressive (1).jpg'); // 320×240 progressive JPEG
const LANDSCAPE = join(IMAGES, 'Landscape_6.jpg'); // stored 450×600, EXIF orientation 6
const CMYK = join(IMAGES, 'pil_sample_cmyk.jpg'); // 100×100 YCCK (Adobe inverted CMYK)
const ARITHMETIC = join(IMAGES, 'testimgari.jpg'); // 227×149 arithmetic-coded JPEG
const GIF = join(IMAGES, 'rotating-squares.gif'); // 80×80, animated
const ANIM_WEBP = join(IMAGES, 'anim.webp'); // 200×200, 6 frames
const WEBP = join(IMAGES, 'test.webp'); // lossy WebP
const HEIC = join(IMAGES, 'example.heic'); // 1280×854 HEVC, two images
const BMP = join(IMAGES, 'hopper.bmp'); // 128×128, 24-bit
const ICO = join(IMAGES, 'multiple_entries_with_different_bit_depth.ico'); // 9 entries, best 48×48

let root: string;
let made: string;
const sut = new VipsEngine();

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'engines-vips-'));
  made = join(root, 'made');
  await mkdir(made);
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function inputOf(path: string, source = 'input'): EngineInput {
  return { path, format: extname(path).slice(1).toLowerCase(), filename: basename(path), source };
}

/** Runs one operation as the worker would: options checked against the catalogue first. */
async function runOp(
  operation: string,
  path: string,
  outputFormat: string | null,
  payload: Record<string, unknown> = {},
  extra: Partial<EngineJob> = {},
): Promise<EngineResult> {
  const input = inputOf(path);
  const { errors, values } = checkOptions(
    optionsFor({ operation, inputFormat: input.format, outputFormat, engine: 'vips' }),
    payload,
    COMMON_KEYS,
  );
  expect(errors).toEqual({});
  const workDir = await mkdtemp(join(root, 'run-'));
  const outputDir = join(workDir, 'out');
  await mkdir(outputDir);

  return sut.run({
    operation,
    inputs: [input],
    siblings: [input],
    assets: [],
    outputFormat,
    options: values,
    workDir,
    outputDir,
    deadlineMs: 60_000,
    ...extra,
  });
}

async function convert(path: string, to: string, payload: Record<string, unknown> = {}) {
  return runOp('convert', path, to, payload);
}

async function only(result: EngineResult): Promise<string> {
  expect(result.files).toHaveLength(1);
  return result.files[0] as string;
}

/** Format and size of what ImageMagick reads (BMP, ICO: sharp reads neither). */
async function identify(path: string): Promise<string[]> {
  const { stdout } = await exec('/usr/bin/identify', ['-format', '%m %w %h %z\n', path]);
  return stdout.trim().split('\n');
}

async function pdfInfo(path: string): Promise<{ pages: number; size: string }> {
  const { stdout } = await exec('pdfinfo', [path]);
  return {
    pages: Number(/^Pages:\s+(\d+)/m.exec(stdout)?.[1]),
    size: /^Page size:\s+(.*?) pts/m.exec(stdout)?.[1] ?? '',
  };
}

/** Mean and extremes of each channel inside a region. */
async function region(
  path: string | Buffer,
  left: number,
  top: number,
  width: number,
  height: number,
) {
  // stats() reads the whole input: the region is cut out first.
  const cut = await sharp(path).extract({ left, top, width, height }).png().toBuffer();
  const stats = await sharp(cut).stats();
  return stats.channels.map((c) => ({ min: c.min, max: c.max, mean: c.mean }));
}

async function pixel(path: string | Buffer, x: number, y: number, page = 0): Promise<number[]> {
  const { data } = await sharp(path, { page })
    .extract({ left: x, top: y, width: 1, height: 1 })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return [...data];
}

async function make(name: string, image: Sharp): Promise<string> {
  const path = join(made, name);
  await image.toFile(path);
  return path;
}

/** 400×200: four vertical stripes of 100 px, red, green, blue, white. */
async function stripes(): Promise<string> {
  const stripe = (r: number, g: number, b: number) =>
    sharp({ create: { width: 100, height: 200, channels: 3, background: { r, g, b } } })
      .png()
      .toBuffer();
  return make(
    'stripes.png',
    sharp({ create: { width: 400, height: 200, channels: 3, background: '#000' } })
      .composite([
        { input: await stripe(255, 0, 0), left: 0, top: 0 },
        { input: await stripe(0, 255, 0), left: 100, top: 0 },
        { input: await stripe(0, 0, 255), left: 200, top: 0 },
        { input: await stripe(255, 255, 255), left: 300, top: 0 },
      ])
      .removeAlpha(),
  );
}

function grey(name: string, format: 'png' | 'jpg' = 'png'): Promise<string> {
  const base = sharp({ create: { width: 400, height: 300, channels: 3, background: '#808080' } });
  return make(name, format === 'png' ? base.png() : base.jpeg({ quality: 95 }));
}

/** A three-page TIFF: red 60×40, green 60×40, blue 60×40. */
async function threePageTiff(): Promise<string> {
  const page = (background: string) =>
    sharp({ create: { width: 60, height: 40, channels: 3, background } })
      .png()
      .toBuffer();
  return make(
    'pages.tiff',
    sharp([await page('#ff0000'), await page('#00ff00'), await page('#0000ff')], {
      join: { animated: true },
    }).tiff({ compression: 'lzw' }),
  );
}

describe(VipsEngine.name, () => {
  it('reports the libvips version', async () => {
    expect(await sut.detect()).toEqual({ version: sharp.versions.vips });
    expect(sharp.versions.vips).toMatch(/^8\.\d+\.\d+/);
  });

  it('is the default engine for image pairs it does in process, not for BMP and ICO', () => {
    const served = new Set(['vips', 'imagemagick', 'graphicsmagick']);
    const engine = (operation: string, inputFormat: string, outputFormat: string | null) =>
      chooseRow({ operation, inputFormat, outputFormat }, served)?.engine;
    expect(engine('convert', 'jpg', 'webp')).toBe('vips');
    expect(engine('convert', 'png', 'pdf')).toBe('vips');
    expect(engine('convert', 'heic', 'jpg')).toBe('vips');
    expect(engine('optimize', 'png', null)).toBe('vips');
    expect(engine('thumbnail', 'gif', 'png')).toBe('vips');
    expect(engine('convert', 'bmp', 'png')).toBe('imagemagick');
    expect(engine('convert', 'png', 'ico')).toBe('imagemagick');
    // ... and serves them where ImageMagick is missing.
    expect(
      chooseRow(
        { operation: 'convert', inputFormat: 'bmp', outputFormat: 'png' },
        new Set(['vips']),
      )?.engine,
    ).toBe('vips');
    // SVG to PDF should stay vector: not rasterised here.
    expect(
      chooseRow({ operation: 'convert', inputFormat: 'svg', outputFormat: 'pdf', engine: 'vips' }),
    ).toBeNull();
  });

  describe('convert', () => {
    it.each([
      ['jpg', 'jpeg'],
      ['jpeg', 'jpeg'],
      ['webp', 'webp'],
      ['avif', 'heif'],
      ['gif', 'gif'],
      ['tiff', 'tiff'],
      ['tif', 'tiff'],
      ['png', 'png'],
    ])('writes the toucan PNG as %s', async (to, format) => {
      const out = await only(await convert(TOUCAN, to === 'png' ? 'png' : to));
      expect(extname(out)).toBe(`.${to}`);
      const meta = await sharp(out).metadata();
      expect(meta.format).toBe(format);
      expect([meta.width, meta.height]).toEqual([162, 150]);
      if (to === 'avif') {
        expect(meta.compression).toBe('av1');
      }
    });

    it('writes HEIC with libheif (HEVC) and reads it back', async () => {
      const out = await only(await convert(KATZE, 'heic', { quality: 60 }));
      const meta = await sharp(out).metadata();
      expect(meta.format).toBe('heif');
      expect(meta.compression).toBe('hevc');
      expect([meta.width, meta.height]).toEqual([320, 240]);
    });

    it('writes 24-bit BMP and ICO through ImageMagick', async () => {
      expect(await identify(await only(await convert(TOUCAN, 'bmp')))).toEqual(['BMP3 162 150 8']);
      // An icon side is at most 256 px: Landscape (600×450 upright) is fitted.
      const [ico] = await identify(await only(await convert(LANDSCAPE, 'ico')));
      expect(ico).toBe('ICO 256 192 8');
      expect(await identify(await only(await convert(TOUCAN, 'ico', { width: 64 })))).toEqual([
        expect.stringMatching(/^ICO 64 59 /),
      ]);
    });

    it('flattens transparency onto the background for JPEG', async () => {
      const out = await only(await convert(TOUCAN, 'jpg', { background: '#00ff00' }));
      const meta = await sharp(out).metadata();
      expect(meta.channels).toBe(3);
      // The top-left corner of the toucan is transparent.
      const [r, g, b] = await pixel(out, 1, 1);
      expect(r).toBeLessThan(40);
      expect(g).toBeGreaterThan(215);
      expect(b).toBeLessThan(40);
    });

    it('keeps 16 bits and alpha from a 16-bit PNG, and 8 bits in JPEG', async () => {
      const png = await sharp(await only(await convert(PNG16, 'tiff'))).metadata();
      expect(png.depth).toBe('ushort');
      expect(png.hasAlpha).toBe(true);
      const jpg = await sharp(await only(await convert(PNG16, 'jpg'))).metadata();
      expect(jpg.depth).toBe('uchar');
      expect(jpg.channels).toBe(3);
    });

    it('turns a CMYK (YCCK) JPEG into sRGB with the colours ImageMagick gets', async () => {
      const out = await only(await convert(CMYK, 'png'));
      const meta = await sharp(out).metadata();
      expect(meta.space).toBe('srgb');
      expect(meta.channels).toBe(3);
      const { stdout } = await exec('/usr/bin/convert', [
        CMYK,
        '-colorspace',
        'sRGB',
        '-format',
        '%[fx:mean.r*255] %[fx:mean.g*255] %[fx:mean.b*255]',
        'info:',
      ]);
      const reference = stdout.trim().split(' ').map(Number);
      const means = (await sharp(out).stats()).channels.map((c) => c.mean);
      means.forEach((mean, i) => expect(Math.abs(mean - (reference[i] ?? 0))).toBeLessThan(30));
    });

    it('reads a progressive JPEG with a non-ASCII name and an arithmetic-coded one', async () => {
      const webp = await only(await convert(KATZE, 'webp', { width: 100 }));
      expect(await sharp(webp).metadata()).toMatchObject({
        format: 'webp',
        width: 100,
        height: 75,
      });
      const png = await only(await convert(ARITHMETIC, 'png'));
      expect(await sharp(png).metadata()).toMatchObject({ format: 'png', width: 227, height: 149 });
    });

    it('turns pixels upright by EXIF orientation unless auto_orient is false', async () => {
      const upright = await sharp(await only(await convert(LANDSCAPE, 'png'))).metadata();
      expect([upright.width, upright.height]).toEqual([600, 450]);
      expect(upright.orientation ?? 1).toBe(1);

      const kept = await sharp(
        await only(await convert(LANDSCAPE, 'jpeg', { auto_orient: false })),
      ).metadata();
      expect([kept.width, kept.height]).toEqual([450, 600]);
      expect(kept.orientation).toBe(6);
      expect(kept.exif).toBeDefined();

      const stripped = await sharp(
        await only(await convert(LANDSCAPE, 'jpeg', { auto_orient: false, strip: true })),
      ).metadata();
      expect(stripped.exif).toBeUndefined();
      expect(stripped.orientation).toBeUndefined();
    });

    it.each([
      [GIF, 'webp', {}, 80],
      [ANIM_WEBP, 'gif', { width: 100 }, 100],
    ] as const)('keeps %s animated as %s, with its timing', async (path, to, options, side) => {
      const input = await sharp(path, { pages: -1 }).metadata();
      const total = (input.delay ?? []).reduce((a, b) => a + b, 0);
      const out = await only(await convert(path, to, options));
      const meta = await sharp(out, { pages: -1 }).metadata();
      expect(meta.format).toBe(to);
      expect(meta.pages).toBeGreaterThan(1);
      expect([meta.width, meta.pageHeight]).toEqual([side, side]);
      // Identical frames may be merged; the animation lasts as long.
      expect((meta.delay ?? []).reduce((a, b) => a + b, 0)).toBe(total);
    });

    it('keeps an animated WebP animated in GIF and takes its first frame for PNG and JPEG', async () => {
      const gif = await sharp(await only(await convert(ANIM_WEBP, 'gif')), {
        pages: -1,
      }).metadata();
      expect(gif.pages).toBeGreaterThan(1);
      expect(gif.pageHeight).toBe(200);
      for (const to of ['png', 'jpg']) {
        const meta = await sharp(await only(await convert(ANIM_WEBP, to))).metadata();
        expect(meta.pages ?? 1).toBe(1);
        expect([meta.width, meta.height]).toEqual([200, 200]);
      }
      const first = await sharp(ANIM_WEBP, { page: 0 })
        .flatten({ background: '#fff' })
        .raw()
        .toBuffer();
      const frame = await sharp(await only(await convert(ANIM_WEBP, 'png')))
        .flatten({ background: '#fff' })
        .raw()
        .toBuffer();
      expect(frame.equals(first)).toBe(true);
    });

    it('decodes HEIC (HEVC) with libheif and keeps its primary image', async () => {
      const out = await only(await convert(HEIC, 'jpg', { width: 640 }));
      expect(await sharp(out).metadata()).toMatchObject({
        format: 'jpeg',
        width: 640,
        height: 427,
      });
    });

    it('reads BMP and the best ICO entry through ImageMagick', async () => {
      const bmp = await sharp(await only(await convert(BMP, 'png'))).metadata();
      expect([bmp.format, bmp.width, bmp.height]).toEqual(['png', 128, 128]);
      // The largest entry, and of the two 48×48 ones the 32-bit one (with an alpha channel).
      const ico = await only(await convert(ICO, 'png'));
      const meta = await sharp(ico).metadata();
      expect([meta.width, meta.height]).toEqual([48, 48]);
      const alpha = (await sharp(ico).stats()).channels[3];
      expect(alpha?.min).toBe(0);
      expect(alpha?.max).toBe(255);
      expect(
        await sharp(await only(await convert(BMP, 'webp', { width: 64 }))).metadata(),
      ).toMatchObject({
        format: 'webp',
        width: 64,
      });
    });

    it('renders SVG at its own size, sharply at a larger one, and at a given density', async () => {
      const svg = join(made, 'flag.svg');
      await writeFile(
        svg,
        '<svg xmlns="http://www.w3.org/2000/svg" width="100" height="50">' +
          '<rect width="50" height="50" fill="#ff0000"/><rect x="50" width="50" height="50" fill="#0000ff"/></svg>',
      );
      expect(await sharp(await only(await convert(svg, 'png'))).metadata()).toMatchObject({
        width: 100,
        height: 50,
      });
      const big = await only(await convert(svg, 'png', { width: 1000 }));
      expect(await sharp(big).metadata()).toMatchObject({ width: 1000, height: 500 });
      // Drawn at 1000 px, not enlarged: the edge between the halves is one pixel sharp.
      expect(await pixel(big, 498, 250)).toEqual([255, 0, 0, 255]);
      expect(await pixel(big, 501, 250)).toEqual([0, 0, 255, 255]);
      const dense = await only(await convert(svg, 'webp', { pixel_density: 144 }));
      expect(await sharp(dense).metadata()).toMatchObject({ width: 200, height: 100 });
    });

    it('never reads files an SVG points at', async () => {
      const svg = join(made, 'peek.svg');
      await writeFile(
        svg,
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="100" height="100">' +
          `<rect width="100" height="100" fill="#ffffff"/><image width="100" height="100" xlink:href="file://${TOUCAN}"/>` +
          '<image width="100" height="100" xlink:href="toucan.png"/></svg>',
      );
      await writeFile(join(made, 'toucan.png'), await readFile(TOUCAN));
      const stats = await sharp(await only(await convert(svg, 'png'))).stats();
      expect(stats.channels.slice(0, 3).every((c) => c.min === 255)).toBe(true);
    });

    it('puts each image on a page of its own size, or fitted to A4', async () => {
      const pdf = await only(await convert(TOUCAN, 'pdf'));
      expect(await pdfInfo(pdf)).toEqual({ pages: 1, size: '162 x 150' });
      // Wider than high: the A4 page turns to landscape.
      expect(await pdfInfo(await only(await convert(TOUCAN, 'pdf', { page_size: 'a4' })))).toEqual({
        pages: 1,
        size: '841.89 x 595.28',
      });
      // Upright, the photo is 600×450: a landscape Letter page.
      const upright = await only(await convert(LANDSCAPE, 'pdf', { page_size: 'letter' }));
      expect(await pdfInfo(upright)).toEqual({ pages: 1, size: '792 x 612' });
      const { stdout } = await exec('pdfimages', ['-list', upright]);
      expect(stdout).toMatch(/\b600\s+450\b/);
    });

    it('embeds a plain JPEG in the PDF as it is, and re-encodes the others', async () => {
      const plain = await make(
        'plain.jpg',
        sharp({ create: { width: 64, height: 48, channels: 3, background: '#336699' } }).jpeg({
          progressive: true,
        }),
      );
      const pdf = await readFile(await only(await convert(plain, 'pdf')));
      expect(pdf.indexOf(await readFile(plain))).toBeGreaterThan(0);
      // An ICC profile (Katze has one) would be lost as it is: re-encoded in sRGB.
      const katze = await only(await convert(KATZE, 'pdf'));
      expect((await readFile(katze)).indexOf(await readFile(KATZE))).toBe(-1);
      expect(await pdfInfo(katze)).toEqual({ pages: 1, size: '320 x 240' });
      const other = await only(await convert(ARITHMETIC, 'pdf'));
      expect(await pdfInfo(other)).toEqual({ pages: 1, size: '227 x 149' });
      expect((await readFile(other)).indexOf(await readFile(ARITHMETIC))).toBe(-1);
      const { stdout } = await exec('pdftoppm', [
        '-r',
        '72',
        '-png',
        '-singlefile',
        other,
        join(made, 'ari'),
      ]);
      expect(stdout).toBe('');
      expect(await sharp(join(made, 'ari.png')).metadata()).toMatchObject({
        width: 227,
        height: 149,
      });
    });

    it('keeps the pages of a multi-page TIFF in TIFF and PDF, and writes one PNG per page', async () => {
      const tiff = await threePageTiff();
      expect(await pdfInfo(await only(await convert(tiff, 'pdf')))).toEqual({
        pages: 3,
        size: '60 x 40',
      });
      const pages = await sharp(await only(await convert(tiff, 'tif', { width: 30 })), {
        pages: -1,
      }).metadata();
      expect([pages.format, pages.pages, pages.width]).toEqual(['tiff', 3, 30]);
      const { files } = await convert(tiff, 'png');
      expect(files).toHaveLength(3);
      const colours = await Promise.all(files.map((f) => pixel(f, 5, 5)));
      expect(colours).toEqual([
        [255, 0, 0],
        [0, 255, 0],
        [0, 0, 255],
      ]);
    });
  });

  describe('fit', () => {
    it.each([
      ['max', 100, 100, [100, 50]],
      ['max', 1000, 1000, [400, 200]],
      ['max', undefined, 400, [400, 200]],
      ['upscale', 1000, 1000, [1000, 500]],
      ['upscale', undefined, 400, [800, 400]],
      ['crop', 100, 100, [100, 100]],
      ['crop', 800, 800, [800, 800]],
      ['scale', 100, 100, [100, 100]],
      ['scale', 200, undefined, [200, 100]],
    ] as const)('%s %sx%s gives %j', async (fit, width, height, size) => {
      const out = await only(await convert(await stripes(), 'tiff', { fit, width, height }));
      const meta = await sharp(out).metadata();
      expect([meta.width, meta.height]).toEqual(size);
    });

    it('crops around the centre and scales without keeping the ratio', async () => {
      // 400×200 → 200×100, then the middle 100 columns: green then blue.
      const crop = await only(
        await convert(await stripes(), 'tiff', { fit: 'crop', width: 100, height: 100 }),
      );
      expect(await pixel(crop, 10, 50)).toEqual([0, 255, 0]);
      expect(await pixel(crop, 90, 50)).toEqual([0, 0, 255]);
      // Scale squeezes all four stripes into 100 px.
      const scale = await only(
        await convert(await stripes(), 'tiff', { fit: 'scale', width: 100, height: 100 }),
      );
      expect(await pixel(scale, 5, 50)).toEqual([255, 0, 0]);
      expect(await pixel(scale, 95, 50)).toEqual([255, 255, 255]);
    });

    it('refuses a size whose output is beyond the pixel limit', async () => {
      const { err } = await failure(
        convert(TOUCAN, 'webp', { fit: 'scale', width: 16_000, height: 16_000 }),
      );
      expect(err.code).toBe('INVALID_DATA');
      expect(err.errors?.['width']?.[0]).toMatch(/16000×16000/);
    });
  });

  describe('optimize', () => {
    it.each([
      [LANDSCAPE, 'web'],
      [LANDSCAPE, 'max'],
      [KATZE, 'print'],
      [TOUCAN, 'web'],
      [TOUCAN, 'print'],
      [PNG16, 'archive'],
      [WEBP, 'web'],
      [ANIM_WEBP, 'web'],
      [CMYK, 'print'],
    ])('never returns more bytes than %s had (%s)', async (path, profile) => {
      const result = await runOp('optimize', path, null, { profile });
      const out = await only(result);
      expect(extname(out)).toBe(extname(path));
      const [before, after] = [(await stat(path)).size, (await stat(out)).size];
      expect(after).toBeLessThanOrEqual(before);
      if (after < before) {
        expect(result.message).toMatch(/^Reduced the file size by (\d+|less than 1)% \(/);
      } else {
        expect(result.message).toMatch(/already optimized/);
        expect((await readFile(out)).equals(await readFile(path))).toBe(true);
      }
      expect((await sharp(out).metadata()).format).toBe((await sharp(path).metadata()).format);
    });

    it('makes a photo smaller for the web and turns it upright as the EXIF tag goes', async () => {
      const result = await runOp('optimize', LANDSCAPE, null, {});
      const out = await only(result);
      const saved = Number(/by (\d+)%/.exec(result.message ?? '')?.[1]);
      expect(saved).toBeGreaterThan(20);
      const meta = await sharp(out).metadata();
      expect([meta.width, meta.height, meta.orientation]).toEqual([600, 450, undefined]);
      // print keeps the metadata, so the pixels stay as stored.
      const print = await sharp(
        await only(await runOp('optimize', LANDSCAPE, null, { profile: 'print', quality: 70 })),
      ).metadata();
      expect([print.width, print.height, print.orientation]).toEqual([450, 600, 6]);
    });

    it('quantises a PNG for the web and keeps an animation animated', async () => {
      const png = await sharp(await only(await runOp('optimize', TOUCAN, null, {}))).metadata();
      expect(png.isPalette).toBe(true);
      expect([png.width, png.height]).toEqual([162, 150]);
      const webp = await sharp(
        await only(await runOp('optimize', ANIM_WEBP, null, { quality: 40 })),
        { pages: -1 },
      ).metadata();
      expect(webp.pages).toBeGreaterThan(1);
    });

    it('returns an already small file unchanged', async () => {
      const tiny = await make(
        'tiny.png',
        sharp({ create: { width: 1, height: 1, channels: 3, background: '#000' } }).png({
          compressionLevel: 9,
          palette: true,
        }),
      );
      const result = await runOp('optimize', tiny, null, { profile: 'archive' });
      expect((await readFile(await only(result))).equals(await readFile(tiny))).toBe(true);
      expect(result.message).toBe('The image was already optimized; it is returned unchanged.');
    });
  });

  describe('thumbnail', () => {
    it('fits in 256×256 without a size, upright, without metadata', async () => {
      const out = await only(await runOp('thumbnail', LANDSCAPE, 'png'));
      const meta = await sharp(out).metadata();
      expect([meta.format, meta.width, meta.height, meta.exif]).toEqual([
        'png',
        256,
        192,
        undefined,
      ]);
    });

    it.each([
      [KATZE, 'jpg', { fit: 'crop', width: 64, height: 64 }, [64, 64]],
      [GIF, 'png', { width: 40 }, [40, 40]],
      [HEIC, 'webp', { height: 100 }, [150, 100]],
      [BMP, 'jpg', { width: 32, height: 64, fit: 'scale' }, [32, 64]],
      [ICO, 'png', {}, [48, 48]],
      [WEBP, 'webp', { width: 50, height: 20, fit: 'max' }, [20, 20]],
    ] as const)('makes a thumbnail of %s as %s', async (path, to, options, size) => {
      const out = await only(await runOp('thumbnail', path, to, options));
      const meta = await sharp(out).metadata();
      expect(meta.format).toBe(to === 'jpg' ? 'jpeg' : to);
      expect([meta.width, meta.height]).toEqual(size);
      expect(meta.pages ?? 1).toBe(1);
    });
  });

  describe('watermark', () => {
    it('changes pixels in the bottom-right corner only', async () => {
      const input = await grey('grey.png');
      const out = await only(
        await runOp('watermark', input, null, {
          text: 'convertd',
          font_size: 40,
          font_color: '#ff0000',
          position_vertical: 'bottom',
          position_horizontal: 'right',
          margin_vertical: 10,
          margin_horizontal: 10,
        }),
      );
      expect(await sharp(out).metadata()).toMatchObject({ format: 'png', width: 400, height: 300 });
      const untouched = await region(out, 0, 0, 400, 200);
      expect(untouched.every((c) => c.min === 128 && c.max === 128)).toBe(true);
      expect((await region(out, 0, 0, 200, 300)).every((c) => c.min === 128 && c.max === 128)).toBe(
        true,
      );
      // The margins stay free, the text is red.
      expect(
        (await region(out, 390, 200, 10, 100)).every((c) => c.min === 128 && c.max === 128),
      ).toBe(true);
      expect(
        (await region(out, 200, 290, 200, 10)).every((c) => c.min === 128 && c.max === 128),
      ).toBe(true);
      const [r, g] = await region(out, 200, 200, 190, 90);
      expect(r?.max).toBe(255);
      expect(g?.min).toBe(0);
    });

    it('stamps a photo: only the corner asked for changes', async () => {
      const out = await only(
        await runOp('watermark', KATZE, null, {
          text: 'Ünïcødé & <b>"tags"</b> 猫',
          font_color: 'white',
          font_size: 30,
          position_vertical: 'top',
          position_horizontal: 'left',
        }),
      );
      const meta = await sharp(out).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 320, 240]);
      const diff = async (left: number, top: number) => {
        const before = await region(KATZE, left, top, 100, 80);
        const after = await region(out, left, top, 100, 80);
        return Math.max(...before.map((c, i) => Math.abs(c.mean - (after[i]?.mean ?? 0))));
      };
      expect(await diff(20, 20)).toBeGreaterThan(5);
      expect(await diff(220, 160)).toBeLessThan(1);
    });

    it('puts another task’s image on, sized, at an opacity', async () => {
      const input = await grey('grey-image.png');
      const mark = await make(
        'mark.png',
        sharp({ create: { width: 20, height: 10, channels: 4, background: '#0000ff' } }).png(),
      );
      const out = await only(
        await runOp(
          'watermark',
          input,
          null,
          {
            image: 'logo',
            image_width: 40,
            opacity: 50,
            position_vertical: 'top',
            position_horizontal: 'left',
            margin_vertical: 0,
            margin_horizontal: 0,
          },
          { assets: [inputOf(mark, 'logo')] },
        ),
      );
      // 40×20 at the top-left corner, half blue over grey.
      const [r, , b] = await pixel(out, 20, 10);
      expect(r).toBeGreaterThan(50);
      expect(r).toBeLessThan(80);
      expect(b).toBeGreaterThan(180);
      expect(await pixel(out, 41, 10)).toEqual([128, 128, 128]);
      expect(await pixel(out, 20, 21)).toEqual([128, 128, 128]);
    });

    it('stamps every frame of an animation', async () => {
      const mark = await make(
        'red.png',
        sharp({ create: { width: 10, height: 10, channels: 3, background: '#ff0000' } }).png(),
      );
      const out = await only(
        await runOp(
          'watermark',
          GIF,
          null,
          {
            image: 'logo',
            position_vertical: 'top',
            position_horizontal: 'left',
            margin_vertical: 0,
            margin_horizontal: 0,
          },
          { assets: [inputOf(mark, 'logo')] },
        ),
      );
      const meta = await sharp(out, { pages: -1 }).metadata();
      expect(meta.pages).toBeGreaterThan(1);
      for (let page = 0; page < (meta.pages ?? 0); page += 1) {
        expect((await pixel(out, 3, 3, page)).slice(0, 3)).toEqual([255, 0, 0]);
      }
    });

    it('rotates the text and fits it to a share of the width', async () => {
      const input = await grey('grey-wide.png');
      const out = await only(
        await runOp('watermark', input, null, {
          text: 'WIDE',
          font_width_percent: 50,
          rotation: 90,
        }),
      );
      // Turned upright, the text is a tall column in the middle.
      const stats = await region(out, 0, 0, 150, 300);
      expect(stats.every((c) => c.min === 128 && c.max === 128)).toBe(true);
      const middle = await region(out, 150, 0, 100, 300);
      expect(middle[0]?.min).toBeLessThan(50);
    });

    it('refuses a task without a text or an image', async () => {
      const { err } = await failure(runOp('watermark', TOUCAN, null, {}));
      expect(err.code).toBe('INVALID_DATA');
      expect(Object.keys(err.errors ?? {})).toEqual(['text']);
    });
  });

  describe('bad input', () => {
    it('refuses a decompression bomb from its header, before decoding it', async () => {
      // 30000×30000 1-bit grey, all zero: ~110 kB on disk, 900 megapixels decoded.
      const width = 30_000;
      const row = Buffer.alloc(1 + width / 8);
      const raw = Buffer.alloc(row.length * width);
      const chunk = (type: string, data: Buffer) => {
        const length = Buffer.alloc(4);
        length.writeUInt32BE(data.length);
        const crc = Buffer.alloc(4);
        crc.writeUInt32BE(crc32(Buffer.concat([Buffer.from(type, 'latin1'), data])));
        return Buffer.concat([length, Buffer.from(type, 'latin1'), data, crc]);
      };
      const ihdr = Buffer.alloc(13);
      ihdr.writeUInt32BE(width, 0);
      ihdr.writeUInt32BE(width, 4);
      ihdr.writeUInt8(1, 8); // bit depth
      ihdr.writeUInt8(0, 9); // greyscale
      const bomb = join(made, 'bomb.png');
      await writeFile(
        bomb,
        Buffer.concat([
          Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
          chunk('IHDR', ihdr),
          chunk('IDAT', deflateSync(raw, { level: 9 })),
          chunk('IEND', Buffer.alloc(0)),
        ]),
      );
      expect((await stat(bomb)).size).toBeLessThan(1_000_000);
      expect((await sharp(bomb, { limitInputPixels: false }).metadata()).width).toBe(width);

      const { err } = await failure(convert(bomb, 'jpg'));
      expect(err.code).toBe('INVALID_DATA');
      expect(err.message).toBe(
        'The image is too large to process (30000×30000 pixels); the limit is 100 megapixels.',
      );
      expect((await failure(runOp('thumbnail', bomb, 'png'))).err.code).toBe('INVALID_DATA');
    });

    it.each([
      ['random bytes named .png', 'junk.png', Buffer.from('this is not an image at all')],
      ['a PDF named .jpg', 'doc.jpg', 'pdf'],
      ['a truncated PNG', 'cut.png', 'cut'],
      ['random bytes named .bmp', 'junk.bmp', Buffer.from('BM not really a bitmap, no')],
      [
        'a broken ICO',
        'junk.ico',
        Buffer.from([0, 0, 1, 0, 1, 0, 48, 48, 0, 0, 1, 0, 32, 0, 99, 0, 0, 0, 22, 0, 0, 0, 1, 2]),
      ],
      [
        'a broken HEIC',
        'junk.heic',
        Buffer.concat([Buffer.from([0, 0, 0, 24]), Buffer.from('ftypheic'), Buffer.alloc(40)]),
      ],
    ])('answers INPUT_CORRUPT for %s', async (_what, name, content) => {
      const path = join(made, name);
      const bytes =
        content === 'pdf'
          ? await readFile(join(CORPUS, 'pdf/bug2004951.pdf'))
          : content === 'cut'
            ? (await readFile(TOUCAN)).subarray(0, 6000)
            : (content as Buffer);
      await writeFile(path, bytes);
      const { err } = await failure(convert(path, 'webp'));
      expect(err.code).toBe('INPUT_CORRUPT');
    });

    it('checks colours', async () => {
      const { err } = await failure(convert(TOUCAN, 'jpg', { background: 'not-a-colour"/><x' }));
      expect(err.code).toBe('INVALID_DATA');
      expect(Object.keys(err.errors ?? {})).toEqual(['background']);
    });

    it('stops when the task is cancelled', async () => {
      const controller = new AbortController();
      controller.abort(new Error('stop'));
      const { err } = await failure(
        runOp('convert', KATZE, 'png', {}, { signal: controller.signal }),
      );
      expect(err.code).toBe('ENGINE_CANCELLED');
    });
  });
});

/** CRC-32 of PNG chunks. */
function crc32(bytes: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k += 1) {
      crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
    }
  }
  return (crc ^ 0xffffffff) >>> 0;
}
