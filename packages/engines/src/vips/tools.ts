// The programs the vips engine hands formats to that sharp's prebuilt libvips lacks: HEVC (patent
// encumbered, left out of the prebuilt) through libheif's tools, BMP and ICO through ImageMagick.
import { copyFile, readdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

import { AppError, isAppError } from '@convertd/errors';

import { runProcess } from '../runner';
import type { VipsRun } from './run';

/** Debian's ImageMagick 6; `/usr/local/bin/convert` on our machines is something else. */
export const MAGICK = '/usr/bin/convert';
export const HEIF_CONVERT = 'heif-convert';
export const HEIF_ENC = 'heif-enc';

async function tool(run: VipsRun, file: string, args: string[], cwd: string): Promise<void> {
  await runProcess(file, args, {
    cwd,
    deadlineMs: run.remainingMs(),
    ...(run.job.signal === undefined ? {} : { signal: run.job.signal }),
    ...(run.job.logger === undefined ? {} : { logger: run.job.logger }),
  });
}

/** Blames a decoder's failure on the file, keeping timeouts and cancels as they are. */
function unreadable(err: unknown, what: string): AppError {
  if (isAppError(err) && err.code !== 'ENGINE_FAILED') {
    return err;
  }

  return new AppError('INPUT_CORRUPT', {
    message: `The ${what} image is damaged or not of the type it claims to be.`,
    cause: err,
    details: { engine: 'vips', ...(isAppError(err) ? err.details : {}) },
  });
}

/**
 * Decodes image `index` (0-based, in file order) of a HEIF file to PNG. heif-convert writes every
 * top-level image, numbered from 1, when the file holds more than one.
 */
export async function decodeHeif(run: VipsRun, path: string, index: number): Promise<string> {
  const out = await run.scratch('decoded.png');
  try {
    await tool(run, HEIF_CONVERT, ['--quiet', path, out], dirname(out));
  } catch (err) {
    throw unreadable(err, 'HEIC');
  }
  const written = (await readdir(dirname(out))).filter((n) => n.endsWith('.png')).sort(byNumber);
  const pick = written.length === 1 ? written[0] : written[index];
  if (pick === undefined) {
    throw new AppError('INPUT_CORRUPT', {
      message: 'The HEIC image has no picture that could be decoded.',
      details: { engine: 'vips', written },
    });
  }

  return join(dirname(out), pick);
}

function byNumber(a: string, b: string): number {
  const n = (s: string) => Number(/-(\d+)\.png$/.exec(s)?.[1] ?? 0);

  return n(a) - n(b);
}

export async function encodeHeif(
  run: VipsRun,
  png: string,
  out: string,
  quality: number,
): Promise<void> {
  await tool(run, HEIF_ENC, ['--quality', String(quality), '-o', out, png], dirname(png));
}

/**
 * Decodes a BMP, or entry `index` of an ICO, to PNG. The coder is named explicitly so that
 * ImageMagick never guesses another (script-like) format from the content, and the input is
 * copied to a plain name because ImageMagick reads `[...]` in names as a frame selection.
 */
export async function decodeWithMagick(
  run: VipsRun,
  path: string,
  format: 'bmp' | 'ico',
  index = 0,
): Promise<string> {
  const out = await run.scratch('decoded.png');
  const source = join(dirname(out), `source.${format}`);
  await copyFile(path, source);
  const coder = format === 'bmp' ? 'BMP' : 'ICO';
  try {
    await tool(
      run,
      MAGICK,
      [`${coder}:${basename(source)}[${index}]`, `PNG32:${basename(out)}`],
      dirname(out),
    );
  } catch (err) {
    throw unreadable(err, format.toUpperCase());
  }

  return out;
}

/** Writes a PNG (already without transparency for BMP) as a 24-bit BMP or an ICO. */
export async function encodeWithMagick(
  run: VipsRun,
  png: string,
  out: string,
  format: 'bmp' | 'ico',
): Promise<void> {
  const target = format === 'bmp' ? ['-type', 'TrueColor', `BMP3:${out}`] : [`ICO:${out}`];
  await tool(run, MAGICK, [`PNG:${basename(png)}`, ...target], dirname(png));
}
