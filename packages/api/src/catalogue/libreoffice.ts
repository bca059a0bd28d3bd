// LibreOffice: office documents, spreadsheets, presentations and drawings.
import { THUMBNAIL_OPTIONS } from './mupdf';
import { RASTER_OPTIONS } from './paged';
import { checkPageSpec } from './pages';
import type { CatalogueEntry, EngineSpec, OptionSpec } from './types';

/** LibreOffice modules; a document opens in one of them and exports only to its formats. */
export const OFFICE_FAMILIES = {
  writer: {
    inputs: 'doc docx docm dot dotx dotm odt ott fodt rtf txt html htm xml wpd wps sxw'.split(' '),
    outputs: ['pdf', 'docx', 'doc', 'odt', 'rtf', 'txt', 'html'],
    group: 'document',
  },
  calc: {
    inputs: 'xls xlsx xlsm xlt xltx ods ots fods csv tsv sxc'.split(' '),
    outputs: ['pdf', 'xlsx', 'xls', 'ods', 'csv', 'html'],
    group: 'spreadsheet',
  },
  impress: {
    inputs: 'ppt pptx pptm pps ppsx pot potx odp otp fodp sxi'.split(' '),
    outputs: ['pdf', 'pptx', 'ppt', 'odp'],
    group: 'presentation',
  },
  draw: {
    inputs: 'odg otg fodg vsd vsdx pub'.split(' '),
    outputs: ['pdf', 'odg'],
    group: 'vector',
  },
} as const;

const PAGES: OptionSpec = {
  name: 'pages',
  type: 'string',
  check: checkPageSpec,
  description: 'Pages to export to PDF, e.g. "1-3" or "1,4,6-8".',
};

/** What LibreOffice's PDF export can honour of CloudConvert's office → pdf options. */
const PDF_OPTIONS: readonly OptionSpec[] = [
  PAGES,
  { ...PAGES, name: 'page_range' },
  { name: 'pdf_a', type: 'boolean', default: false, description: 'Write PDF/A.' },
  { name: 'pdf_a_level', type: 'enum', default: '2b', possible_values: ['1b', '2b', '3b'] },
  { name: 'bookmarks', type: 'boolean', default: true, description: 'Headings as bookmarks.' },
  {
    name: 'include_markup',
    type: 'boolean',
    default: false,
    description:
      'Comments as PDF annotations and tracked changes as revision marks; when false, changes are accepted.',
  },
];

const SLIDE_OPTIONS: readonly OptionSpec[] = [
  { name: 'hidden_slides', type: 'boolean', default: false },
  { name: 'notes_pages', type: 'boolean', default: false, description: 'Add the notes pages.' },
];

export const LIBREOFFICE: EngineSpec = {
  name: 'libreoffice',
  entries: Object.values(OFFICE_FAMILIES).flatMap((family): CatalogueEntry[] => [
    {
      operation: 'convert',
      inputs: family.inputs,
      outputs: ['pdf'],
      options: family.group === 'presentation' ? [...PDF_OPTIONS, ...SLIDE_OPTIONS] : PDF_OPTIONS,
      group: family.group,
    },
    {
      operation: 'convert',
      inputs: family.inputs,
      outputs: family.outputs.filter((o) => o !== 'pdf'),
      options: [],
      group: family.group,
    },
    {
      // Each page as an image: the PDF drawn by the worker's PDF renderer.
      operation: 'convert',
      inputs: family.inputs.filter((i) => i !== 'txt' && i !== 'html' && i !== 'htm'),
      outputs: ['png', 'jpg'],
      options: RASTER_OPTIONS,
      group: family.group,
      priority: 150,
    },
    {
      // The first pages as PDF, drawn by the worker's PDF renderer (mupdf).
      operation: 'thumbnail',
      inputs: family.inputs.filter((i) => i !== 'txt' && i !== 'html' && i !== 'htm'),
      outputs: ['png', 'jpg', 'webp'],
      options: THUMBNAIL_OPTIONS,
      group: family.group,
    },
  ]),
};
