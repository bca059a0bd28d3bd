import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { QpdfEngine } from '../src/qpdf/qpdf.engine';
import { qpdfRange } from '../src/qpdf/ranges';
import {
  corpusPdf,
  jobFor,
  pdfInfo,
  pdfPageCount,
  pdfText,
  qpdfPasswordStatus,
} from './pdf-inspect';
import { failure } from './support';

const run = promisify(execFile);
const FORM_PDF = corpusPdf('libreoffice-form.pdf');
const SCANNED_PDF = corpusPdf('Seige_of_Vicksburg_Sample_OCR.pdf');
const USER_PASSWORD_PDF = corpusPdf('libreoffice-writer-password.pdf');
const OWNER_ONLY_PDF = corpusPdf('secHandler.pdf');

let root: string;
const sut = new QpdfEngine();

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'engines-qpdf-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** The rotation of each page, as pdfinfo reports it. */
async function rotations(file: string): Promise<number[]> {
  const pages = await pdfPageCount(file);
  const { stdout } = await run('pdfinfo', ['-f', '1', '-l', String(pages), file]);

  return [...stdout.matchAll(/^Page\s+\d+ rot:\s+(\d+)$/gm)].map((m) => Number(m[1]));
}

/** The text of each page, whitespace collapsed. */
async function pageTexts(file: string): Promise<string[]> {
  const pages = await pdfPageCount(file);
  const texts: string[] = [];
  for (let page = 1; page <= pages; page += 1) {
    const { stdout } = await run('pdftotext', ['-f', String(page), '-l', String(page), file, '-']);
    texts.push(stdout.replace(/\s+/g, ' ').trim());
  }

  return texts;
}

describe(QpdfEngine.name, () => {
  it('reports the qpdf version', async () => {
    expect(await sut.detect()).toEqual({
      version: expect.stringMatching(/^\d+\.\d+\.\d+$/) as string,
    });
  });

  it('encrypts with AES-256, a user password and restrictions', async () => {
    const job = await jobFor(root, 'pdf/encrypt', FORM_PDF, {
      set_password: 'ouvre-toi sésame',
      set_owner_password: 'owner secret',
      allow_extract: false,
      allow_modify: 'none',
      allow_print: 'low',
    });

    const { files } = await sut.run(job);

    const [output] = files;
    expect(files).toHaveLength(1);
    expect(await qpdfPasswordStatus(output!)).toBe(0);
    expect(await qpdfPasswordStatus(output!, 'wrong')).toBe(0);
    expect(await qpdfPasswordStatus(output!, 'ouvre-toi sésame')).toBe(3);
    const info = await pdfInfo(output!, 'ouvre-toi sésame');
    expect(info['Encrypted']).toBe(
      'yes (print:yes copy:no change:no addNotes:no algorithm:AES-256)',
    );
    expect(info['Pages']).toBe('1');
    const { stdout } = await run('qpdf', [
      '--show-encryption',
      '--password=ouvre-toi sésame',
      output!,
    ]);
    expect(stdout).toContain('print low resolution: allowed');
    expect(stdout).toContain('print high resolution: not allowed');
    expect(stdout).toContain('modify forms: not allowed');
    // The owner password lifts the restrictions.
    const owner = await run('qpdf', ['--show-encryption', '--password=owner secret', output!]);
    expect(owner.stdout).toContain('Supplied password is owner password');
    expect(await pdfText(output!, 'ouvre-toi sésame')).toContain('Example for a Form');
  });

  it('encrypts with an owner password only: it opens, restricted, without a password', async () => {
    const job = await jobFor(root, 'pdf/encrypt', FORM_PDF, {
      set_owner_password: 'owner secret',
      allow_print: 'none',
      allow_modify: 'form',
    });

    const [output] = (await sut.run(job)).files;

    expect(await qpdfPasswordStatus(output!)).toBe(3);
    expect((await pdfInfo(output!))['Encrypted']).toBe(
      'yes (print:no copy:yes change:no addNotes:no algorithm:AES-256)',
    );
  });

  it('gives a user-password-only file a random owner password that keeps the restrictions', async () => {
    const job = await jobFor(root, 'pdf/encrypt', FORM_PDF, {
      set_password: 'user',
      allow_print: 'none',
    });

    const [output] = (await sut.run(job)).files;

    const { stdout } = await run('qpdf', ['--show-encryption', '--password=user', output!]);
    expect(stdout).toContain('Supplied password is user password');
    expect(stdout).toContain('print high resolution: not allowed');
  });

  it('refuses pdf/encrypt without any password, and a restriction AES-256 cannot express', async () => {
    const none = await failure(sut.run(await jobFor(root, 'pdf/encrypt', FORM_PDF, {})));
    expect(none.err.code).toBe('INVALID_DATA');
    expect(Object.keys(none.err.errors ?? {})).toEqual(['set_password']);

    const accessibility = await failure(
      sut.run(
        await jobFor(root, 'pdf/encrypt', FORM_PDF, {
          set_password: 'x',
          allow_accessibility: false,
        }),
      ),
    );
    expect(accessibility.err.code).toBe('INVALID_DATA');
    expect(Object.keys(accessibility.err.errors ?? {})).toEqual(['allow_accessibility']);
  });

  it('decrypts with the password; without it or with a wrong one it fails precisely', async () => {
    const [output] = (
      await sut.run(
        await jobFor(root, 'pdf/decrypt', USER_PASSWORD_PDF, { password: 'openpassword' }),
      )
    ).files;
    expect(await pdfInfo(output!)).toMatchObject({ Encrypted: 'no', Pages: '1' });
    expect(await pdfText(output!)).toContain('Lorem ipsum');

    const missing = await failure(sut.run(await jobFor(root, 'pdf/decrypt', USER_PASSWORD_PDF)));
    expect(missing.err.code).toBe('PASSWORD_REQUIRED');
    const wrong = await failure(
      sut.run(await jobFor(root, 'pdf/decrypt', USER_PASSWORD_PDF, { password: 'nope' })),
    );
    expect(wrong.err.code).toBe('PASSWORD_INVALID');
  });

  it('decrypts an owner-password-only file without a password', async () => {
    const [output] = (await sut.run(await jobFor(root, 'pdf/decrypt', OWNER_ONLY_PDF))).files;

    expect(await pdfInfo(output!)).toMatchObject({ Encrypted: 'no' });
    expect(await pdfText(output!)).toContain('Security Handler');
  });

  it('splits a PDF into one file per page, in page order', async () => {
    const { files } = await sut.run(await jobFor(root, 'pdf/split-pages', SCANNED_PDF));

    expect(files.map((f) => basename(f))).toEqual([1, 2, 3, 4, 5, 6].map((n) => `page-${n}.pdf`));
    const originals = await pageTexts(SCANNED_PDF);
    expect(new Set(originals).size).toBe(6);
    for (const [index, file] of files.entries()) {
      expect(await pdfPageCount(file)).toBe(1);
      expect((await pageTexts(file))[0]).toBe(originals[index]);
    }
  });

  it('extracts pages "1,3,5-" in that order', async () => {
    const job = await jobFor(root, 'pdf/extract-pages', SCANNED_PDF, { pages: '1, 3,5-' });

    const { files } = await sut.run(job);

    expect(files).toHaveLength(1);
    const originals = await pageTexts(SCANNED_PDF);
    expect(await pageTexts(files[0]!)).toEqual([0, 2, 4, 5].map((i) => originals[i]));
    expect(await readdir(job.outputDir)).toEqual(['output.pdf']);
  });

  it.each([
    ['7', 'The document has 6 pages; page 7 is past its end.'],
    ['7-', 'The document has 6 pages; page 7 is past its end.'],
    ['2-9', 'The document has 6 pages; page 9 is past its end.'],
    ['0', '"0" is not a range of pages: pages count from 1, low to high.'],
    ['5-3', '"5-3" is not a range of pages: pages count from 1, low to high.'],
    ['1;2', 'Use page numbers and ranges like "1,2,5-7" or "3-" (3 to the end).'],
    ['z', 'Use page numbers and ranges like "1,2,5-7" or "3-" (3 to the end).'],
  ])('refuses pages "%s" with INVALID_DATA naming pages', async (pages, message) => {
    const { err } = await failure(
      sut.run(await jobFor(root, 'pdf/extract-pages', SCANNED_PDF, { pages })),
    );

    expect(err.code).toBe('INVALID_DATA');
    expect(err.errors).toEqual({ pages: [message] });
  });

  it('rotates the pages asked for, relative to their rotation', async () => {
    const job = await jobFor(root, 'pdf/rotate-pages', SCANNED_PDF, {
      pages: '2,4,5',
      rotation: '+90',
    });

    const [output] = (await sut.run(job)).files;

    expect(await rotations(output!)).toEqual([0, 90, 0, 90, 90, 0]);
    const again = await jobFor(root, 'pdf/rotate-pages', output!, { pages: '2', rotation: '270' });
    const [twice] = (await sut.run(again)).files;
    expect(await rotations(twice!)).toEqual([0, 0, 0, 90, 90, 0]);
    expect(await pdfText(twice!)).toContain('VICKSBURG');
  });

  it('rotates every page when no pages are given', async () => {
    const job = await jobFor(root, 'pdf/rotate-pages', SCANNED_PDF, { rotation: '180' });

    const [output] = (await sut.run(job)).files;

    expect(await rotations(output!)).toEqual([180, 180, 180, 180, 180, 180]);
  });

  it('refuses rotate-pages beyond the last page', async () => {
    const { err } = await failure(
      sut.run(await jobFor(root, 'pdf/rotate-pages', FORM_PDF, { pages: '2', rotation: '-90' })),
    );

    expect(err.errors).toEqual({ pages: ['The document has 1 page; page 2 is past its end.'] });
  });

  it('works on an encrypted input given its password', async () => {
    const job = await jobFor(root, 'pdf/rotate-pages', USER_PASSWORD_PDF, {
      rotation: '-90',
      password: 'openpassword',
    });

    const [output] = (await sut.run(job)).files;

    expect(await rotations(output!)).toEqual([270]);
    expect(await pdfInfo(output!)).toMatchObject({ Encrypted: 'no' });
  });
});

describe(qpdfRange.name, () => {
  it('collapses runs of pages and keeps their order', () => {
    expect(qpdfRange([1, 2, 3, 5, 9, 10])).toBe('1-3,5,9-10');
    expect(qpdfRange([4, 1, 2, 7])).toBe('4,1-2,7');
    expect(qpdfRange([6])).toBe('6');
  });
});
