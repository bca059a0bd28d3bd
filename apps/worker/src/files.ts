import path from 'node:path';

/**
 * A user's file name kept as the user wrote it, minus what could make it a path or break a
 * header: separators, control characters, and leading dots. Never used on disk.
 */
export function cleanFilename(name: string, fallback = 'file'): string {
  const base = name.split(/[\\/]/).pop() ?? '';
  const cleaned = base
    // eslint-disable-next-line no-control-regex -- control characters are exactly what goes
    .replace(/[\u0000-\u001f\u007f]/g, '')
    .replace(/^\.+/, '')
    .trim()
    .slice(0, 255);

  return cleaned === '' ? fallback : cleaned;
}

/** The lower-case extension of a user's file name, or '' (only [a-z0-9], so safe on disk). */
export function extensionOf(filename: string): string {
  const ext = path.extname(filename).slice(1).toLowerCase();
  return /^[a-z0-9]{1,10}$/.test(ext) ? ext : '';
}

/** `report.docx` + `pdf` -> `report.pdf`. */
export function replaceExtension(filename: string, format: string): string {
  const ext = path.extname(filename);
  const stem = ext ? filename.slice(0, -ext.length) : filename;

  return `${stem || 'file'}.${format}`;
}
