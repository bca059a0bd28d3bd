// Conversion options understood by the LibreOffice engine.
import { AppError } from '@convertd/errors';

/** "1-3", "2", "1,3,5-7": digits only, so the value can go into the filter's JSON as is. */
const PAGE_RANGE = /^\d+(-\d+)?(,\d+(-\d+)?)*$/;

/** The PDF page range from `pages` or `page_range`, or undefined when neither is set. */
export function readPageRange(options: Record<string, unknown>): string | undefined {
  const field = pageRangeField(options);
  const raw = options[field];
  if (raw === undefined || raw === null || raw === '') {
    return undefined;
  }

  const value =
    typeof raw === 'number' || typeof raw === 'string' ? String(raw).replace(/\s+/g, '') : '';
  if (!PAGE_RANGE.test(value) || !value.split(',').every(isAscendingRange)) {
    throw new AppError('INVALID_DATA', {
      errors: { [field]: ['Use page numbers from 1 and ranges like "1-3" or "1,4,6-8".'] },
    });
  }

  return value;
}

function isAscendingRange(part: string): boolean {
  const [from = 0, to = from] = part.split('-').map(Number);

  return from >= 1 && to >= from;
}

/** The option name the caller used for the page range, for error messages. */
export function pageRangeField(options: Record<string, unknown>): 'pages' | 'page_range' {
  return options['pages'] === undefined ? 'page_range' : 'pages';
}
