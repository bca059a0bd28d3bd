// MuPDF (mutool): pages of PDF, XPS and e-books to images, SVG, text and HTML, and thumbnails.
import { PAGE_RENDER_LIMITS, PAGES_OPTION, RASTER_OPTIONS } from './paged';
import type { CatalogueEntry, EngineSpec, Group, OptionSpec } from './types';

/** Documents mutool opens; e-books are laid out on 450 x 600 pt pages. */
const EBOOKS = ['epub', 'mobi', 'fb2'];
const FIXED = ['xps', 'oxps', 'cbz'];

export const THUMBNAIL_OPTIONS: readonly OptionSpec[] = [
  {
    name: 'width',
    type: 'integer',
    min: 1,
    max: PAGE_RENDER_LIMITS.maxSide,
    description: 'Thumbnail width in pixels (a 256 x 256 box when neither side is set).',
  },
  {
    name: 'height',
    type: 'integer',
    min: 1,
    max: PAGE_RENDER_LIMITS.maxSide,
    description: 'Thumbnail height in pixels.',
  },
  {
    name: 'fit',
    type: 'enum',
    default: 'max',
    possible_values: ['max', 'crop', 'scale'],
    description:
      'max: inside width x height, aspect kept; crop: fills width x height, the overflow cut ' +
      'off; scale: stretched to width x height.',
  },
  {
    name: 'count',
    type: 'integer',
    default: 1,
    min: 1,
    max: 100,
    description: 'Thumbnails of the first count pages.',
  },
];

/** Thumbnails of documents: the fastest renderer here, so the default. */
function thumbnails(inputs: readonly string[], group: Group): CatalogueEntry {
  return {
    operation: 'thumbnail',
    inputs,
    outputs: ['png', 'jpg', 'webp'],
    options: THUMBNAIL_OPTIONS,
    group,
    priority: 50,
  };
}

export const MUPDF: EngineSpec = {
  name: 'mupdf',
  entries: [
    {
      // The fastest PDF rasterizer here (about 4x pdftoppm), so the default for pdf -> png.
      operation: 'convert',
      inputs: ['pdf'],
      outputs: ['png'],
      options: RASTER_OPTIONS,
      group: 'pdf',
      priority: 50,
    },
    {
      // pdftocairo's SVG, pdftotext and pdftohtml stay the defaults; these are alternatives.
      operation: 'convert',
      inputs: ['pdf'],
      outputs: ['svg', 'txt', 'html'],
      options: [PAGES_OPTION],
      group: 'pdf',
      priority: 150,
    },
    {
      operation: 'convert',
      inputs: FIXED,
      outputs: ['png'],
      options: RASTER_OPTIONS,
      group: 'document',
    },
    {
      operation: 'convert',
      inputs: FIXED,
      outputs: ['svg', 'txt', 'html'],
      options: [PAGES_OPTION],
      group: 'document',
    },
    {
      operation: 'convert',
      inputs: EBOOKS,
      outputs: ['png'],
      options: RASTER_OPTIONS,
      group: 'ebook',
    },
    {
      // Page-by-page text of a reflowed book; an e-book converter that keeps the flow should win.
      operation: 'convert',
      inputs: EBOOKS,
      outputs: ['svg', 'txt', 'html'],
      options: [PAGES_OPTION],
      group: 'ebook',
      priority: 150,
    },
    thumbnails(['pdf'], 'pdf'),
    thumbnails(FIXED, 'document'),
    thumbnails(EBOOKS, 'ebook'),
  ],
};
