// Which pages of a document a task renders: the `pages` option checked against the document, and
// the limits that keep one task from rendering without bound.
import { PAGE_RENDER_LIMITS, parsePageSpec } from '@convertd/api';
import { AppError } from '@convertd/errors';

export interface PageRange {
  from: number;
  to: number;
}

/**
 * The ranges of `pages` ("3", "1-3", "2,4,6-8"), or undefined for all pages: the catalogue's
 * grammar without "N-", digits only, so a range can go into any program's argv as is.
 */
export function parsePages(raw: unknown, field = 'pages'): PageRange[] | undefined {
  return parsePageSpec(raw, field, false)?.map(({ from, to }) => ({ from, to: to ?? from }));
}

/** The ranges as mutool and our page measurer take them: "1-3,5". */
export function formatRanges(ranges: readonly PageRange[]): string {
  return ranges.map((r) => (r.from === r.to ? String(r.from) : `${r.from}-${r.to}`)).join(',');
}

/**
 * The selected pages in page order, each once. A page past the end of the document is the
 * user's mistake, named by `field`, rather than silently dropped.
 */
export function selectPages(
  ranges: readonly PageRange[] | undefined,
  pageCount: number,
  field = 'pages',
): number[] {
  if (ranges === undefined) {
    return Array.from({ length: pageCount }, (_, i) => i + 1);
  }

  const last = Math.max(...ranges.map((r) => r.to));
  if (last > pageCount) {
    throw invalid(
      field,
      `The document has ${plural(pageCount, 'page')}; page ${last} is past its end.`,
    );
  }

  const pages = new Set<number>();
  for (const { from, to } of ranges) {
    for (let page = from; page <= to; page += 1) {
      pages.add(page);
    }
  }

  return [...pages].sort((a, b) => a - b);
}

/** Refuses to render more pages to files than one task may. */
export function checkPageCount(pages: readonly number[], field = 'pages'): void {
  const max = PAGE_RENDER_LIMITS.maxPages;
  if (pages.length > max) {
    throw invalid(
      field,
      `At most ${max} pages are converted to images or SVG per task and this selects ` +
        `${pages.length}; choose fewer with ${field}, e.g. "1-${max}".`,
    );
  }
}

/** Refuses a page image too large to hold in memory; `field` names the option to lower. */
export function checkPixels(
  size: { width: number; height: number },
  page: number,
  field: string,
): void {
  const max = PAGE_RENDER_LIMITS.maxPixels;
  if (size.width * size.height > max) {
    throw invalid(
      field,
      `Page ${page} would be ${size.width} x ${size.height} pixels, over the limit of ` +
        `${max / 1_000_000} million pixels per page; lower the ${field.replace(/_/g, ' ')}.`,
    );
  }
}

/** Consecutive pages that share a key (one program run each), in page order. */
export function runsOf<K>(
  pages: readonly number[],
  keyOf: (page: number) => K,
): { from: number; to: number; key: K }[] {
  const runs: { from: number; to: number; key: K }[] = [];
  for (const page of pages) {
    const key = keyOf(page);
    const last = runs.at(-1);
    if (last !== undefined && last.to === page - 1 && last.key === key) {
      last.to = page;
    } else {
      runs.push({ from: page, to: page, key });
    }
  }

  return runs;
}

/** The sentence is also the message, which is all a failed task shows of the error. */
function invalid(field: string, message: string): AppError {
  return new AppError('INVALID_DATA', { message, errors: { [field]: [message] } });
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
