// Names that page renderers give their outputs. The worker renames outputs after the user's file;
// a stem here only shows inside a file (pdftohtml's title) and must never read as an option.
import { basename, extname } from 'node:path';

/** Letters, digits and a few quiet marks; no '&', '<', '%' or quotes, which HTML or printf read. */
const QUIET = /^[\p{L}\p{N}_][\p{L}\p{N}_ .,()[\]+-]*$/u;
const MAX_BYTES = 200;

/** The stem of the user's file name when it is quiet and short, else "document". */
export function outputStem(filename: string): string {
  const stem = basename(filename, extname(filename)).trim();

  return QUIET.test(stem) && Buffer.byteLength(stem) <= MAX_BYTES ? stem : 'document';
}
