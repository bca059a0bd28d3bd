// The one grammar of `pages` options ("1,2,5-7", "3-" for page 3 to the end), checked by the
// gateway at creation and read by every engine that selects pages, so that one string means the
// same everywhere and a typo is refused before anything runs.
import { AppError } from '@convertd/errors';

/** 1-based and inclusive; `to: null` runs to the last page. */
export interface PageRange {
  from: number;
  to: number | null;
}

const PART = /^(\d+)(?:(-)(\d*))?$/;

/** What the message suggests, by whether "N-" (to the end) is taken. */
const USAGE = {
  open: 'Use page numbers and ranges like "1,2,5-7" or "3-" (3 to the end).',
  closed: 'Use page numbers from 1 and ranges like "1-3" or "2,4".',
} as const;

/**
 * The ranges of a `pages` option, or undefined when it is unset (all pages). Spaces are ignored;
 * anything but page numbers, "N-M" and (unless `openEnded` is false) "N-" is the user's mistake,
 * reported under `field` as INVALID_DATA.
 */
export function parsePageSpec(
  raw: unknown,
  field = 'pages',
  openEnded = true,
): PageRange[] | undefined {
  if (raw === undefined || raw === null || raw === '') {
    return undefined;
  }

  const usage = openEnded ? USAGE.open : USAGE.closed;
  const text = typeof raw === 'string' || typeof raw === 'number' ? String(raw) : '';
  const parts = text.replace(/\s+/g, '').split(',');
  const ranges: PageRange[] = [];
  for (const part of parts) {
    const match = PART.exec(part);
    if (!match || (!openEnded && match[2] !== undefined && match[3] === '')) {
      throw invalidPages(field, usage);
    }

    const from = Number(match[1]);
    const to = match[2] === undefined ? from : match[3] === '' ? null : Number(match[3]);
    if (from < 1 || (to !== null && to < from)) {
      throw invalidPages(
        field,
        `"${part}" is not a range of pages: pages count from 1, low to high.`,
      );
    }

    ranges.push({ from, to });
  }

  return ranges;
}

/** The option check of a `pages` option (see OptionSpec.check). */
export function checkPageSpec(value: unknown, field: string): string[] | null {
  return syntaxErrors(() => parsePageSpec(value, field), field);
}

/** The same for engines that take page numbers and "N-M" only. */
export function checkClosedPageSpec(value: unknown, field: string): string[] | null {
  return syntaxErrors(() => parsePageSpec(value, field, false), field);
}

function syntaxErrors(parse: () => unknown, field: string): string[] | null {
  try {
    parse();
    return null;
  } catch (err) {
    if (err instanceof AppError && err.errors?.[field]) {
      return err.errors[field];
    }
    throw err;
  }
}

/** The message repeats the reason: a task that fails in the worker keeps only its message. */
function invalidPages(field: string, message: string): AppError {
  return new AppError('INVALID_DATA', {
    message: `Invalid ${field.replace(/_/g, ' ')}: ${message}`,
    errors: { [field]: [message] },
  });
}
