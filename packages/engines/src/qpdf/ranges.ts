// Page numbers as qpdf's page-range syntax.

/** "1,2,3,5,9,10" → "1-3,5,9-10": runs collapse so long selections stay short on the argv. */
export function qpdfRange(pages: readonly number[]): string {
  const parts: string[] = [];
  let start: number | undefined;
  let end = 0;
  for (const page of pages) {
    if (start !== undefined && page === end + 1) {
      end = page;
      continue;
    }

    if (start !== undefined) {
      parts.push(start === end ? String(start) : `${start}-${end}`);
    }

    start = page;
    end = page;
  }

  if (start !== undefined) {
    parts.push(start === end ? String(start) : `${start}-${end}`);
  }

  return parts.join(',');
}
