// optimize: the same image in fewer bytes. The result is never larger than the input: when
// re-encoding does not help, the original bytes are the output.
import { copyFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

import type { Sharp } from 'sharp';

import { AppError } from '@convertd/errors';

import type { EngineInput } from '../engine';
import { formatBytes } from '../sizes';
import { int, str } from './options';
import type { VipsRun } from './run';
import { decodes, openSource, pipeline, type Source } from './source';

type Profile = 'web' | 'print' | 'archive' | 'max';

interface ProfileSpec {
  /** JPEG and WebP quality. */
  quality: number;
  /** PNG: quantise to a palette at this quality (lossy), or undefined to stay lossless. */
  pngPalette: number | undefined;
  /** WebP written losslessly. */
  webpLossless: boolean;
  /** EXIF, XMP and the ICC profile stay; otherwise they go and the pixels are turned upright. */
  keepMetadata: boolean;
}

const PROFILES: Readonly<Record<Profile, ProfileSpec>> = {
  web: { quality: 75, pngPalette: 80, webpLossless: false, keepMetadata: false },
  print: { quality: 90, pngPalette: undefined, webpLossless: false, keepMetadata: true },
  archive: { quality: 95, pngPalette: undefined, webpLossless: true, keepMetadata: true },
  max: { quality: 60, pngPalette: 60, webpLossless: false, keepMetadata: false },
};

export interface Optimized {
  file: string;
  message: string;
}

export async function optimizeImage(run: VipsRun, input: EngineInput): Promise<Optimized> {
  const { options } = run.job;
  const profile = PROFILES[(str(options, 'profile') ?? 'web') as Profile] ?? PROFILES.web;
  const quality = int(options, 'quality');
  const format = input.format.toLowerCase();
  const source = await openSource(run, input);
  const out = join(run.job.outputDir, `optimized.${format}`);
  const pipe = pipeline(run, source, source.kind === 'animation' ? 'all' : source.primary);
  if (profile.keepMetadata) {
    if (source.cmyk) {
      pipe.keepExif().keepXmp().toColourspace('cmyk');
    } else {
      pipe.keepMetadata();
    }
  } else {
    // Without the EXIF orientation the pixels must be turned, or the image would show sideways.
    pipe.autoOrient();
  }
  encoder(pipe, format, source, profile, quality);
  await run.step(pipe.toFile(out), decodes(run, source));

  const before = (await stat(input.path)).size;
  const after = (await stat(out)).size;
  if (after >= before) {
    await copyFile(input.path, out);
    return { file: out, message: 'The image was already optimized; it is returned unchanged.' };
  }
  const saved = Math.round((1 - after / before) * 100);

  return {
    file: out,
    message: `Reduced the file size by ${saved < 1 ? 'less than 1' : saved}% (${formatBytes(before)} to ${formatBytes(after)}).`,
  };
}

function encoder(
  pipe: Sharp,
  format: string,
  source: Source,
  profile: ProfileSpec,
  quality: number | undefined,
): void {
  switch (format) {
    case 'jpg':
    case 'jpeg':
      // mozjpeg: trellis quantisation and optimised progressive scans, the smallest JPEGs.
      pipe.jpeg({ quality: quality ?? profile.quality, mozjpeg: true });
      return;
    case 'png': {
      const palette = quality ?? profile.pngPalette;
      if (palette !== undefined) {
        pipe.png({ palette: true, quality: palette, compressionLevel: 9, effort: 10 });
        return;
      }
      // Lossless: 16-bit channels stay 16-bit.
      (source.space16 ? pipe.toColourspace(source.space16) : pipe).png({
        compressionLevel: 9,
        adaptiveFiltering: true,
        effort: 10,
      });
      return;
    }
    case 'webp':
      pipe.webp(
        profile.webpLossless && quality === undefined
          ? { lossless: true, effort: 6 }
          : { quality: quality ?? profile.quality, effort: 6 },
      );
      return;
    default:
      throw new AppError('INVALID_CONVERSION_TYPE', {
        message: `The vips engine does not optimize ${format} files.`,
      });
  }
}
