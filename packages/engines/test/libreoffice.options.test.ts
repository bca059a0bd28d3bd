// LibreOffice's office → pdf options and password-protected documents, with real soffice.
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';

import { isAppError } from '@convertd/errors';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { LibreOfficeEngine } from '../src/libreoffice/libreoffice.engine';
import { CORPUS, OFFICE, pdfPages, pdfText } from './office';

let root: string;
let sut: LibreOfficeEngine;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'engines-lo-options-'));
  sut = new LibreOfficeEngine({
    profileRoot: join(root, 'profiles'),
    workRoot: join(root, 'work'),
  });
});

afterAll(async () => {
  await sut.close();
  await rm(root, { recursive: true, force: true });
});

async function toPdf(file: string, options: Record<string, unknown>): Promise<string> {
  const outputDir = await mkdtemp(join(root, 'out-'));
  const { files } = await sut.convert({
    inputPath: file.startsWith('/') ? file : join(OFFICE, file),
    inputFormat: extname(file).slice(1),
    outputFormat: 'pdf',
    outputDir,
    options,
    deadlineMs: 60_000,
  });
  return files[0]!;
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    return isAppError(err) ? err.code : String(err);
  }
  return 'no error';
}

describe('password-protected documents', () => {
  // Passwords from the corpus MANIFEST.tsv.
  it.each([
    ['protected_page_1.docx', 'foo'],
    ['encryptAES.xlsx', 'password'],
    ['password_password_cryptoapi.doc', 'password'],
  ])('opens %s with its password', async (file, password) => {
    const pdf = await toPdf(file, { password });
    expect(await pdfPages(pdf)).toBeGreaterThanOrEqual(1);
    expect((await pdfText(pdf)).trim().length).toBeGreaterThan(0);
  });

  it('ends PASSWORD_INVALID with a wrong password, and PASSWORD_REQUIRED without one', async () => {
    expect(await codeOf(toPdf('encryptAES.xlsx', { password: 'wrong' }))).toBe('PASSWORD_INVALID');
    expect(await codeOf(toPdf('protected_page_1.docx', { password: 'bar' }))).toBe(
      'PASSWORD_INVALID',
    );
    expect(await codeOf(toPdf('encryptAES.xlsx', {}))).toBe('PASSWORD_REQUIRED');
  });
});

describe('pdf export options', () => {
  function xmp(pdf: string): string {
    return execFileSync('pdfinfo', ['-meta', pdf], { encoding: 'utf8' });
  }

  it('writes PDF/A of the asked level', async () => {
    const a1 = xmp(await toPdf('notes.docx', { pdf_a: true, pdf_a_level: '1b' }));
    expect(a1).toMatch(/pdfaid:part(>|=")1/);
    const a2 = xmp(await toPdf('notes.docx', { pdf_a: true }));
    expect(a2).toMatch(/pdfaid:part(>|=")2/);
    expect(xmp(await toPdf('notes.docx', {}))).not.toContain('pdfaid');
  });

  it('keeps headings as bookmarks unless told not to', async () => {
    const outline = (pdf: string) =>
      execFileSync('mutool', ['show', pdf, 'outline'], { encoding: 'utf8' }).trim();
    // An HTML page with headings, opened by Writer.
    const page = join(CORPUS, 'web', 'pandoc-writer.html');
    expect(outline(await toPdf(page, { bookmarks: true }))).toMatch(/\S/);
    expect(outline(await toPdf(page, { bookmarks: false }))).toBe('');
  });
});

describe('tracked changes', () => {
  // delins.docx deletes a paragraph about a pendant and inserts one about Apache Tika's releases.
  it('are accepted in the PDF unless include_markup asks for the revision marks', async () => {
    const clean = await pdfText(await toPdf('delins.docx', {}));
    const marked = await pdfText(await toPdf('delins.docx', { include_markup: true }));

    expect(clean).not.toContain('pendant');
    expect(clean).toContain('Apache Tika 0.3 has been released');
    expect(marked).toContain('pendant');
    expect(marked).toContain('Apache Tika 0.3 has been released');
  });
});
