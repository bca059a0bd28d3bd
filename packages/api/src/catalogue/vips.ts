// vips: raster images through libvips (sharp) in the worker's own process. BMP and ICO go
// through ImageMagick and HEIC through libheif's tools, so other engines win those pairs.
import { WATERMARK_FONT_NAMES } from './pdflib';
import type { CatalogueEntry, EngineSpec, OptionSpec } from './types';

/** Formats libvips reads and writes itself (HEIC: decoded and encoded with libheif's tools). */
export const VIPS_RASTER = [
  'jpg',
  'jpeg',
  'png',
  'webp',
  'avif',
  'gif',
  'tiff',
  'tif',
  'heic',
  'heif',
] as const;
/** Formats handed to ImageMagick to read and write. */
export const VIPS_MAGICK = ['bmp', 'ico'] as const;
/** The formats `optimize` serves. */
export const VIPS_OPTIMIZE = ['jpg', 'jpeg', 'png', 'webp'] as const;
export const VIPS_THUMBNAIL_OUTPUTS = ['png', 'jpg', 'webp'] as const;

/** Pairs served in-process: ahead of ImageMagick and GraphicsMagick. */
const NATIVE_PRIORITY = 50;
/** Pairs that need ImageMagick anyway: the imagemagick engine goes first. */
const MAGICK_PRIORITY = 110;

/** Largest width or height a caller may ask for. */
export const VIPS_MAX_DIMENSION = 16_384;

const SIZE: readonly OptionSpec[] = [
  {
    name: 'width',
    type: 'integer',
    min: 1,
    max: VIPS_MAX_DIMENSION,
    description: 'Width of the output in pixels.',
  },
  {
    name: 'height',
    type: 'integer',
    min: 1,
    max: VIPS_MAX_DIMENSION,
    description: 'Height of the output in pixels.',
  },
];

const THUMBNAIL_OPTIONS_SIZE: readonly OptionSpec[] = SIZE.map((option) => ({
  ...option,
  description: `${option.description ?? ''} Without width and height, the thumbnail fits in 256×256.`,
}));

const FIT_THUMBNAIL: OptionSpec = {
  name: 'fit',
  type: 'enum',
  default: 'max',
  possible_values: ['max', 'crop', 'scale'],
  description:
    'max: fit within width and height, never enlarged; crop: fill width and height exactly, ' +
    'cutting the overflow; scale: exactly width and height, the aspect ratio is not kept.',
};

const FIT: OptionSpec = {
  ...FIT_THUMBNAIL,
  possible_values: ['max', 'crop', 'scale', 'upscale'],
  description: `${FIT_THUMBNAIL.description ?? ''} upscale: like max, but enlarged when smaller.`,
};

const QUALITY: OptionSpec = {
  name: 'quality',
  type: 'integer',
  min: 1,
  max: 100,
  description: 'Quality of lossy formats (jpg, webp, avif, heic); the encoder default when unset.',
};

const CONVERT_OPTIONS: readonly OptionSpec[] = [
  ...SIZE,
  FIT,
  QUALITY,
  {
    name: 'strip',
    type: 'boolean',
    default: false,
    description: 'Remove EXIF, XMP and other metadata.',
  },
  {
    name: 'auto_orient',
    type: 'boolean',
    default: true,
    description: 'Rotate the pixels as the EXIF orientation says.',
  },
  {
    name: 'background',
    type: 'string',
    default: '#ffffff',
    max: 64,
    description: 'Colour put behind transparent pixels for formats without transparency.',
  },
];

const SVG_OPTIONS: readonly OptionSpec[] = [
  ...CONVERT_OPTIONS,
  {
    name: 'pixel_density',
    type: 'integer',
    min: 1,
    max: 2400,
    description:
      'Resolution in DPI the SVG is rendered at; 72 renders at its own size. When unset, a ' +
      'larger width or height renders at the density that reaches it.',
  },
];

const PDF_OPTIONS: readonly OptionSpec[] = [
  ...CONVERT_OPTIONS,
  {
    name: 'page_size',
    type: 'enum',
    default: 'image',
    possible_values: ['image', 'a4', 'letter'],
    description:
      'image: each page is the image at 72 DPI; a4 or letter: the image fits the page, which ' +
      'turns to landscape for wide images.',
  },
];

const OPTIMIZE_OPTIONS: readonly OptionSpec[] = [
  {
    name: 'profile',
    type: 'enum',
    default: 'web',
    possible_values: ['web', 'print', 'archive', 'max'],
    description:
      'web: small, metadata removed; print: high quality, metadata kept; archive: near lossless, ' +
      'metadata kept; max: smallest file, lower quality.',
  },
  { ...QUALITY, description: "Quality of the re-encoded image; the profile's when unset." },
];

const WATERMARK_OPTIONS: readonly OptionSpec[] = [
  { name: 'text', type: 'string', max: 1000, description: 'Text to put on; lines split at \\n.' },
  {
    name: 'font_size',
    type: 'integer',
    min: 1,
    max: 2000,
    description: "Font size in pixels; 5 % of the image's shorter side when unset.",
  },
  {
    name: 'font_width_percent',
    type: 'integer',
    min: 1,
    max: 100,
    description: 'Width of the text as a percentage of the image width (instead of font_size).',
  },
  {
    name: 'font_color',
    type: 'string',
    default: '#000000',
    max: 64,
    description: 'Text colour: #RRGGBB, #RGB or a CSS colour name.',
  },
  {
    name: 'font_name',
    type: 'enum',
    default: 'Arial',
    possible_values: [...WATERMARK_FONT_NAMES, 'Times', 'Courier', 'DejaVu Sans', 'Noto Sans'],
    description: 'Drawn with the installed font closest to it (Liberation, DejaVu, Noto).',
  },
  {
    name: 'font_align',
    type: 'enum',
    default: 'center',
    possible_values: ['left', 'center', 'right'],
    description: 'Alignment of the lines of the text.',
  },
  {
    name: 'image',
    type: 'string',
    description: 'Name of the task in this job whose image is put on as the watermark.',
  },
  {
    name: 'image_width',
    type: 'integer',
    min: 1,
    max: VIPS_MAX_DIMENSION,
    description: 'Width of the watermark image in pixels (its height follows unless given).',
  },
  {
    name: 'image_height',
    type: 'integer',
    min: 1,
    max: VIPS_MAX_DIMENSION,
    description: 'Height of the watermark image in pixels.',
  },
  {
    name: 'image_width_percent',
    type: 'integer',
    min: 1,
    max: 100,
    description: 'Width of the watermark image as a percentage of the image width.',
  },
  {
    name: 'position_vertical',
    type: 'enum',
    default: 'center',
    possible_values: ['top', 'center', 'bottom'],
  },
  {
    name: 'position_horizontal',
    type: 'enum',
    default: 'center',
    possible_values: ['left', 'center', 'right'],
  },
  {
    name: 'margin_vertical',
    type: 'integer',
    default: 25,
    min: 0,
    max: VIPS_MAX_DIMENSION,
    description: 'Distance in pixels from the top or bottom edge.',
  },
  {
    name: 'margin_horizontal',
    type: 'integer',
    default: 25,
    min: 0,
    max: VIPS_MAX_DIMENSION,
    description: 'Distance in pixels from the left or right edge.',
  },
  { name: 'opacity', type: 'integer', default: 100, min: 0, max: 100, description: 'In percent.' },
  {
    name: 'rotation',
    type: 'integer',
    default: 0,
    min: -360,
    max: 360,
    description: 'Degrees, clockwise.',
  },
  {
    name: 'layer',
    type: 'enum',
    default: 'above',
    possible_values: ['above', 'below'],
    description: 'below: the watermark shows only through transparent parts of the image.',
  },
];

function convert(
  inputs: readonly string[],
  outputs: readonly string[],
  options: readonly OptionSpec[],
  priority: number,
): CatalogueEntry {
  return { operation: 'convert', inputs, outputs, options, group: 'image', priority };
}

const RASTER_OUTPUTS = [...VIPS_RASTER];

export const VIPS: EngineSpec = {
  name: 'vips',
  entries: [
    convert(VIPS_RASTER, RASTER_OUTPUTS, CONVERT_OPTIONS, NATIVE_PRIORITY),
    convert(VIPS_RASTER, ['pdf'], PDF_OPTIONS, NATIVE_PRIORITY),
    convert(['svg'], RASTER_OUTPUTS, SVG_OPTIONS, NATIVE_PRIORITY),
    convert(VIPS_RASTER, VIPS_MAGICK, CONVERT_OPTIONS, MAGICK_PRIORITY),
    convert(['svg'], VIPS_MAGICK, SVG_OPTIONS, MAGICK_PRIORITY),
    convert(VIPS_MAGICK, [...RASTER_OUTPUTS, ...VIPS_MAGICK], CONVERT_OPTIONS, MAGICK_PRIORITY),
    convert(VIPS_MAGICK, ['pdf'], PDF_OPTIONS, MAGICK_PRIORITY),
    {
      operation: 'optimize',
      inputs: VIPS_OPTIMIZE,
      outputs: 'same',
      options: OPTIMIZE_OPTIONS,
      group: 'image',
      priority: NATIVE_PRIORITY,
    },
    {
      operation: 'thumbnail',
      inputs: [...VIPS_RASTER, 'svg'],
      outputs: VIPS_THUMBNAIL_OUTPUTS,
      options: [...THUMBNAIL_OPTIONS_SIZE, FIT_THUMBNAIL],
      group: 'image',
      priority: NATIVE_PRIORITY,
    },
    {
      operation: 'thumbnail',
      inputs: VIPS_MAGICK,
      outputs: VIPS_THUMBNAIL_OUTPUTS,
      options: [...THUMBNAIL_OPTIONS_SIZE, FIT_THUMBNAIL],
      group: 'image',
      priority: MAGICK_PRIORITY,
    },
    {
      operation: 'watermark',
      inputs: VIPS_RASTER,
      outputs: 'same',
      options: WATERMARK_OPTIONS,
      group: 'image',
      priority: NATIVE_PRIORITY,
    },
    {
      operation: 'watermark',
      inputs: VIPS_MAGICK,
      outputs: 'same',
      options: WATERMARK_OPTIONS,
      group: 'image',
      priority: MAGICK_PRIORITY,
    },
  ],
};
