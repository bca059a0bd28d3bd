// What ImageMagick and GraphicsMagick share: format prefixes, resize geometry, limits, and what
// a command may not name.
import { open } from 'node:fs/promises';

import { MAGICK_ARGUMENT_RULES } from '@convertd/api';
import { AppError, isAppError } from '@convertd/errors';

import { asText } from '../option-values';

/** Extension -> coder, put before every path so that the format is never guessed. */
const CODERS: Readonly<Record<string, string>> = {
  jpg: 'JPEG',
  jpeg: 'JPEG',
  tif: 'TIFF',
  tiff: 'TIFF',
};

export function coderOf(format: string): string {
  return CODERS[format] ?? format.toUpperCase();
}

/** Formats that keep every frame of an animation. */
export const ANIMATED = new Set(['gif', 'webp']);

export const LIMITS = {
  memory: 256 * 1024 * 1024,
  map: 512 * 1024 * 1024,
  disk: 1024 * 1024 * 1024,
  /** Pixels of one image. */
  area: 128_000_000,
  side: 16_384,
  threads: 2,
};

/** Options of a conversion as -resize and friends, after the image is read. */
export function transformArgs(options: Record<string, unknown>, outputFormat: string): string[] {
  const args: string[] = [];
  if (options['auto_orient'] !== false) {
    args.push('-auto-orient');
  }

  const w = typeof options['width'] === 'number' ? options['width'] : undefined;
  const h = typeof options['height'] === 'number' ? options['height'] : undefined;
  if (w !== undefined || h !== undefined) {
    const box = `${w ?? ''}x${h ?? ''}`;
    const fit = typeof options['fit'] === 'string' ? options['fit'] : 'max';
    if (fit === 'crop' && w !== undefined && h !== undefined) {
      args.push('-resize', `${box}^`, '-gravity', 'center', '-extent', box);
    } else if (fit === 'scale' && w !== undefined && h !== undefined) {
      args.push('-resize', `${box}!`);
    } else if (fit === 'max') {
      args.push('-resize', `${box}>`);
    } else {
      args.push('-resize', box);
    }
  }
  if (outputFormat === 'ico') {
    // Icons hold at most 256 x 256.
    args.push('-resize', '256x256>');
  }
  if (options['strip'] === true) {
    args.push('-strip');
  }
  if (
    typeof options['quality'] === 'number' &&
    (outputFormat === 'jpg' || outputFormat === 'webp')
  ) {
    args.push('-quality', String(options['quality']));
  }

  return args;
}

/** What a command may not name (the catalogue's rule, checked at creation too). */
export const MAGICK_RULES = MAGICK_ARGUMENT_RULES;

/**
 * True when `path` starts like a script or vector format (XML, SVG, MSL, MVG, PostScript):
 * GraphicsMagick picks its coder from the content and would follow the files they name.
 */
export async function looksLikeScript(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(512), 0, 512, 0);
    const head = buffer
      .subarray(0, bytesRead)
      .toString('latin1')
      .replace(/^\xef\xbb\xbf/, '')
      .trimStart()
      .toLowerCase();

    return (
      head.startsWith('<') ||
      head.startsWith('%!') ||
      head.startsWith('push ') ||
      head.startsWith('viewbox')
    );
  } finally {
    await handle.close();
  }
}

// Messages ImageMagick and GraphicsMagick print for files they cannot decode.
const UNREADABLE =
  /no decode delegate|improper image header|insufficient image data|corrupt image|negative or zero image size|unable to read|not a .* file|unexpected end-of-file|premature end/i;
const TOO_LARGE =
  /exceeds (?:resource |the )?limit|resource limit|cache resources exhausted|memory allocation failed/i;
const POLICY = /not allowed by the security policy/i;

/**
 * What to throw for an error of a run: a failure of the program itself is explained from what
 * it printed; anything else (deadline, cancel) stays as it was.
 */
export function runError(engine: string, err: unknown): unknown {
  return isAppError(err) && err.code === 'ENGINE_FAILED'
    ? conversionError(engine, asText(err.details?.['stderrTail']), err)
    : err;
}

/** The error of a failed conversion, from what the program printed. */
function conversionError(engine: string, stderr: string, cause: unknown): AppError {
  const details = { engine, stderrTail: stderr.slice(-4096) };
  if (TOO_LARGE.test(stderr)) {
    return new AppError('ENGINE_FAILED', {
      message: 'The image exceeds the size or memory this server allows for one image.',
      cause,
      details,
    });
  }
  if (POLICY.test(stderr)) {
    return new AppError('INVALID_CONVERSION_TYPE', {
      message: 'This image format is not allowed here.',
      cause,
      details,
    });
  }
  if (UNREADABLE.test(stderr)) {
    return new AppError('INPUT_CORRUPT', { cause, details });
  }

  const said = lastLine(stderr);
  return new AppError('ENGINE_FAILED', {
    ...(said === '' ? {} : { message: `The conversion engine failed: ${said}` }),
    cause,
    details,
  });
}

/** The program's last line of complaint, without the server's directories, for the user. */
function lastLine(stderr: string): string {
  const line = stderr.trim().split('\n').pop() ?? '';
  return line
    .replace(/\/(?:[^\s/()'"]+\/)+/g, '')
    .replace(/^(?:gm |magick |convert )?\w*:\s*/, '')
    .slice(0, 200)
    .trim();
}
