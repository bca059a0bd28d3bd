// Helpers of the LibreOffice tests: corpus paths and PDF inspection with poppler.
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const CORPUS = path('../../../../shared/corpus');
export const OFFICE = resolve(CORPUS, 'office');
export const FIXTURES = path('fixtures/office');

function path(relative: string): string {
  return resolve(import.meta.dirname, relative);
}

export async function pdfPages(file: string): Promise<number> {
  const { stdout } = await run('pdfinfo', [file]);

  return Number(/^Pages:\s+(\d+)/m.exec(stdout)?.[1]);
}

/** The text of the first `pages` pages, whitespace collapsed. */
export async function pdfText(file: string, pages = 1): Promise<string> {
  const { stdout } = await run('pdftotext', ['-l', String(pages), file, '-']);

  return stdout.replace(/\s+/g, ' ');
}
