// Options and limits shared by the engines that render pages of documents (poppler, mupdf).
import { checkClosedPageSpec } from './pages';
import type { OptionSpec } from './types';

/** Limits shared with the adapters, which check what a spec cannot (the pages of a document). */
export const PAGE_RENDER_LIMITS = {
  /** Pages one task renders to images or SVG at most. */
  maxPages: 500,
  /** Pixels of one rendered page: A4 at 1200 dpi (139 million) fits, a poster at 1200 dpi not. */
  maxPixels: 150_000_000,
  minDensity: 10,
  maxDensity: 1200,
  /** Largest width or height asked of a page image, in pixels. */
  maxSide: 16_384,
} as const;

export const PAGES_OPTION: OptionSpec = {
  name: 'pages',
  type: 'string',
  check: checkClosedPageSpec,
  description: 'Pages to convert, e.g. "1-3" or "2,4"; all pages when unset.',
};

/** Options of every conversion of pages to raster images. */
export const RASTER_OPTIONS: readonly OptionSpec[] = [
  PAGES_OPTION,
  {
    name: 'pixel_density',
    type: 'integer',
    default: 150,
    min: PAGE_RENDER_LIMITS.minDensity,
    max: PAGE_RENDER_LIMITS.maxDensity,
    description: 'Resolution in dots per inch; ignored when width or height is set.',
  },
  {
    name: 'width',
    type: 'integer',
    min: 1,
    max: PAGE_RENDER_LIMITS.maxSide,
    description: 'Image width in pixels; with height, each page fits inside width x height.',
  },
  {
    name: 'height',
    type: 'integer',
    min: 1,
    max: PAGE_RENDER_LIMITS.maxSide,
    description: 'Image height in pixels; with width, each page fits inside width x height.',
  },
];
