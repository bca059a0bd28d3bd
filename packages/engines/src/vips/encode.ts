// Writes a pipeline in an output format: sharp's own encoders, libheif's for HEIC, ImageMagick's
// for BMP and ICO.
import type { Sharp } from 'sharp';

import { decodes, type Source } from './source';
import type { VipsRun } from './run';
import { encodeHeif, encodeWithMagick } from './tools';

/** Output formats by their canonical name. */
export type Target = 'jpg' | 'png' | 'webp' | 'avif' | 'gif' | 'tiff' | 'heic' | 'bmp' | 'ico';

const TARGETS: Readonly<Record<string, Target>> = {
  jpg: 'jpg',
  jpeg: 'jpg',
  png: 'png',
  webp: 'webp',
  avif: 'avif',
  gif: 'gif',
  tiff: 'tiff',
  tif: 'tiff',
  heic: 'heic',
  heif: 'heic',
  bmp: 'bmp',
  ico: 'ico',
};

export function targetOf(format: string): Target | undefined {
  return TARGETS[format.toLowerCase()];
}

/** Formats that keep the frames of an animation. */
export const ANIMATED: ReadonlySet<Target> = new Set(['gif', 'webp']);
/** Largest side of an icon. */
const ICO_MAX = 256;
/** Defaults when no quality is asked: the encoders' usual trade-offs. */
const DEFAULT_QUALITY: Partial<Record<Target, number>> = { jpg: 85, webp: 80, avif: 50, heic: 50 };
/** libaom at its default effort takes seconds for a small photo; 2 is ten times faster. */
const AVIF_EFFORT = 2;

export interface EncodeOptions {
  quality?: number | undefined;
  /** Colour behind transparent pixels, for formats without transparency. */
  background: string;
  /** Keep EXIF, XMP, IPTC and the ICC profile. */
  keepMetadata: boolean;
}

/** Writes `pipe` to `out` as `target`. */
export async function encode(
  run: VipsRun,
  source: Source,
  pipe: Sharp,
  target: Target,
  out: string,
  options: EncodeOptions,
): Promise<void> {
  if (options.keepMetadata) {
    // A CMYK profile cannot describe the sRGB pixels every target but CMYK JPEG gets.
    if (source.cmyk) {
      pipe.keepExif().keepXmp();
    } else {
      pipe.keepMetadata();
    }
  }
  const quality = options.quality ?? DEFAULT_QUALITY[target] ?? 80;
  switch (target) {
    case 'jpg':
      pipe.flatten({ background: options.background }).jpeg({ quality });
      break;
    case 'png':
      keep16(source, pipe).png();
      break;
    case 'webp':
      pipe.webp({ quality });
      break;
    case 'avif':
      pipe.avif({ quality, effort: AVIF_EFFORT });
      break;
    case 'gif':
      pipe.gif();
      break;
    case 'tiff':
      // Lossless and read everywhere; sharp's default would be lossy JPEG-in-TIFF.
      keep16(source, pipe).tiff({ compression: 'lzw', predictor: 'horizontal' });
      break;
    case 'heic': {
      const png = await run.scratch('encode.png');
      await run.step(pipe.png().toFile(png), decodes(run, source));
      await encodeHeif(run, png, out, quality);
      return;
    }
    case 'bmp': {
      // 24-bit BMP: the version every reader takes; transparency goes onto the background.
      const png = await run.scratch('encode.png');
      await run.step(
        pipe.flatten({ background: options.background }).png().toFile(png),
        decodes(run, source),
      );
      await encodeWithMagick(run, png, out, 'bmp');
      return;
    }
    case 'ico': {
      const png = await run.scratch('encode.png');
      const info = await run.step(pipe.png().toFile(png), decodes(run, source));
      if (info.width > ICO_MAX || info.height > ICO_MAX) {
        const small = await run.scratch('icon.png');
        await run.step(
          run.open(png).resize(ICO_MAX, ICO_MAX, { fit: 'inside' }).png().toFile(small),
        );
        await encodeWithMagick(run, small, out, 'ico');
        return;
      }
      await encodeWithMagick(run, png, out, 'ico');
      return;
    }
  }
  await run.step(pipe.toFile(out), decodes(run, source));
}

/** Keeps 16 bits per channel for the formats that hold them (sharp writes 8 by default). */
function keep16(source: Source, pipe: Sharp): Sharp {
  return source.space16 ? pipe.toColourspace(source.space16) : pipe;
}
