// ImageMagick 6: raster formats libvips lacks (BMP, ICO, TGA, PCX, PNM, PSD...), as an alternative
// for the ones it has, and the `command` operation. PostScript and PDF are not read: the
// system policy forbids them (ghostscript's engine serves them).
import { MAGICK_ARGUMENT_RULES } from '../command/rules';
import { commandOptions } from './ffmpeg';
import type { CatalogueEntry, EngineSpec, OptionSpec } from './types';

/** Formats libvips reads and writes too: vips goes first for pairs of these. */
export const MAGICK_SHARED_INPUTS = [
  'png',
  'jpg',
  'jpeg',
  'gif',
  'tiff',
  'tif',
  'webp',
  'heic',
] as const;
export const MAGICK_SHARED_OUTPUTS = ['png', 'jpg', 'gif', 'tiff', 'webp'] as const;
/** Formats ImageMagick reads that libvips does not (ICO and BMP vips hands to us). */
export const MAGICK_ONLY_INPUTS = [
  'bmp',
  'ico',
  'tga',
  'pcx',
  'ppm',
  'pgm',
  'pbm',
  'pnm',
  'psd',
  'sgi',
  'xpm',
  'jp2',
] as const;
export const MAGICK_ONLY_OUTPUTS = ['bmp', 'ico'] as const;
/** Largest width or height a caller may ask for (the policy's limit too). */
export const MAGICK_MAX_DIMENSION = 16_384;

/** Options of ImageMagick's and GraphicsMagick's conversions. */
export const MAGICK_CONVERT_OPTIONS: readonly OptionSpec[] = [
  { name: 'width', type: 'integer', min: 1, max: MAGICK_MAX_DIMENSION, description: 'In pixels.' },
  { name: 'height', type: 'integer', min: 1, max: MAGICK_MAX_DIMENSION, description: 'In pixels.' },
  {
    name: 'fit',
    type: 'enum',
    default: 'max',
    possible_values: ['max', 'crop', 'scale', 'upscale'],
    description:
      'max: fit within width and height, never enlarged; crop: fill width and height exactly, ' +
      'cutting the overflow; scale: exactly width and height, the aspect ratio is not kept; ' +
      'upscale: like max, but enlarged when smaller.',
  },
  {
    name: 'quality',
    type: 'integer',
    min: 1,
    max: 100,
    description: 'Quality of lossy formats (jpg, webp); the encoder default when unset.',
  },
  {
    name: 'strip',
    type: 'boolean',
    default: false,
    description: 'Remove EXIF and other metadata.',
  },
  {
    name: 'auto_orient',
    type: 'boolean',
    default: true,
    description: 'Rotate the pixels as the EXIF orientation says.',
  },
];

function convert(
  inputs: readonly string[],
  outputs: readonly string[],
  priority: number,
): CatalogueEntry {
  return {
    operation: 'convert',
    inputs,
    outputs,
    options: MAGICK_CONVERT_OPTIONS,
    group: 'image',
    priority,
  };
}

export const IMAGEMAGICK: EngineSpec = {
  name: 'imagemagick',
  entries: [
    convert(MAGICK_SHARED_INPUTS, MAGICK_SHARED_OUTPUTS, 150),
    convert(MAGICK_SHARED_INPUTS, MAGICK_ONLY_OUTPUTS, 100),
    convert(MAGICK_ONLY_INPUTS, [...MAGICK_SHARED_OUTPUTS, ...MAGICK_ONLY_OUTPUTS], 100),
    {
      operation: 'command',
      inputs: ['*'],
      outputs: 'none',
      options: commandOptions(['convert', 'identify'], MAGICK_ARGUMENT_RULES),
      group: 'other',
    },
  ],
};
