import path from 'node:path';

/** File systems and archive formats take names of at most 255 bytes. */
const MAX_NAME_BYTES = 255;

/**
 * A user's file name kept as the user wrote it, minus what could make it a path or break a
 * header: separators, control characters, and leading dots. At most 255 UTF-8 bytes, shortened
 * in the stem so that the extension survives. Never used on disk.
 */
export function cleanFilename(name: string, fallback = 'file'): string {
  const base = name.split(/[\\/]/).pop() ?? '';
  const cleaned = base
    // eslint-disable-next-line no-control-regex -- control characters are exactly what goes
    .replace(/[\u0000-\u001f\u007f]/g, '')
    .replace(/^\.+/, '')
    .trim();

  return cleaned === '' ? fallback : shorten(cleaned);
}

function shorten(name: string): string {
  if (Buffer.byteLength(name) <= MAX_NAME_BYTES) {
    return name;
  }

  const [, ext] = splitExtension(name);
  const keep = ext.length > 1 && Buffer.byteLength(ext) <= 32 ? ext : '';
  let stem = keep ? name.slice(0, -keep.length) : name;
  // Whole code points only: never cut a character (or a surrogate pair) in half.
  const points = [...stem];
  while (Buffer.byteLength(stem) + Buffer.byteLength(keep) > MAX_NAME_BYTES) {
    points.pop();
    stem = points.join('');
  }

  return `${stem.trimEnd() || 'file'}${keep}`;
}

/** The lower-case extension of a user's file name, or '' (only [a-z0-9], so safe on disk). */
export function extensionOf(filename: string): string {
  const ext = path.extname(filename).slice(1).toLowerCase();
  return /^[a-z0-9]{1,10}$/.test(ext) ? ext : '';
}

/** `report.docx` + `pdf` -> `report.pdf`; `logs.tar.gz` + `zip` -> `logs.zip`. */
export function replaceExtension(filename: string, format: string): string {
  const [stem] = splitExtension(filename);

  return `${stem || 'file'}.${format}`;
}

/** Compressed tarballs, whose extension is two: `logs.tar.gz` is `logs` + `.tar.gz`. */
const TARBALL = /\.tar\.(?:gz|bz2|xz|zst)$/i;

/** A file name as stem and extension (with its dot, '' when none). */
export function splitExtension(filename: string): [stem: string, ext: string] {
  const ext = TARBALL.exec(filename)?.[0] ?? path.extname(filename);
  // `.tar.gz` alone is a hidden name, not an extension (as path.extname treats `.bashrc`).
  if (ext === '' || ext.length === filename.length) {
    return [filename, ''];
  }

  return [filename.slice(0, -ext.length), ext];
}
