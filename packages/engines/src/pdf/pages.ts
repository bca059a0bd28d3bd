// Page selections of the PDF tools ("1,2,5-7", "3-" for page 3 to the end), shared by every engine
// that splits, extracts, rotates or stamps pages, so that one string means the same everywhere.
// The grammar is the catalogue's (the gateway checks it at creation); this file adds the pages.
import { parsePageSpec, type PageRange } from '@convertd/api';
import { AppError } from '@convertd/errors';

export { parsePageSpec };
export type { PageRange };

/**
 * The pages selected from a document of `pageCount` pages, 1-based, in the order the ranges give
 * them, each once. A page past the end is reported rather than dropped: the user meant a page
 * that is not there.
 */
export function selectPageNumbers(
  ranges: readonly PageRange[] | undefined,
  pageCount: number,
  field = 'pages',
): number[] {
  if (ranges === undefined) {
    return Array.from({ length: pageCount }, (_, i) => i + 1);
  }

  const seen = new Set<number>();
  for (const { from, to } of ranges) {
    const last = to ?? pageCount;
    if (from > pageCount || last > pageCount) {
      throw invalid(
        field,
        `The document has ${pageCount} page${pageCount === 1 ? '' : 's'}; page ${Math.max(from, last)} is past its end.`,
      );
    }

    for (let page = from; page <= last; page += 1) {
      seen.add(page);
    }
  }

  return [...seen];
}

/** `parsePageSpec` then `selectPageNumbers`. */
export function pagesOf(raw: unknown, pageCount: number, field = 'pages'): number[] {
  return selectPageNumbers(parsePageSpec(raw, field), pageCount, field);
}

function invalid(field: string, message: string): AppError {
  return new AppError('INVALID_DATA', { errors: { [field]: [message] } });
}
