// convert and thumbnail: one image in, one file per picture out.
import { join } from 'node:path';

import type { Sharp } from 'sharp';

import { AppError } from '@convertd/errors';

import type { EngineInput } from '../engine';
import { ANIMATED, encode, targetOf, type EncodeOptions, type Target } from './encode';
import {
  bool,
  checkOutputSize,
  colour,
  int,
  resizedSize,
  resizeOptions,
  sizing,
  str,
  type Sizing,
} from './options';
import { imagesToPdf, type PageSize } from './pdf';
import type { VipsRun } from './run';
import { decodes, guardAllPages, openSource, pipeline, type Source } from './source';

/** A thumbnail asked without a size fits this box. */
const THUMBNAIL_BOX = 256;

/**
 * Pictures of a source, by output format:
 * - an animation (GIF, WebP) stays animated in GIF and WebP; other formats get its first frame;
 * - a multi-page TIFF stays one file of pages in TIFF and PDF; other formats get one file per page,
 *   in page order, because a document's pages are all content (unlike an animation's frames);
 * - a HEIF file holding several images gives its primary image.
 */
export async function convertImage(
  run: VipsRun,
  input: EngineInput,
  outputFormat: string,
): Promise<string[]> {
  const { options } = run.job;
  const size = sizing(options);
  const strip = bool(options, 'strip', false);
  const autoOrient = bool(options, 'auto_orient', true);
  const quality = int(options, 'quality');
  const background = colour(run, options, 'background', '#ffffff');
  const source = await openSource(run, input, {
    sizing: size,
    density: int(options, 'pixel_density'),
  });
  checkOutputSize(resizedSize(oriented(source, autoOrient), size));

  if (outputFormat === 'pdf') {
    const out = join(run.job.outputDir, 'output.pdf');
    const pageSize = (str(options, 'page_size') ?? 'image') as PageSize;
    await imagesToPdf(run, source, input.path, out, {
      sizing: size,
      autoOrient,
      strip,
      quality,
      pageSize,
      background,
    });
    return [out];
  }

  const target = targetOf(outputFormat);
  if (!target) {
    throw new AppError('INVALID_CONVERSION_TYPE', {
      message: `The vips engine does not write ${outputFormat}.`,
    });
  }
  const encoding: EncodeOptions = { quality, background, keepMetadata: !strip };
  const shape = (pipe: Sharp): Sharp => reshape(pipe, autoOrient, size);
  const name = (n?: number) =>
    join(run.job.outputDir, `${n === undefined ? 'output' : `page-${n}`}.${outputFormat}`);

  if (source.kind === 'animation' && ANIMATED.has(target)) {
    await encode(run, source, shape(pipeline(run, source, 'all')), target, name(), encoding);
    return [name()];
  }
  if (source.kind === 'document' && target === 'tiff') {
    await pagesToTiff(run, source, shape, name(), encoding);
    return [name()];
  }
  if (source.kind === 'document') {
    const files: string[] = [];
    for (let page = 0; page < source.pages; page += 1) {
      const out = name(page + 1);
      await encode(run, source, shape(pipeline(run, source, page)), target, out, encoding);
      files.push(out);
    }
    return files;
  }
  await encode(run, source, shape(pipeline(run, source, source.primary)), target, name(), encoding);

  return [name()];
}

/**
 * A small picture of the image: always upright, without metadata, the first frame or page.
 * Without width and height it fits in 256×256.
 */
export async function thumbnailImage(
  run: VipsRun,
  input: EngineInput,
  outputFormat: string,
): Promise<string[]> {
  const target = targetOf(outputFormat);
  if (target !== 'png' && target !== 'jpg' && target !== 'webp') {
    throw new AppError('INVALID_CONVERSION_TYPE', {
      message: `Thumbnails are png, jpg or webp, not ${outputFormat}.`,
    });
  }
  const asked = sizing(run.job.options);
  const size: Sizing =
    asked.width === undefined && asked.height === undefined
      ? { width: THUMBNAIL_BOX, height: THUMBNAIL_BOX, fit: 'max' }
      : asked;
  const source = await openSource(run, input, { sizing: size });
  checkOutputSize(resizedSize(oriented(source, true), size));
  const out = join(run.job.outputDir, `thumbnail.${outputFormat}`);
  await encode(
    run,
    source,
    reshape(pipeline(run, source, source.primary), true, size),
    target,
    out,
    {
      background: '#ffffff',
      keepMetadata: false,
    },
  );

  return [out];
}

export function reshape(pipe: Sharp, autoOrient: boolean, size: Sizing): Sharp {
  if (autoOrient) {
    pipe.autoOrient();
  }
  const resize = resizeOptions(size);

  return resize ? pipe.resize(resize) : pipe;
}

/** The size of one page as shown: EXIF orientations 5 to 8 swap width and height. */
export function oriented(source: Source, autoOrient: boolean): { width: number; height: number } {
  return autoOrient && source.orientation >= 5
    ? { width: source.height, height: source.width }
    : { width: source.width, height: source.height };
}

/**
 * The pages of a TIFF, each reshaped, as one multi-page TIFF. Pages are read one by one because
 * they may differ in size; libvips then writes each as its own directory (a smaller page is padded
 * to the largest).
 */
async function pagesToTiff(
  run: VipsRun,
  source: Source,
  shape: (pipe: Sharp) => Sharp,
  out: string,
  encoding: EncodeOptions,
): Promise<void> {
  guardAllPages(source);
  const pages: Buffer[] = [];
  for (let page = 0; page < source.pages; page += 1) {
    const pipe = shape(pipeline(run, source, page));
    pages.push(
      await run.step(
        (source.space16 ? pipe.toColourspace(source.space16) : pipe)
          .png({ compressionLevel: 1 })
          .toBuffer(),
        decodes(run, source),
      ),
    );
  }
  const joined = run.open(pages, { join: { animated: true } });
  await encode(run, source, joined, 'tiff' satisfies Target, out, encoding);
}
