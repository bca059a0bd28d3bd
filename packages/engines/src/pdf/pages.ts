// Page selections of the PDF tools ("1,2,5-7", "3-" for page 3 to the end), shared by every engine
// that splits, extracts, rotates or stamps pages, so that one string means the same everywhere.
import { AppError } from '@convertd/errors';

/** 1-based and inclusive; `to: null` runs to the last page. */
export interface PageRange {
  from: number;
  to: number | null;
}

const PART = /^(\d+)(?:(-)(\d*))?$/;

/**
 * The ranges of a `pages` option, or undefined when it is unset (all pages). Spaces are ignored;
 * anything but page numbers, "N-M" and "N-" is the user's mistake, reported under `field`.
 */
export function parsePageSpec(raw: unknown, field = 'pages'): PageRange[] | undefined {
  if (raw === undefined || raw === null || raw === '') {
    return undefined;
  }

  const text = typeof raw === 'string' || typeof raw === 'number' ? String(raw) : '';
  const parts = text.replace(/\s+/g, '').split(',');
  const ranges: PageRange[] = [];
  for (const part of parts) {
    const match = PART.exec(part);
    if (!match) {
      throw invalid(field, 'Use page numbers and ranges like "1,2,5-7" or "3-" (3 to the end).');
    }

    const from = Number(match[1]);
    const to = match[2] === undefined ? from : match[3] === '' ? null : Number(match[3]);
    if (from < 1 || (to !== null && to < from)) {
      throw invalid(field, `"${part}" is not a range of pages: pages count from 1, low to high.`);
    }

    ranges.push({ from, to });
  }

  return ranges;
}

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
