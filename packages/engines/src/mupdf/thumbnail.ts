// Thumbnails of document pages: mutool renders each page at the size that meets the box, sharp
// crops or stretches it to the exact size and encodes it.
//
// Fit, as CloudConvert names it: `max` fits the page inside width x height keeping its aspect
// ratio; `crop` fills width x height and cuts the overflow (the top of a tall page is kept, where
// a title usually is); `scale` stretches the page to width x height. Pages are vector drawings,
// so a small page is drawn larger rather than upscaled from pixels. With only one side given, the
// other follows the page's aspect ratio whatever `fit` says; with neither, the box is 256 x 256.
import sharp from 'sharp';

import { PAGE_RENDER_LIMITS } from '@convertd/api';
import { AppError, isAppError } from '@convertd/errors';

import { boundSide, scaledTo } from '../paged/fit';
import type { Size } from '../paged/fit';
import { checkPixels } from '../paged/selection';

export type Fit = 'max' | 'crop' | 'scale';

export interface ThumbnailBox {
  width?: number | undefined;
  height?: number | undefined;
  fit: Fit;
}

const DEFAULT_SIDE = 256;

/** The box with both sides known, or one side and the other left to the page. */
export function readBox(options: Record<string, unknown>): ThumbnailBox {
  const width = options['width'] as number | undefined;
  const height = options['height'] as number | undefined;
  const fit = (options['fit'] as Fit | undefined) ?? 'max';
  if (width === undefined && height === undefined) {
    return { width: DEFAULT_SIDE, height: DEFAULT_SIDE, fit };
  }

  return { width, height, fit };
}

/**
 * mutool's sizing arguments for one page, and the pixels it will draw. Pages that share
 * arguments are drawn by one run.
 */
export function drawArgs(box: ThumbnailBox, page: number, size: Size): string[] {
  const { width, height, fit } = box;
  if (width === undefined || height === undefined) {
    const side = width === undefined ? 'height' : 'width';
    const length = width ?? height ?? DEFAULT_SIDE;
    checkPixels(scaledTo(size, side, length), page, side);

    return [side === 'width' ? '-w' : '-h', String(length)];
  }

  const both = ['-w', String(width), '-h', String(height)];
  switch (fit) {
    case 'max': {
      const side = boundSide(size, { width, height });
      checkPixels(scaledTo(size, side, side === 'width' ? width : height), page, side);

      // mutool fits the page inside -w x -h by itself.
      return both;
    }
    case 'scale':
      checkPixels({ width, height }, page, 'width');

      return [...both, '-f'];
    case 'crop': {
      const side = boundSide(size, { width, height }, true);
      checkPixels(scaledTo(size, side, side === 'width' ? width : height), page, side);

      return side === 'width' ? ['-w', String(width)] : ['-h', String(height)];
    }
  }
}

export type ThumbnailFormat = 'png' | 'jpg' | 'webp';

/** Writes the finished thumbnail of one drawn page to `target`. */
export async function finish(
  drawn: string,
  target: string,
  box: ThumbnailBox,
  format: ThumbnailFormat,
  deadlineAt: number,
): Promise<void> {
  const seconds = Math.ceil((deadlineAt - Date.now()) / 1000);
  if (seconds <= 0) {
    throw new AppError('ENGINE_TIMEOUT', { details: { engine: 'mupdf', step: 'thumbnail' } });
  }

  let image = sharp(drawn, { limitInputPixels: PAGE_RENDER_LIMITS.maxPixels }).timeout({ seconds });
  const { width, height, fit } = box;
  if (width !== undefined && height !== undefined) {
    image =
      fit === 'crop'
        ? image.resize(width, height, { fit: 'cover', position: 'top' })
        : fit === 'scale'
          ? image.resize(width, height, { fit: 'fill' })
          : // Only guards against a pixel of rounding over the box.
            image.resize(width, height, { fit: 'inside', withoutEnlargement: true });
  }

  switch (format) {
    case 'png':
      image = image.png();
      break;
    case 'jpg':
      image = image.flatten({ background: '#ffffff' }).jpeg({ quality: 85 });
      break;
    case 'webp':
      image = image.webp({ quality: 80 });
      break;
  }

  try {
    await image.toFile(target);
  } catch (err) {
    throw isAppError(err)
      ? err
      : new AppError('ENGINE_FAILED', {
          cause: err,
          details: { engine: 'mupdf', step: 'thumbnail' },
        });
  }
}
