// The files inside an archive: their bytes, and names that are the users' file names, flat and
// unique.
import type { Readable } from 'node:stream';

import { cleanFilename, splitExtension } from '@convertd/api';

/** One file to put into an archive. */
export interface ArchiveEntry {
  /** Its name inside the archive, from `archiveEntryNames`. */
  name: string;
  /** Opens its bytes; called when its turn comes, so one file is open at a time. */
  open: () => Promise<Readable>;
  /** Its size in bytes: tar headers need it, and zip checks it when given. */
  size?: number;
  mtime?: Date;
}

/** Longest name most file systems take, in UTF-8 bytes. */
const MAX_NAME_BYTES = 255;
/** Past this, what follows the last dot is not an extension worth keeping whole. */
const MAX_EXT_BYTES = 32;

/**
 * One entry name per file name, in order. Never a path: separators become `_`, and leading
 * dots, control characters and drive letters go, so nothing extracts outside its folder. At most
 * 255 bytes. Unique even where extraction folds case or Unicode forms (Windows, macOS): the
 * second `a.pdf` becomes `a (2).pdf`.
 */
export function archiveEntryNames(filenames: readonly string[]): string[] {
  const taken = new Set<string>();

  return filenames.map((filename) => {
    const base = flatName(filename);
    let name = base;
    for (let n = 2; taken.has(fold(name)); n++) {
      name = withSuffix(base, ` (${n})`);
    }
    taken.add(fold(name));

    return name;
  });
}

function flatName(filename: string): string {
  // Separators are replaced rather than cut at (cleanFilename keeps the last segment), so that
  // `q1/report.pdf` keeps what it said; a name never holds one when it comes from our imports.
  const name = cleanFilename(filename.replace(/[\\/]/g, '_'));

  // `C:report.pdf` is a drive-relative path to Windows tools (and yazl refuses it).
  return name.replace(/^([A-Za-z]):/, '$1_');
}

function fold(name: string): string {
  return name.normalize('NFC').toLowerCase();
}

/** `a.tar.gz` + ` (2)` -> `a (2).tar.gz`, shortening the stem to stay within 255 bytes. */
function withSuffix(name: string, suffix: string): string {
  let [stem, ext] = splitExtension(name);
  if (Buffer.byteLength(ext) > MAX_EXT_BYTES) {
    [stem, ext] = [name, ''];
  }
  const room = MAX_NAME_BYTES - Buffer.byteLength(suffix + ext);
  const points = [...stem];
  while (Buffer.byteLength(stem) > room) {
    points.pop();
    stem = points.join('');
  }

  return `${stem}${suffix}${ext}`;
}
