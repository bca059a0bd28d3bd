// pdfinfo: whether a PDF opens (and with which password), its page count and page sizes, and its
// document information as `result.metadata`.
import { AppError } from '@convertd/errors';

import type { Size } from '../paged/fit';
import type { PageRange } from '../paged/selection';
import { runTool } from '../paged/tools';
import type { ToolContext } from '../paged/tools';

/** Exit codes of poppler's tools: 1 the PDF did not open, 2 an output file, 3 permissions, 99 other. */
const OK_OR_OPEN_FAILED = [0, 1, 2, 3, 99];
const WRONG_PASSWORD = /Incorrect password/i;

export interface OpenedPdf {
  /** pdfinfo's fields, by its names ("Pages", "Page size", "PDF version"). */
  fields: Map<string, string>;
  pages: number;
  /** Arguments that open the document: none, or the password as user or owner password. */
  passwordArgs: string[];
}

/**
 * Opens the PDF with pdfinfo. Poppler refuses a wrong password even for a document that needs
 * none, so the document is opened without one first, then with `password` as the user password,
 * then as the owner password.
 */
export async function openPdf(
  pdfinfo: string,
  input: string,
  password: string | undefined,
  ctx: ToolContext,
): Promise<OpenedPdf> {
  const attempts = password === undefined ? [[]] : [[], ['-upw', password], ['-opw', password]];
  for (const passwordArgs of attempts) {
    const run = await runTool(
      pdfinfo,
      [...INFO_ARGS, ...passwordArgs, input],
      ctx,
      OK_OR_OPEN_FAILED,
    );
    if (run.exitCode === 0) {
      const fields = parseFields(run.stdout);
      const pages = Number(fields.get('Pages'));
      if (!Number.isInteger(pages) || pages < 1) {
        throw new AppError('INPUT_CORRUPT', {
          message: 'The PDF has no pages that can be read.',
          details: { engine: 'poppler', reason: 'no pages' },
        });
      }

      return { fields, pages, passwordArgs };
    }

    const details = {
      engine: 'poppler',
      exitCode: run.exitCode,
      stderrTail: run.stderr.slice(-2048),
    };
    if (!WRONG_PASSWORD.test(run.stderr)) {
      throw new AppError(run.exitCode === 1 ? 'INPUT_CORRUPT' : 'ENGINE_FAILED', { details });
    }

    if (password === undefined) {
      throw new AppError('PASSWORD_REQUIRED', { details });
    }
  }

  throw new AppError('PASSWORD_INVALID', { details: { engine: 'poppler' } });
}

const INFO_ARGS = ['-isodates', '-enc', 'UTF-8'];

/** The size in points of each page of `range`, as shown (the crop box, turned by /Rotate). */
export async function pageSizes(
  pdfinfo: string,
  input: string,
  doc: OpenedPdf,
  range: PageRange,
  ctx: ToolContext,
): Promise<Map<number, Size>> {
  const args = [...INFO_ARGS, '-f', String(range.from), '-l', String(range.to)];
  const run = await runTool(pdfinfo, [...args, ...doc.passwordArgs, input], ctx);
  const fields = parseFields(run.stdout);
  const sizes = new Map<number, Size>();
  for (let page = range.from; page <= range.to; page += 1) {
    const size = /^([\d.]+) x ([\d.]+)/.exec(fields.get(`Page ${page} size`) ?? '');
    if (size === null) {
      throw new AppError('ENGINE_FAILED', {
        details: { engine: 'poppler', reason: 'page size missing', page },
      });
    }

    const turned = Number(fields.get(`Page ${page} rot`) ?? 0) % 180 !== 0;
    const [width, height] = [Number(size[1]), Number(size[2])];
    if (!(width > 0 && height > 0)) {
      throw new AppError('INPUT_CORRUPT', {
        message: `Page ${page} of the PDF has no area.`,
        details: { engine: 'poppler', reason: 'empty page', width, height },
      });
    }

    sizes.set(page, turned ? { width: height, height: width } : { width, height });
  }

  return sizes;
}

/**
 * "Key: value" lines; keys lose their padding ("Page    1 size" is "Page 1 size"). A line
 * without a known key shape continues the value before it (a title with a line break).
 */
function parseFields(stdout: string): Map<string, string> {
  const fields = new Map<string, string>();
  let last: string | undefined;
  for (const line of stdout.split('\n')) {
    const match = /^([A-Z][A-Za-z]*(?: +[A-Za-z0-9]+)*): ?(.*)$/.exec(line);
    if (match?.[1] !== undefined && match[2] !== undefined) {
      last = match[1].replace(/ +/g, ' ');
      fields.set(last, match[2].trim());
    } else if (last !== undefined && line !== '') {
      fields.set(last, `${fields.get(last) ?? ''}\n${line}`);
    }
  }

  return fields;
}

const TEXT_FIELDS = [
  'Title',
  'Subject',
  'Keywords',
  'Author',
  'Creator',
  'Producer',
  'CreationDate',
  'ModDate',
  'Form',
];
const FLAG_FIELDS = [
  'Custom Metadata',
  'Metadata Stream',
  'Tagged',
  'UserProperties',
  'Suspects',
  'JavaScript',
  'Optimized',
];

/**
 * pdfinfo's document information with typed values: counts and sizes as numbers, yes/no as
 * booleans, keys without spaces (`PDFVersion`, `PageSize`). Empty fields are left out.
 */
export function toMetadata(fields: ReadonlyMap<string, string>): Record<string, unknown> {
  const metadata: Record<string, unknown> = {};
  for (const key of TEXT_FIELDS) {
    const value = fields.get(key);
    if (value !== undefined && value !== '') {
      metadata[key] = value;
    }
  }

  for (const key of FLAG_FIELDS) {
    const value = fields.get(key);
    if (value !== undefined) {
      metadata[key.replace(/ /g, '')] = value === 'yes';
    }
  }

  metadata['Pages'] = Number(fields.get('Pages'));
  const encrypted = fields.get('Encrypted') ?? 'no';
  metadata['Encrypted'] = encrypted.startsWith('yes');
  const permissions = /\((.*)\)/.exec(encrypted)?.[1];
  if (permissions !== undefined) {
    metadata['Encryption'] = permissions;
  }

  const pageSize = fields.get('Page size');
  const size = /^([\d.]+) x ([\d.]+)/.exec(pageSize ?? '');
  if (pageSize !== undefined && size !== null) {
    metadata['PageSize'] = pageSize;
    metadata['PageWidth'] = Number(size[1]);
    metadata['PageHeight'] = Number(size[2]);
  }

  const rotation = fields.get('Page rot');
  if (rotation !== undefined) {
    metadata['PageRotation'] = Number(rotation);
  }

  const fileSize = /^(\d+)/.exec(fields.get('File size') ?? '')?.[1];
  if (fileSize !== undefined) {
    metadata['FileSize'] = Number(fileSize);
  }

  const version = fields.get('PDF version');
  if (version !== undefined) {
    metadata['PDFVersion'] = version;
  }

  return metadata;
}
