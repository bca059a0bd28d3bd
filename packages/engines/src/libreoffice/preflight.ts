// Cheap checks on an office input before soffice starts: empty, truncated, garbage or encrypted.
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';

import { CFB_MAGIC, CfbFile, CfbFormatError } from '../sniff/cfb';
import { ZIP_MAGIC, ZipFormatError, ZipIndex } from '../sniff/zip';

/** Formats stored as ZIP packages (OOXML, ODF, OpenOffice.org 1). */
const ZIP_FORMATS = new Set([
  ...words('docx docm dotx dotm xlsx xlsm xltx pptx pptm ppsx potx vsdx'),
  ...words('odt ott ods ots odp otp odg otg sxw sxc sxi'),
]);
/** ZIP formats that mark password encryption in their manifest. */
const ODF_FORMATS = words('odt ott ods ots odp otp odg otg sxw sxc sxi');
/**
 * Excel encrypts with the built-in password "VelvetSweatshop" when a workbook is only
 * structure-protected; LibreOffice tries that password itself, so these files must reach soffice.
 * PowerPoint has a similar default, so presentations are treated alike.
 */
const DEFAULT_PASSWORD_FORMATS = words('xls xlt xlsx xlsm xltx ppt pps pot pptx pptm ppsx potx');
/** Binary formats stored in a compound file. */
const CFB_FORMATS = words('doc dot xls xlt ppt pps pot vsd pub');
/** Word for DOS/Windows 1-2 and Excel 2-4 predate compound files; LibreOffice still reads them. */
const LEGACY_MAGICS = [
  [0x31, 0xbe, 0x00, 0x00],
  [0xdb, 0xa5, 0x2d, 0x00],
  [0x09, 0x00],
  [0x09, 0x02],
  [0x09, 0x04],
];

const SNIFF_BYTES = 4096;
const WORD_IDENTS = new Set([0xa5ec, 0xa5dc]);
const WORD_FLAG_ENCRYPTED = 0x0100;
const BIFF_FILEPASS = 0x002f;
const BIFF_EOF = 0x000a;
const PPT_ENCRYPTED_TOKEN = 0xf3d1c4df;

export type Inspection =
  | { kind: 'ok' }
  | { kind: 'reject'; code: 'INPUT_CORRUPT' | 'PASSWORD_REQUIRED'; reason: string }
  /** Encrypted, but maybe with a default password: only a failed load means PASSWORD_REQUIRED. */
  | { kind: 'encrypted'; reason: string };

const OK: Inspection = { kind: 'ok' };

/**
 * Looks at the container of `path` as declared by `format`. Only definite findings reject: when
 * the structure cannot be parsed, soffice gets the final word.
 */
export async function inspectOfficeInput(path: string, format: string): Promise<Inspection> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    if (size === 0) {
      return corrupt('empty file');
    }

    const head = Buffer.alloc(Math.min(size, SNIFF_BYTES));
    await handle.read(head, 0, head.length, 0);
    if (startsWith(head, CFB_MAGIC)) {
      return await inspectCompoundFile(handle, size, format);
    }

    if (ZIP_FORMATS.has(format)) {
      return startsWith(head, ZIP_MAGIC)
        ? await inspectZip(handle, size, format)
        : corrupt('not a ZIP package');
    }

    // An OOXML package saved under its binary format's extension (a .docx named .doc) is
    // common; LibreOffice detects it by content.
    if (
      CFB_FORMATS.has(format) &&
      !startsWith(head, ZIP_MAGIC) &&
      !looksLikeText(head) &&
      !LEGACY_MAGICS.some((m) => startsWith(head, m))
    ) {
      return corrupt('not a compound file');
    }

    return OK;
  } finally {
    await handle.close();
  }
}

async function inspectCompoundFile(
  handle: FileHandle,
  size: number,
  format: string,
): Promise<Inspection> {
  let cfb: CfbFile;
  let names: string[];
  try {
    cfb = await CfbFile.open(handle, size);
    names = cfb.rootNames();
  } catch (err) {
    // LibreOffice would fall back to importing the bytes as plain text: pages of garbage.
    if (err instanceof CfbFormatError) {
      return corrupt(`broken compound file: ${err.message}`);
    }

    throw err;
  }

  if (names.includes('EncryptionInfo') && names.includes('EncryptedPackage')) {
    return encrypted(format, 'encrypted OOXML package');
  }

  try {
    // FIB base: wIdent at 0, flags at 0x0A whose bit 8 is fEncrypted (MS-DOC 2.5.2).
    const fib = await cfb.readRootStream('WordDocument', 12);
    if (fib !== undefined && fib.length >= 12 && WORD_IDENTS.has(fib.readUInt16LE(0))) {
      return (fib.readUInt16LE(0x0a) & WORD_FLAG_ENCRYPTED) === 0
        ? OK
        : encrypted(format, 'encrypted Word document');
    }

    const book =
      (await cfb.readRootStream('Workbook', SNIFF_BYTES)) ??
      (await cfb.readRootStream('Book', SNIFF_BYTES));
    if (book !== undefined && hasBiffRecord(book, BIFF_FILEPASS)) {
      return encrypted(format, 'encrypted Excel workbook');
    }

    // CurrentUserAtom: an 8-byte record header, then size, then headerToken (MS-PPT 2.3.2).
    const user = await cfb.readRootStream('Current User', 16);
    if (user !== undefined && user.length >= 16 && user.readUInt32LE(12) === PPT_ENCRYPTED_TOKEN) {
      return encrypted(format, 'encrypted PowerPoint presentation');
    }
  } catch {
    return OK;
  }

  return OK;
}

async function inspectZip(handle: FileHandle, size: number, format: string): Promise<Inspection> {
  let zip: ZipIndex;
  try {
    zip = await ZipIndex.open(handle, size);
  } catch (err) {
    if (err instanceof ZipFormatError) {
      return corrupt(`broken ZIP package: ${err.message}`);
    }

    throw err;
  }

  if (!ODF_FORMATS.has(format)) {
    return OK;
  }

  try {
    const manifest = await zip.read('META-INF/manifest.xml', 1024 * 1024);
    if (manifest?.includes('encryption-data') === true) {
      return { kind: 'reject', code: 'PASSWORD_REQUIRED', reason: 'encrypted ODF package' };
    }
  } catch {
    return OK;
  }

  return OK;
}

// Walks BIFF records (2-byte type, 2-byte length) from the start of the workbook stream.
function hasBiffRecord(stream: Buffer, type: number): boolean {
  for (let off = 0; off + 4 <= stream.length;) {
    const recordType = stream.readUInt16LE(off);
    if (recordType === type) {
      return true;
    }

    if (recordType === BIFF_EOF) {
      return false;
    }

    off += 4 + stream.readUInt16LE(off + 2);
  }

  return false;
}

// An RTF or HTML file saved as .doc/.xls is common and LibreOffice opens it; random bytes are not.
function looksLikeText(head: Buffer): boolean {
  let control = 0;
  for (const byte of head) {
    if (byte === 0) {
      return false;
    }

    if (
      byte < 0x20 &&
      byte !== 0x09 &&
      byte !== 0x0a &&
      byte !== 0x0d &&
      byte !== 0x0c &&
      byte !== 0x1b
    ) {
      control += 1;
    }
  }

  return control <= head.length / 50;
}

function startsWith(buf: Buffer, magic: ArrayLike<number>): boolean {
  return buf.length >= magic.length && Array.from(magic).every((b, i) => buf[i] === b);
}

function encrypted(format: string, reason: string): Inspection {
  return DEFAULT_PASSWORD_FORMATS.has(format)
    ? { kind: 'encrypted', reason }
    : { kind: 'reject', code: 'PASSWORD_REQUIRED', reason };
}

function corrupt(reason: string): Inspection {
  return { kind: 'reject', code: 'INPUT_CORRUPT', reason };
}

function words(list: string): Set<string> {
  return new Set(list.split(' '));
}
