// OCRmyPDF (with Tesseract): adds a searchable text layer to scanned PDFs and images.
import type { CatalogueEntry, EngineSpec, OptionSpec } from './types';

/**
 * Tesseract languages the worker image installs (`./dev`: tesseract-ocr-eng, -deu, -fra). The
 * catalogue is static data; a worker that lacks one of them refuses it at run time.
 */
export const OCR_LANGUAGES = ['eng', 'deu', 'fra'] as const;

const OPTIONS: readonly OptionSpec[] = [
  {
    name: 'language',
    type: 'array',
    default: ['eng'],
    possible_values: OCR_LANGUAGES,
    description: 'Languages of the text, as Tesseract codes, e.g. ["eng","deu"].',
  },
  {
    name: 'auto_orient',
    type: 'boolean',
    default: false,
    description: 'Turn pages upright when their text runs sideways or upside down.',
  },
];

const PDF: CatalogueEntry = {
  operation: 'pdf/ocr',
  inputs: ['pdf'],
  outputs: 'same',
  options: OPTIONS,
  group: 'pdf',
};

const IMAGES: CatalogueEntry = {
  operation: 'pdf/ocr',
  inputs: ['png', 'jpg', 'jpeg', 'tif', 'tiff'],
  outputs: ['pdf'],
  options: [
    ...OPTIONS,
    {
      name: 'image_dpi',
      type: 'integer',
      min: 10,
      max: 2400,
      description:
        'Resolution the image was scanned at; sets the page size. Unset: the one the file ' +
        'records when it is above 96, else 300.',
    },
  ],
  group: 'image',
};

export const OCRMYPDF: EngineSpec = { name: 'ocrmypdf', entries: [PDF, IMAGES] };
