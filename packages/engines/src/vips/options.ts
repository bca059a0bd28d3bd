// The vips engine's options, narrowed from the checked payload (the catalogue already coerced them).
import type { ResizeOptions } from 'sharp';

import { AppError } from '@convertd/errors';

import type { VipsRun } from './run';
import { MAX_PIXELS } from './run';

export type Fit = 'max' | 'crop' | 'scale' | 'upscale';

export interface Sizing {
  width: number | undefined;
  height: number | undefined;
  fit: Fit;
}

export interface Size {
  width: number;
  height: number;
}

type Options = Record<string, unknown>;

export function int(options: Options, name: string): number | undefined {
  const value = options[name];

  return typeof value === 'number' && Number.isFinite(value) ? Math.round(value) : undefined;
}

export function str(options: Options, name: string): string | undefined {
  const value = options[name];

  return typeof value === 'string' && value !== '' ? value : undefined;
}

export function bool(options: Options, name: string, fallback: boolean): boolean {
  const value = options[name];

  return typeof value === 'boolean' ? value : fallback;
}

export function sizing(options: Options): Sizing {
  const fit = str(options, 'fit');

  return {
    width: int(options, 'width'),
    height: int(options, 'height'),
    fit: fit === 'crop' || fit === 'scale' || fit === 'upscale' ? fit : 'max',
  };
}

/**
 * CloudConvert's fit modes as sharp resize options, or undefined when no size is asked.
 * max: within the box, never enlarged. upscale: within the box, enlarged when smaller.
 * crop: exactly the box, covering it and cutting the overflow around the centre.
 * scale: exactly the box, the aspect ratio given up.
 * With only one side given, every mode scales to that side (max still never enlarges).
 */
export function resizeOptions(s: Sizing): ResizeOptions | undefined {
  if (s.width === undefined && s.height === undefined) {
    return undefined;
  }
  const box = {
    ...(s.width === undefined ? {} : { width: s.width }),
    ...(s.height === undefined ? {} : { height: s.height }),
  };
  switch (s.fit) {
    case 'max':
      return { ...box, fit: 'inside', withoutEnlargement: true };
    case 'upscale':
      return { ...box, fit: 'inside' };
    case 'crop':
      return { ...box, fit: 'cover', position: 'centre' };
    case 'scale':
      return { ...box, fit: s.width !== undefined && s.height !== undefined ? 'fill' : 'inside' };
  }
}

/** The size `resizeOptions` gives an image of size `from`, as libvips rounds it. */
export function resizedSize(from: Size, s: Sizing): Size {
  const { width, height } = s;
  if (width === undefined && height === undefined) {
    return from;
  }
  if (width !== undefined && height !== undefined && (s.fit === 'crop' || s.fit === 'scale')) {
    return { width, height };
  }
  const ratio = Math.min(
    width === undefined ? Infinity : width / from.width,
    height === undefined ? Infinity : height / from.height,
  );
  const scale = s.fit === 'max' ? Math.min(1, ratio) : ratio;

  return {
    width: Math.max(1, Math.round(from.width * scale)),
    height: Math.max(1, Math.round(from.height * scale)),
  };
}

/** Refuses sizes whose output would exceed the pixel limit (huge upscales). */
export function checkOutputSize(size: Size): void {
  if (size.width * size.height > MAX_PIXELS) {
    const message = `The output would be ${size.width}×${size.height} pixels; the limit is ${
      MAX_PIXELS / 1e6
    } megapixels.`;
    throw new AppError('INVALID_DATA', { message, errors: { width: [message] } });
  }
}

/**
 * A colour option checked the way sharp parses it (CSS names, #rgb, #rrggbb, #rrggbbaa, rgb()),
 * limited to characters that are safe inside an SVG attribute.
 */
export function colour(run: VipsRun, options: Options, name: string, fallback: string): string {
  const value = (str(options, name) ?? fallback).trim();
  const bad = (): AppError =>
    new AppError('INVALID_DATA', {
      errors: { [name]: [`The ${name.replace(/_/g, ' ')} must be a colour like #ff0000 or red.`] },
    });
  if (!/^[#a-zA-Z0-9(),.%\s]+$/.test(value)) {
    throw bad();
  }
  try {
    // sharp parses the colour when the option is set, before any image is read.
    run.sharp().flatten({ background: value });
  } catch {
    throw bad();
  }

  return value;
}
