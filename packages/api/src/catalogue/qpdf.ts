// qpdf: PDF encryption and decryption, and fast page operations (split, extract, rotate).
import { checkPageSpec } from './pages';
import type { EngineSpec, OptionSpec } from './types';

/** qpdf's modification levels, from most to least allowed. */
export const PDF_MODIFY_LEVELS = ['all', 'annotate', 'form', 'assembly', 'none'] as const;
export const PDF_PRINT_LEVELS = ['full', 'low', 'none'] as const;
/** Relative turns; 90 and 270 mean +90 and -90. */
export const PDF_ROTATIONS = ['+90', '-90', '180', '90', '270'] as const;

const ENCRYPT_OPTIONS: readonly OptionSpec[] = [
  {
    name: 'set_password',
    type: 'string',
    description: 'Password needed to open the PDF. Empty: it opens without one.',
  },
  {
    name: 'set_owner_password',
    type: 'string',
    description:
      'Password that lifts the restrictions below. When unset, a random one is used, so the ' +
      'restrictions hold for everyone.',
  },
  {
    name: 'allow_extract',
    type: 'boolean',
    default: true,
    description: 'Allow copying text and images.',
  },
  {
    name: 'allow_accessibility',
    type: 'boolean',
    default: true,
    description:
      'Allow screen readers to extract text. AES-256 (PDF 2.0) always allows it, so false is ' +
      'refused.',
  },
  {
    name: 'allow_modify',
    type: 'enum',
    default: 'all',
    possible_values: PDF_MODIFY_LEVELS,
    description:
      'all; annotate (comments, forms and assembly); form (filling forms, signing and ' +
      'assembly); assembly (inserting, rotating, deleting pages); none.',
  },
  {
    name: 'allow_print',
    type: 'enum',
    default: 'full',
    possible_values: PDF_PRINT_LEVELS,
    description: 'full; low (low resolution only); none.',
  },
];

const PAGES: OptionSpec = {
  name: 'pages',
  type: 'string',
  check: checkPageSpec,
  description: 'Page numbers and ranges, e.g. "1,2,5-7" or "3-" (3 to the end).',
};

export const QPDF: EngineSpec = {
  name: 'qpdf',
  entries: [
    {
      operation: 'pdf/encrypt',
      inputs: ['pdf'],
      outputs: 'same',
      options: ENCRYPT_OPTIONS,
      group: 'pdf',
    },
    // The password that opens the input is the task's common `password` field.
    { operation: 'pdf/decrypt', inputs: ['pdf'], outputs: 'same', options: [], group: 'pdf' },
    {
      operation: 'pdf/split-pages',
      inputs: ['pdf'],
      outputs: 'same',
      options: [],
      group: 'pdf',
      priority: 50,
    },
    {
      operation: 'pdf/extract-pages',
      inputs: ['pdf'],
      outputs: 'same',
      options: [{ ...PAGES, required: true }],
      group: 'pdf',
      priority: 50,
    },
    {
      operation: 'pdf/rotate-pages',
      inputs: ['pdf'],
      outputs: 'same',
      options: [
        { ...PAGES, description: 'Pages to turn, e.g. "1,2,5-7"; all pages when unset.' },
        {
          name: 'rotation',
          type: 'enum',
          required: true,
          possible_values: PDF_ROTATIONS,
          description: 'Clockwise turn added to each page: +90, -90 or 180 (90 = +90, 270 = -90).',
        },
      ],
      group: 'pdf',
      priority: 50,
    },
  ],
};
