// HTTP details of serving a stored file: type, disposition and byte ranges.
// The media types by extension live in @convertd/api (export/s3 uses them too).
export { contentTypeOf } from '@convertd/api';

/** RFC 6266: an ASCII fallback plus the exact name in `filename*`, so any name survives. */
export function contentDisposition(kind: 'inline' | 'attachment', filename: string): string {
  const fallback = filename.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  const exact = encodeURIComponent(filename).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );

  return `${kind}; filename="${fallback}"; filename*=UTF-8''${exact}`;
}

/** One `bytes=` range (the only kind clients send for downloads); null means the whole file. */
export function parseRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | null | 'unsatisfiable' {
  const match = header ? /^bytes=(\d*)-(\d*)$/.exec(header.trim()) : null;
  if (!match) {
    return null;
  }

  const [, from = '', to = ''] = match;
  let start: number;
  let end: number;
  if (from === '') {
    if (to === '') {
      return null;
    }
    start = Math.max(0, size - Number(to));
    end = size - 1;
  } else {
    start = Number(from);
    end = to === '' ? size - 1 : Math.min(Number(to), size - 1);
  }
  if (start >= size || start > end) {
    return 'unsatisfiable';
  }

  return { start, end };
}
