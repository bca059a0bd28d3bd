// The ImageMagick and GraphicsMagick engines on corpus images and on images in formats made
// here: formats, sizes and frames read back with sharp (ImageMagick's identify for ICO and TGA).
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { chooseRow } from '@convertd/api';

import type { AppError } from '@convertd/errors';

import { GraphicsMagickEngine } from '../src/graphicsmagick/graphicsmagick.engine';
import { ImageMagickEngine } from '../src/imagemagick/imagemagick.engine';
import { exifOf, IMAGES, inputOf, runEngine } from './media';
import { failure } from './support';

const exec = promisify(execFile);
const TOUCAN = join(IMAGES, 'toucan.png'); // 162x150, transparent parts
const BMP = join(IMAGES, 'hopper.bmp'); // 128x128
const ICO = join(IMAGES, 'multiple_entries_with_different_bit_depth.ico'); // largest entry 48x48
const GIF = join(IMAGES, 'rotating-squares.gif'); // 80x80, 30 frames
const HEIC = join(IMAGES, 'example.heic'); // 1280x854
const LANDSCAPE = join(IMAGES, 'Landscape_6.jpg'); // stored 450x600, EXIF orientation 6

let root: string;
/** Images in formats the corpus lacks, made from the toucan with ImageMagick. */
const made: Record<string, string> = {};
let im = new ImageMagickEngine();
const gm = new GraphicsMagickEngine();

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'engines-magick-'));
  im = new ImageMagickEngine({ configDir: join(root, 'config') });
  for (const format of ['tga', 'pcx', 'ppm', 'pgm', 'pbm', 'psd', 'sgi', 'xpm', 'jp2']) {
    made[format] = join(root, `toucan.${format}`);
    await exec('/usr/bin/convert', [TOUCAN, made[format]]);
  }
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function convert(
  engine: ImageMagickEngine | GraphicsMagickEngine,
  file: string,
  outputFormat: string,
  options: Record<string, unknown> = {},
) {
  const { files } = await runEngine(engine, root, {
    operation: 'convert',
    inputs: [inputOf(file)],
    outputFormat,
    options: { fit: 'max', auto_orient: true, strip: false, ...options },
  });
  expect(files).toHaveLength(1);

  return files[0]!;
}

/** Format and size as ImageMagick's identify sees the first image (for ICO, TGA, BMP). */
async function identify(file: string): Promise<string> {
  const { stdout } = await exec('/usr/bin/identify', ['-format', '%m %w %h|', file]);

  return stdout.split('|')[0] ?? '';
}

describe(ImageMagickEngine.name, () => {
  it('reports its version, from /usr/bin/convert', async () => {
    expect(await im.detect()).toEqual({
      version: expect.stringMatching(/^6\.\d+\.\d+$/) as string,
    });
  });

  it('serves the formats libvips lacks and leaves the others to vips', () => {
    const served = new Set(['vips', 'imagemagick', 'graphicsmagick']);
    const engine = (i: string, o: string) =>
      chooseRow({ operation: 'convert', inputFormat: i, outputFormat: o }, served)?.engine;
    expect(engine('bmp', 'png')).toBe('imagemagick');
    expect(engine('png', 'ico')).toBe('imagemagick');
    expect(engine('tga', 'jpg')).toBe('imagemagick');
    expect(engine('png', 'jpg')).toBe('vips');
    expect(engine('pdf', 'png')).not.toBe('imagemagick');
  });

  it('converts BMP to PNG within a box', async () => {
    const out = await convert(im, BMP, 'png', { width: 64 });
    expect(await sharp(out).metadata()).toMatchObject({ format: 'png', width: 64, height: 64 });
  });

  it('takes the largest entry of an icon', async () => {
    const out = await convert(im, ICO, 'png');
    expect(await sharp(out).metadata()).toMatchObject({ format: 'png', width: 48, height: 48 });
  });

  it('writes icons and BMPs from PNG and HEIC', async () => {
    expect(await identify(await convert(im, TOUCAN, 'ico'))).toBe('ICO 162 150');
    expect(await identify(await convert(im, HEIC, 'bmp', { width: 320 }))).toBe('BMP 320 214');
  });

  it('reads TGA, PCX, PNM, PSD, SGI, XPM and JPEG 2000 files', async () => {
    for (const format of ['tga', 'pcx', 'ppm', 'pgm', 'pbm', 'psd', 'sgi', 'xpm', 'jp2']) {
      const out = await convert(im, made[format]!, 'png');
      expect(await sharp(out).metadata()).toMatchObject({ format: 'png', width: 162, height: 150 });
    }
  });

  it('crops to the exact size, strips metadata and puts white behind transparency for JPEG', async () => {
    const out = await convert(im, TOUCAN, 'jpg', {
      width: 50,
      height: 40,
      fit: 'crop',
      quality: 60,
      strip: true,
    });
    const meta = await sharp(out).metadata();
    expect(meta).toMatchObject({ format: 'jpeg', width: 50, height: 40, hasAlpha: false });
    expect(meta.exif).toBeUndefined();
    // The toucan's top-left corner is transparent.
    const { data } = await sharp(out)
      .extract({ left: 0, top: 0, width: 1, height: 1 })
      .raw()
      .toBuffer({ resolveWithObject: true });
    expect([...data].every((v) => v > 240)).toBe(true);
  });

  it('stretches with fit scale and enlarges only with fit upscale', async () => {
    expect(
      await sharp(
        await convert(im, BMP, 'webp', { width: 100, height: 30, fit: 'scale' }),
      ).metadata(),
    ).toMatchObject({ width: 100, height: 30 });
    expect(await sharp(await convert(im, BMP, 'gif', { width: 256 })).metadata()).toMatchObject({
      width: 128,
    });
    expect(
      await sharp(await convert(im, BMP, 'tiff', { width: 256, fit: 'upscale' })).metadata(),
    ).toMatchObject({ format: 'tiff', width: 256 });
  });

  it('turns the pixels as the EXIF orientation says', async () => {
    const out = await convert(im, LANDSCAPE, 'bmp');
    expect(await identify(out)).toBe('BMP 600 450');
  });

  it('keeps the frames of an animation going to WebP', async () => {
    const out = await convert(im, GIF, 'webp', { width: 40 });
    expect(await sharp(out, { animated: true }).metadata()).toMatchObject({
      format: 'webp',
      width: 40,
      pages: 30,
    });
  });

  it('reports a damaged file as corrupt', async () => {
    const fake = join(root, 'fake.bmp');
    await writeFile(fake, 'BM this is no bitmap');
    const { err } = await failure(convert(im, fake, 'png'));
    expect(err.code).toBe('INPUT_CORRUPT');
  });

  it('never reads a file as another format than its extension says', async () => {
    // An SVG that would draw /etc/passwd's text, sent as a .tga: the explicit TGA: prefix wins.
    const svg = join(root, 'drawing.tga');
    await writeFile(
      svg,
      '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><text>x</text></svg>',
    );
    const { err } = await failure(convert(im, svg, 'png'));
    expect(err.code).toBe('INPUT_CORRUPT');
  });

  it('writes its policy beside the system one', async () => {
    const policy = await readFile(join(root, 'config', 'policy.xml'), 'utf8');
    expect(policy).toContain('pattern="@*"');
    const { stdout } = await exec('/usr/bin/convert', ['-list', 'policy'], {
      env: { ...process.env, MAGICK_CONFIGURE_PATH: join(root, 'config') },
    });
    expect(stdout).toContain(join(root, 'config', 'policy.xml'));
    expect(stdout).toMatch(/pattern: \{MSL,MVG,SVG/);
  });
});

describe(GraphicsMagickEngine.name, () => {
  it('reports its version', async () => {
    expect(await gm.detect()).toEqual({
      version: expect.stringMatching(/^1\.\d+\.\d+$/) as string,
    });
  });

  it('serves its pairs only when asked for by name', () => {
    expect(
      chooseRow({ operation: 'convert', inputFormat: 'bmp', outputFormat: 'webp' })?.engine,
    ).not.toBe('graphicsmagick');
    expect(
      chooseRow({ operation: 'convert', inputFormat: 'bmp', outputFormat: 'webp', engine: 'gm' })
        ?.engine,
    ).toBe('graphicsmagick');
  });

  it('converts BMP to WebP at the exact size asked for', async () => {
    const out = await convert(gm, BMP, 'webp', { width: 64, height: 32, fit: 'scale' });
    expect(await sharp(out).metadata()).toMatchObject({ format: 'webp', width: 64, height: 32 });
  });

  it('converts PNG to JPEG with white behind transparency, and keeps GIF animations', async () => {
    const jpg = await convert(gm, TOUCAN, 'jpg', { width: 81, quality: 80 });
    expect(await sharp(jpg).metadata()).toMatchObject({
      format: 'jpeg',
      width: 81,
      height: 75,
      hasAlpha: false,
    });
    const gif = await convert(gm, GIF, 'gif', { width: 40, height: 40, fit: 'crop' });
    expect(await sharp(gif, { animated: true }).metadata()).toMatchObject({ width: 40, pages: 30 });
  });

  it("tells the user GraphicsMagick's own reason when it cannot convert, without server paths", async () => {
    // GraphicsMagick 1.3 decodes no animated WebP and says only "No data returned".
    const err = await runEngine(gm, root, {
      operation: 'convert',
      inputs: [inputOf(join(IMAGES, 'anim.webp'))],
      outputFormat: 'png',
      options: { fit: 'max', auto_orient: true, strip: false },
    }).then(
      () => undefined,
      (e: unknown) => e as AppError,
    );

    expect(err?.code).toBe('ENGINE_FAILED');
    expect(err?.message).toMatch(/^The conversion engine failed: No data returned/);
    expect(err?.message).not.toContain('/');
  });

  it('reads TGA and PCX files', async () => {
    for (const format of ['tga', 'pcx']) {
      const out = await convert(gm, made[format]!, 'png');
      expect(await sharp(out).metadata()).toMatchObject({ format: 'png', width: 162, height: 150 });
    }
  });

  it('strips metadata when asked', async () => {
    const tagged = join(root, 'tagged.jpg');
    await exec('exiftool', ['-Artist=Someone', '-o', tagged, LANDSCAPE]);
    const kept = await convert(gm, tagged, 'jpg');
    const stripped = await convert(gm, tagged, 'jpg', { strip: true });
    expect(await exifOf(kept, 'Artist')).toMatchObject({ Artist: 'Someone' });
    expect(await exifOf(stripped, 'Artist')).not.toHaveProperty('Artist');
  });
});
