// Conversion options understood by the LibreOffice engine.
import { parsePageSpec } from '@convertd/api';

import type { FilterValue } from './formats';

/**
 * The PDF page range from `pages` or `page_range` ("1-3", "2", "1,3,5-7", "3-" for 3 to the end),
 * or undefined when neither is set. Checked by the grammar every `pages` option shares (the
 * gateway checks it at creation); LibreOffice's PageRange takes each form as is, and the value is
 * digits, dashes and commas only, so it can go into the filter's JSON.
 */
export function readPageRange(options: Record<string, unknown>): string | undefined {
  const field = pageRangeField(options);
  const ranges = parsePageSpec(options[field], field);

  return ranges
    ?.map(({ from, to }) => (to === from ? String(from) : `${from}-${to ?? ''}`))
    .join(',');
}

/** The option name the caller used for the page range, for error messages. */
export function pageRangeField(options: Record<string, unknown>): 'pages' | 'page_range' {
  return options['pages'] === undefined ? 'page_range' : 'pages';
}

/** PDF/A part number for LibreOffice's SelectPdfVersion, by the `pdf_a_level` option. */
const PDFA_VERSION: Readonly<Record<string, number>> = { '1b': 1, '2b': 2, '3b': 3 };

/**
 * The PDF export settings the options ask for: `pages`, `pdf_a` (+ `pdf_a_level`), `bookmarks`,
 * `include_markup` (comments and tracked changes), `hidden_slides`, `notes_pages`.
 */
export function pdfSettings(
  options: Record<string, unknown>,
  pageRange: string | undefined,
): Record<string, FilterValue> {
  const settings: Record<string, FilterValue> = {};
  if (pageRange !== undefined) {
    settings.PageRange = { type: 'string', value: pageRange };
  }
  if (options.pdf_a === true) {
    const level = typeof options.pdf_a_level === 'string' ? options.pdf_a_level : '2b';
    settings.SelectPdfVersion = { type: 'long', value: PDFA_VERSION[level] ?? 2 };
  }
  if (typeof options.bookmarks === 'boolean') {
    settings.ExportBookmarks = { type: 'boolean', value: options.bookmarks };
  }
  if (typeof options.include_markup === 'boolean') {
    settings.ExportNotes = { type: 'boolean', value: options.include_markup };
  }
  if (typeof options.hidden_slides === 'boolean') {
    settings.ExportHiddenSlides = { type: 'boolean', value: options.hidden_slides };
  }
  if (typeof options.notes_pages === 'boolean') {
    settings.ExportNotesPages = { type: 'boolean', value: options.notes_pages };
  }

  return settings;
}
