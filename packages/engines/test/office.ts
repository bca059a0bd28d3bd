// Helpers of the LibreOffice tests: corpus paths and PDF inspection with poppler.
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';

import { CORPUS } from './support';

export { CORPUS, pdfPages } from './support';

const run = promisify(execFile);

export const OFFICE = resolve(CORPUS, 'office');
export const FIXTURES = resolve(import.meta.dirname, 'fixtures/office');

/** The text of the first `pages` pages, whitespace collapsed. */
export async function pdfText(file: string, pages = 1): Promise<string> {
  const { stdout } = await run('pdftotext', ['-l', String(pages), file, '-']);

  return stdout.replace(/\s+/g, ' ');
}
