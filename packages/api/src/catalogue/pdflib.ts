// pdf-lib, in process: merging documents into one PDF, watermarks, page tools and the Info
// dictionary. The page tools are also served by qpdf, which is the default for them.
import { PDF_ROTATIONS } from './qpdf';
import { checkPageSpec } from './pages';
import type { EngineSpec, OptionSpec } from './types';

/** The font names CloudConvert offers for text watermarks (the official SDKs' typings). */
export const WATERMARK_FONT_NAMES = [
  'Andale Mono',
  'Arial',
  'Arial Black',
  'Arial Bold',
  'Arial Bold Italic',
  'Arial Italic',
  'Courier New',
  'Courier New Bold',
  'Courier New Bold Italic',
  'Courier New Italic',
  'Georgia',
  'Georgia Bold',
  'Georgia Bold Italic',
  'Georgia Italic',
  'Helvetica',
  'Helvetica Bold',
  'Helvetica BoldOblique',
  'Helvetica Narrow Bold',
  'Helvetica Narrow BoldOblique',
  'Helvetica Oblique',
  'Impact',
  'Times New Roman',
  'Times New Roman Bold',
  'Times New Roman Bold Italic',
  'Times New Roman Italic',
  'Trebuchet MS',
  'Trebuchet MS Bold',
  'Trebuchet MS Bold Italic',
  'Trebuchet MS Italic',
  'Verdana',
  'Verdana Bold',
  'Verdana Bold Italic',
  'Verdana Italic',
] as const;

/** Also taken, as the image watermark (vips) takes them: a job may stamp both kinds of file. */
const EXTRA_FONT_NAMES = ['Times', 'Courier', 'DejaVu Sans', 'Noto Sans'] as const;

/** Largest page side PDF readers accept (200 inches), in points: bounds sizes and margins. */
const MAX_POINTS = 14_400;

const PAGES: OptionSpec = {
  name: 'pages',
  type: 'string',
  check: checkPageSpec,
  description: 'Pages, e.g. "1-3,5" or "3-" (3 to the end); all pages when unset.',
};

const WATERMARK_OPTIONS: readonly OptionSpec[] = [
  { ...PAGES, description: 'Pages to stamp, e.g. "1-3,5"; all pages when unset.' },
  {
    name: 'layer',
    type: 'enum',
    possible_values: ['above', 'below'],
    default: 'above',
    description: 'Over the page content, or under it (hidden where the page paints a background).',
  },
  { name: 'text', type: 'string', max: 1000, description: 'Text to stamp; lines split at \\n.' },
  {
    name: 'font_size',
    type: 'integer',
    default: 40,
    min: 1,
    max: 2000,
    description: 'Text size in points.',
  },
  {
    name: 'font_width_percent',
    type: 'integer',
    min: 1,
    max: 100,
    description: 'Sizes the text to this percentage of the page width instead of font_size.',
  },
  { name: 'font_color', type: 'string', default: '#000000', description: 'Text colour, #RRGGBB.' },
  {
    name: 'font_name',
    type: 'enum',
    possible_values: [...WATERMARK_FONT_NAMES, ...EXTRA_FONT_NAMES],
    default: 'Arial',
    description: 'Mapped onto the standard PDF fonts; text they cannot show gets a TrueType font.',
  },
  {
    name: 'font_align',
    type: 'enum',
    possible_values: ['left', 'center', 'right'],
    default: 'center',
    description: 'Alignment of the lines of the text.',
  },
  {
    name: 'image',
    type: 'string',
    description: 'Name of the task in this job that provides the PNG or JPEG to stamp.',
  },
  {
    name: 'image_width',
    type: 'integer',
    min: 1,
    max: MAX_POINTS,
    description:
      'Image width in points (1/72 inch); keeps the aspect ratio unless image_height is set too.',
  },
  {
    name: 'image_height',
    type: 'integer',
    min: 1,
    max: MAX_POINTS,
    description: 'Image height in points; keeps the aspect ratio unless image_width is set too.',
  },
  {
    name: 'image_width_percent',
    type: 'integer',
    min: 1,
    max: 100,
    description: 'Image width as a percentage of the page width.',
  },
  {
    name: 'position_vertical',
    type: 'enum',
    possible_values: ['top', 'center', 'bottom'],
    default: 'center',
  },
  {
    name: 'position_horizontal',
    type: 'enum',
    possible_values: ['left', 'center', 'right'],
    default: 'center',
  },
  {
    name: 'margin_vertical',
    type: 'integer',
    min: 0,
    max: MAX_POINTS,
    default: 25,
    description: 'Distance in points from the top or bottom edge.',
  },
  {
    name: 'margin_horizontal',
    type: 'integer',
    min: 0,
    max: MAX_POINTS,
    default: 25,
    description: 'Distance in points from the left or right edge.',
  },
  { name: 'opacity', type: 'integer', min: 0, max: 100, default: 100, description: 'Percent.' },
  {
    name: 'rotation',
    type: 'integer',
    min: -360,
    max: 360,
    default: 0,
    description: 'Degrees, clockwise, around the centre of the watermark.',
  },
];

export const PDFLIB: EngineSpec = {
  name: 'pdflib',
  entries: [
    // Files that are not PDFs are converted to PDF by another engine of the worker first.
    { operation: 'merge', inputs: ['*'], outputs: ['pdf'], options: [], group: 'pdf' },
    {
      operation: 'watermark',
      inputs: ['pdf'],
      outputs: 'same',
      options: WATERMARK_OPTIONS,
      group: 'pdf',
    },
    { operation: 'pdf/split-pages', inputs: ['pdf'], outputs: 'same', options: [], group: 'pdf' },
    {
      operation: 'pdf/extract-pages',
      inputs: ['pdf'],
      outputs: 'same',
      options: [{ ...PAGES, required: true, description: 'Pages to keep, e.g. "1,2,5-7".' }],
      group: 'pdf',
    },
    {
      operation: 'pdf/rotate-pages',
      inputs: ['pdf'],
      outputs: 'same',
      options: [
        PAGES,
        {
          name: 'rotation',
          type: 'enum',
          possible_values: PDF_ROTATIONS,
          required: true,
          description: 'Degrees clockwise, added to the rotation each page already has.',
        },
      ],
      group: 'pdf',
    },
    {
      operation: 'metadata/write',
      inputs: ['pdf'],
      outputs: 'same',
      options: [
        {
          name: 'metadata',
          type: 'dictionary',
          required: true,
          description:
            'Title, Author, Subject, Keywords, Creator, Producer, CreationDate and ModDate (ISO ' +
            'dates), Trapped, or any other key as a custom entry; an empty value removes the key.',
        },
      ],
      group: 'pdf',
    },
  ],
};
