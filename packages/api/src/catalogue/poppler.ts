// Poppler: PDF pages to images (pdftoppm), SVG (pdftocairo), text (pdftotext) and HTML
// (pdftohtml), and a PDF's document information (pdfinfo).
import { PAGES_OPTION, RASTER_OPTIONS } from './paged';
import type { EngineSpec } from './types';

export const POPPLER: EngineSpec = {
  name: 'poppler',
  entries: [
    {
      operation: 'convert',
      inputs: ['pdf'],
      outputs: ['png', 'tiff'],
      options: RASTER_OPTIONS,
      group: 'pdf',
    },
    {
      operation: 'convert',
      inputs: ['pdf'],
      outputs: ['jpg'],
      options: [
        ...RASTER_OPTIONS,
        { name: 'quality', type: 'integer', default: 85, min: 1, max: 100 },
      ],
      group: 'pdf',
    },
    {
      operation: 'convert',
      inputs: ['pdf'],
      outputs: ['svg', 'html'],
      options: [PAGES_OPTION],
      group: 'pdf',
    },
    {
      operation: 'convert',
      inputs: ['pdf'],
      outputs: ['txt'],
      options: [
        PAGES_OPTION,
        {
          name: 'layout',
          type: 'boolean',
          default: false,
          description: 'Keep the physical layout of the text (columns, indents).',
        },
      ],
      group: 'pdf',
    },
    {
      // CloudConvert's metadata are exiftool's tags; pdfinfo's fields are the alternative.
      operation: 'metadata',
      inputs: ['pdf'],
      outputs: 'none',
      options: [],
      group: 'pdf',
      priority: 150,
    },
  ],
};
