// Image operations (vips) through the official node SDK: convert, optimize, thumbnail and
// watermark jobs on corpus images, the results downloaded and read back by content.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import sharp from 'sharp';
import { describe, expect, it } from 'vitest';

import { CORPUS } from '../../../test/harness';
import { sdkStack, taskOf as task, type Exported, type SdkJob } from './support';

const KATZE_NAME = 'Katze 猫 progressive (1).jpg';
const KATZE = path.join(CORPUS, 'image', KATZE_NAME); // 320×240
const TOUCAN = path.join(CORPUS, 'image/toucan.png'); // 162×150
const LANDSCAPE = path.join(CORPUS, 'image/Landscape_6.jpg'); // 450×600 stored, EXIF orientation 6

const sdk = sdkStack('image');
const { runJob } = sdk;

/** The one exported file of the job, downloaded. */
async function exported(job: SdkJob): Promise<Exported> {
  expect(job.status).toBe('finished');
  const [entry, ...more] = await sdk.exports(job);
  expect(more).toEqual([]);

  return entry!;
}

/** Largest change of a channel mean inside a region between two images of the same size. */
async function change(before: string, after: string, left: number, top: number): Promise<number> {
  const means = async (file: string) => {
    const cut = await sharp(file).extract({ left, top, width: 100, height: 70 }).png().toBuffer();
    return (await sharp(cut).stats()).channels.map((c) => c.mean);
  };
  const [a, b] = [await means(before), await means(after)];

  return Math.max(...a.map((m, i) => Math.abs(m - (b[i] ?? 0))));
}

describe('image operations through the node SDK', () => {
  it('converts a JPEG with a non-ASCII name to WebP at a width', async () => {
    const job = await runJob(
      {
        upload: { operation: 'import/upload' },
        webp: { operation: 'convert', input: 'upload', output_format: 'webp', width: 160 },
        out: { operation: 'export/url', input: 'webp' },
      },
      { upload: [KATZE, KATZE_NAME] },
    );
    const { file, filename } = await exported(job);
    expect(filename).toBe('Katze 猫 progressive (1).webp');
    expect(await sharp(file).metadata()).toMatchObject({ format: 'webp', width: 160, height: 120 });
    const convert = task(job, 'webp');
    expect(convert.engine).toBe('vips');
    expect(convert.engine_version).toBe(sharp.versions.vips);
  });

  it('converts a PNG to a one-page PDF of its size', async () => {
    const job = await runJob(
      {
        upload: { operation: 'import/upload' },
        pdf: { operation: 'convert', input: 'upload', output_format: 'pdf' },
        out: { operation: 'export/url', input: 'pdf' },
      },
      { upload: [TOUCAN, 'toucan.png'] },
    );
    const { file, filename } = await exported(job);
    expect(filename).toBe('toucan.pdf');
    const info = execFileSync('pdfinfo', [file], { encoding: 'utf8' });
    expect(/^Pages:\s+(\d+)/m.exec(info)?.[1]).toBe('1');
    expect(/^Page size:\s+(.*) pts/m.exec(info)?.[1]).toBe('162 x 150');
    const images = execFileSync('pdfimages', ['-list', file], { encoding: 'utf8' });
    expect(images).toMatch(/\b162\s+150\b/);
  });

  it('optimizes a PNG: smaller, same pixels size, and the saving in the task message', async () => {
    const job = await runJob(
      {
        upload: { operation: 'import/upload' },
        small: { operation: 'optimize', input: 'upload', input_format: 'png', profile: 'web' },
        out: { operation: 'export/url', input: 'small' },
      },
      { upload: [TOUCAN, 'toucan.png'] },
    );
    const { file, filename } = await exported(job);
    expect(filename).toBe('toucan.png');
    expect(fs.statSync(file).size).toBeLessThan(fs.statSync(TOUCAN).size);
    expect(await sharp(file).metadata()).toMatchObject({ format: 'png', width: 162, height: 150 });
    const optimize = task(job, 'small');
    expect(optimize.engine).toBe('vips');
    expect(optimize.message).toMatch(/^Reduced the file size by \d+% \(/);
  });

  it('makes a cropped thumbnail, upright', async () => {
    const job = await runJob(
      {
        upload: { operation: 'import/upload' },
        thumb: {
          operation: 'thumbnail',
          input: 'upload',
          output_format: 'png',
          width: 100,
          height: 60,
          fit: 'crop',
        },
        out: { operation: 'export/url', input: 'thumb' },
      },
      { upload: [LANDSCAPE, 'Landscape_6.jpg'] },
    );
    const { file, filename } = await exported(job);
    expect(filename).toBe('Landscape_6.png');
    const meta = await sharp(file).metadata();
    expect([meta.format, meta.width, meta.height, meta.exif]).toEqual(['png', 100, 60, undefined]);
    // The same crop of the upright photo, made here, looks the same.
    const expected = await sharp(LANDSCAPE)
      .autoOrient()
      .resize(100, 60, { fit: 'cover' })
      .raw()
      .toBuffer();
    const got = await sharp(file).removeAlpha().raw().toBuffer();
    const worst = Math.max(...got.map((v, i) => Math.abs(v - (expected[i] ?? 0))));
    expect(worst).toBeLessThan(8);
  });

  it('puts a text and another task’s image on a JPEG, in their corners only', async () => {
    const logo = path.join(sdk.tmp, 'logo.png');
    await sharp({ create: { width: 30, height: 30, channels: 3, background: '#ff0000' } })
      .png()
      .toFile(logo);
    const job = await runJob(
      {
        photo: { operation: 'import/upload' },
        logo: { operation: 'import/upload' },
        text: {
          operation: 'watermark',
          input: 'photo',
          text: 'convertd © 2026',
          font_size: 28,
          font_color: '#ffffff',
          position_vertical: 'bottom',
          position_horizontal: 'right',
          margin_vertical: 10,
          margin_horizontal: 10,
        },
        stamp: {
          operation: 'watermark',
          input: ['text', 'logo'],
          image: 'logo',
          position_vertical: 'top',
          position_horizontal: 'left',
          margin_vertical: 5,
          margin_horizontal: 5,
        },
        out: { operation: 'export/url', input: 'stamp' },
      },
      { photo: [KATZE, KATZE_NAME], logo: [logo, 'logo.png'] },
    );
    const { file, filename } = await exported(job);
    expect(filename).toBe(KATZE_NAME);
    expect(await sharp(file).metadata()).toMatchObject({ format: 'jpeg', width: 320, height: 240 });
    expect(task(job, 'text').engine).toBe('vips');
    // Text bottom right, logo top left, the other corners as they were.
    expect(await change(KATZE, file, 210, 160)).toBeGreaterThan(5);
    const [r, g, b] = [
      ...(await sharp(file).extract({ left: 15, top: 15, width: 1, height: 1 }).raw().toBuffer()),
    ];
    expect(r).toBeGreaterThan(200);
    expect(g).toBeLessThan(60);
    expect(b).toBeLessThan(60);
    expect(await change(KATZE, file, 210, 10)).toBeLessThan(1.5);
    expect(await change(KATZE, file, 10, 160)).toBeLessThan(1.5);
  });
});
