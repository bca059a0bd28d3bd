// Helpers of the PDF engine tests: corpus files, engine jobs in fresh dirs, and PDF inspection
// with poppler and qpdf (programs other than the engine under test where possible).
import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';

import type { EngineInput, EngineJob } from '../src/engine';
import { CORPUS, engineJob, inputOf as sharedInputOf } from './support';

const run = promisify(execFile);

export const PDF_CORPUS = join(CORPUS, 'pdf');
export const IMAGE_CORPUS = join(CORPUS, 'image');

export function corpusPdf(name: string): string {
  return join(PDF_CORPUS, name);
}

export function inputOf(path: string): EngineInput {
  return sharedInputOf(path, basename(path), 'test');
}

/** A job over `path` with fresh work and output dirs under `root`. */
export async function jobFor(
  root: string,
  operation: string,
  path: string,
  options: Record<string, unknown> = {},
  outputFormat: string | null = null,
): Promise<EngineJob> {
  return engineJob(root, {
    operation,
    inputs: [inputOf(path)],
    outputFormat,
    options,
    deadlineMs: 120_000,
  });
}

/** pdfinfo's fields, e.g. `Pages`, `Encrypted`, `PDF version`. */
export async function pdfInfo(file: string, password?: string): Promise<Record<string, string>> {
  const args = password === undefined ? [file] : ['-upw', password, file];
  const { stdout } = await run('pdfinfo', args);
  const fields: Record<string, string> = {};
  for (const line of stdout.split('\n')) {
    const at = line.indexOf(':');
    if (at > 0) {
      fields[line.slice(0, at).trim()] = line.slice(at + 1).trim();
    }
  }

  return fields;
}

export async function pdfPageCount(file: string, password?: string): Promise<number> {
  return Number((await pdfInfo(file, password))['Pages']);
}

/** The text of every page, whitespace collapsed. */
export async function pdfText(file: string, password?: string): Promise<string> {
  const args = password === undefined ? [file, '-'] : ['-upw', password, file, '-'];
  const { stdout } = await run('pdftotext', args, { maxBuffer: 32 * 1024 * 1024 });

  return stdout.replace(/\s+/g, ' ');
}

/** The XMP metadata packet (pdfinfo -meta). */
export async function pdfXmp(file: string): Promise<string> {
  const { stdout } = await run('pdfinfo', ['-meta', file]);

  return stdout;
}

/** `qpdf --requires-password`'s exit code: 0 needs one, 2 not encrypted, 3 opens. */
export async function qpdfPasswordStatus(file: string, password?: string): Promise<number> {
  const args = [
    '--requires-password',
    ...(password === undefined ? [] : [`--password=${password}`]),
    file,
  ];
  try {
    await run('qpdf', args);

    return 0;
  } catch (err) {
    return (err as { code: number }).code;
  }
}

/** Page `page` of a corpus PDF with all text removed: a scan without its OCR layer. */
export async function scanWithoutText(root: string, name: string, page = 1): Promise<string> {
  const dir = await mkdtemp(join(root, 'scan-'));
  const stripped = join(dir, 'stripped.pdf');
  const single = join(dir, 'scan.pdf');
  await run('gs', [
    '-dSAFER',
    '-dNOPAUSE',
    '-dBATCH',
    '-q',
    '-sDEVICE=pdfwrite',
    '-dFILTERTEXT',
    `-sOutputFile=${stripped}`,
    corpusPdf(name),
  ]);
  await run('qpdf', ['--empty', '--pages', stripped, String(page), '--', single]);

  return single;
}
