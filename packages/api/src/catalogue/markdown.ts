// markdown-it, in process: Markdown rendered to a standalone HTML page, and through that page to
// PDF (Chrome) and to Word and OpenDocument text (LibreOffice).
import type { EngineSpec, OptionSpec } from './types';

const OPTIONS: readonly OptionSpec[] = [
  {
    name: 'breaks',
    type: 'boolean',
    default: false,
    description: 'Keep single line breaks inside paragraphs as line breaks.',
  },
  {
    name: 'typographer',
    type: 'boolean',
    default: false,
    description: 'Typographic quotes, dashes and ellipses in place of their ASCII spellings.',
  },
];

export const MARKDOWN: EngineSpec = {
  name: 'markdown',
  entries: [
    {
      operation: 'convert',
      inputs: ['md', 'markdown'],
      outputs: ['html', 'pdf', 'docx', 'odt'],
      options: OPTIONS,
      group: 'document',
    },
  ],
};
