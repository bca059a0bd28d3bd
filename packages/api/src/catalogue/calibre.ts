// calibre (`ebook-convert`): e-books to each other, to PDF and office formats, and documents to
// e-books. For documents to PDF or office formats LibreOffice and Chromium serve first.
import type { CatalogueEntry, EngineSpec, OptionSpec } from './types';

/** E-book formats calibre reads (pdb is left out: its reader follows links to local files). */
const EBOOKS = ['epub', 'mobi', 'azw3', 'azw', 'fb2', 'lit'];
/** Documents that other engines also convert to PDF and office formats. */
const DOCUMENTS = ['docx', 'odt', 'rtf', 'html', 'htm', 'txt'];
/** Comic archives: pages of pictures, so only outputs that keep pictures. */
const COMICS = ['cbz'];

const BOOK_OUTPUTS = ['epub', 'mobi', 'azw3', 'fb2', 'htmlz'];
/** Outputs that hold the title and authors; plain text has nowhere to put them. */
const OFFICE_OUTPUTS = ['docx', 'rtf'];

/** calibre's paper sizes for PDF output. */
export const CALIBRE_PAPER_SIZES = [
  'a0',
  'a1',
  'a2',
  'a3',
  'a4',
  'a5',
  'a6',
  'b0',
  'b1',
  'b2',
  'b3',
  'b4',
  'b5',
  'b6',
  'legal',
  'letter',
] as const;

const METADATA_OPTIONS: readonly OptionSpec[] = [
  {
    name: 'title',
    type: 'string',
    max: 1000,
    description: "The book's title, instead of the one in the input.",
  },
  {
    name: 'author',
    type: 'string',
    max: 1000,
    description: 'The authors, instead of the ones in the input; separate several with "&".',
  },
];

const margin = (side: string): OptionSpec => ({
  name: `margin_${side}`,
  type: 'float',
  default: 72,
  min: 0,
  max: 720,
  description: `The ${side} page margin in points.`,
});

const PDF_OPTIONS: readonly OptionSpec[] = [
  ...METADATA_OPTIONS,
  {
    name: 'page_size',
    type: 'enum',
    default: 'letter',
    possible_values: CALIBRE_PAPER_SIZES,
    description: 'The paper size of the PDF.',
  },
  margin('top'),
  margin('right'),
  margin('bottom'),
  margin('left'),
];

/** Serving a pair that LibreOffice or Chromium also serve, calibre comes after them. */
const FALLBACK_PRIORITY = 200;

function entry(
  inputs: readonly string[],
  outputs: readonly string[],
  options: readonly OptionSpec[],
  priority?: number,
): CatalogueEntry {
  return {
    operation: 'convert',
    inputs,
    outputs,
    options,
    group: 'ebook',
    ...(priority === undefined ? {} : { priority }),
  };
}

export const CALIBRE: EngineSpec = {
  name: 'calibre',
  entries: [
    entry(EBOOKS, [...BOOK_OUTPUTS, ...OFFICE_OUTPUTS], METADATA_OPTIONS),
    entry(EBOOKS, ['txt'], []),
    entry(EBOOKS, ['pdf'], PDF_OPTIONS),
    entry(DOCUMENTS, BOOK_OUTPUTS, METADATA_OPTIONS),
    entry(DOCUMENTS, OFFICE_OUTPUTS, METADATA_OPTIONS, FALLBACK_PRIORITY),
    entry(DOCUMENTS, ['txt'], [], FALLBACK_PRIORITY),
    entry(DOCUMENTS, ['pdf'], PDF_OPTIONS, FALLBACK_PRIORITY),
    entry(COMICS, ['epub', 'mobi', 'azw3'], METADATA_OPTIONS),
    entry(COMICS, ['pdf'], PDF_OPTIONS),
  ],
};
