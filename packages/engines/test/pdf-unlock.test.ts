import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { inspectPdf, openPdf, unlockPdf } from '../src/pdf/unlock';
import { corpusPdf, inputOf, pdfInfo, pdfText } from './pdf-inspect';
import { failure } from './support';

const USER_PASSWORD_PDF = corpusPdf('libreoffice-writer-password.pdf');
const OWNER_ONLY_PDF = corpusPdf('secHandler.pdf');
const UNICODE_PASSWORD_PDF = corpusPdf('issue6010_2.pdf');
const SCANNED_PDF = corpusPdf('Seige_of_Vicksburg_Sample_OCR.pdf');
const DAMAGED_XREF_PDF = corpusPdf('issue17147.pdf');

let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'engines-pdf-unlock-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function workDir(): Promise<string> {
  return mkdtemp(join(root, 'work-'));
}

describe(inspectPdf.name, () => {
  it('tells a plain PDF, a user-password PDF and an owner-password-only PDF apart', async () => {
    const dir = await workDir();
    const options = { workDir: dir, deadlineMs: 30_000 };

    expect(await inspectPdf(SCANNED_PDF, options)).toEqual({
      encrypted: false,
      needsPassword: false,
      opens: true,
      pages: 6,
    });
    expect(await inspectPdf(USER_PASSWORD_PDF, options)).toEqual({
      encrypted: true,
      needsPassword: true,
      opens: false,
      pages: undefined,
    });
    expect(await inspectPdf(USER_PASSWORD_PDF, { ...options, password: 'openpassword' })).toEqual({
      encrypted: true,
      needsPassword: true,
      opens: true,
      pages: 1,
    });
    expect(await inspectPdf(OWNER_ONLY_PDF, options)).toEqual({
      encrypted: true,
      needsPassword: false,
      opens: true,
      pages: 1,
    });
  });

  it('opens a PDF whose cross-reference table qpdf has to rebuild', async () => {
    const facts = await inspectPdf(DAMAGED_XREF_PDF, {
      workDir: await workDir(),
      deadlineMs: 30_000,
    });

    expect(facts).toMatchObject({ encrypted: false, opens: true, pages: 1 });
  });

  it.each([
    ['text that is no PDF', Buffer.from('this is not a PDF at all\n'.repeat(20))],
    ['a PNG named .pdf', join(import.meta.dirname, '../../../../shared/corpus/image/toucan.png')],
    ['the first 3000 bytes of a PDF', SCANNED_PDF],
  ])('rejects %s with INPUT_CORRUPT', async (label, source) => {
    const dir = await workDir();
    const file = join(dir, 'input.pdf');
    const bytes = Buffer.isBuffer(source) ? source : await readFile(source);
    await writeFile(file, label.startsWith('the first') ? bytes.subarray(0, 3000) : bytes);

    const { err } = await failure(inspectPdf(file, { workDir: dir, deadlineMs: 30_000 }));

    expect(err.code).toBe('INPUT_CORRUPT');
    expect(err.message).toBe('The file is not a PDF or is damaged beyond repair.');
  });

  it('gives up with ENGINE_TIMEOUT when its deadline passes', async () => {
    const { err } = await failure(
      inspectPdf(SCANNED_PDF, { workDir: await workDir(), deadlineMs: 1 }),
    );

    expect(err.code).toBe('ENGINE_TIMEOUT');
  });
});

describe(unlockPdf.name, () => {
  it('hands on a plain PDF as it is', async () => {
    const input = inputOf(SCANNED_PDF);

    expect(await unlockPdf(input, undefined, await workDir(), 30_000)).toBe(input);
    expect(await unlockPdf(input, 'ignored', await workDir(), 30_000)).toBe(input);
  });

  it('refuses a user-password PDF without a password (PASSWORD_REQUIRED)', async () => {
    for (const password of [undefined, '']) {
      const { err } = await failure(
        unlockPdf(inputOf(USER_PASSWORD_PDF), password, await workDir(), 30_000),
      );

      expect(err.code).toBe('PASSWORD_REQUIRED');
    }
  });

  it('refuses a wrong password (PASSWORD_INVALID)', async () => {
    const { err } = await failure(
      unlockPdf(inputOf(USER_PASSWORD_PDF), 'not-the-password', await workDir(), 30_000),
    );

    expect(err.code).toBe('PASSWORD_INVALID');
    expect(err.message).toBe('The password does not open the PDF.');
  });

  it('decrypts with the right password, which never shows on a command line', async () => {
    const dir = await workDir();
    const input = inputOf(USER_PASSWORD_PDF);
    const logged: object[] = [];
    const keep = (obj: object) => logged.push(obj);
    const logger = { debug: keep, info: keep, warn: keep, error: keep };

    const unlocked = await unlockPdf(input, 'openpassword', dir, 30_000, undefined, logger);

    expect(unlocked).toMatchObject({ format: 'pdf', filename: input.filename, source: 'test' });
    expect(unlocked.path.startsWith(dir)).toBe(true);
    expect(await pdfInfo(unlocked.path)).toMatchObject({ Encrypted: 'no', Pages: '1' });
    expect(await pdfText(unlocked.path)).toContain('Lorem ipsum dolor sit amet');
    // The runner logs every command line it starts; the password is in none of them, and the
    // job file that carried it is gone.
    const commands = logged.filter((entry) => 'args' in entry);
    expect(commands.length).toBeGreaterThanOrEqual(3);
    expect(JSON.stringify(logged)).not.toContain('openpassword');
    expect(await readdir(dir)).toEqual([unlocked.path.slice(dir.length + 1)]);
  });

  it('decrypts with a non-ASCII password', async () => {
    const unlocked = await unlockPdf(inputOf(UNICODE_PASSWORD_PDF), 'æøå', await workDir(), 30_000);

    expect(await pdfInfo(unlocked.path)).toMatchObject({ Encrypted: 'no' });
    expect(await pdfText(unlocked.path)).toContain('Issue 6010');
  });

  it('lifts the restrictions of an owner-password-only PDF without asking', async () => {
    expect((await pdfInfo(OWNER_ONLY_PDF))['Encrypted']).toMatch(/^yes/);

    const opened = await openPdf(inputOf(OWNER_ONLY_PDF), undefined, {
      workDir: await workDir(),
      deadlineMs: 30_000,
    });

    expect(opened).toMatchObject({ pages: 1, decrypted: true });
    expect(await pdfInfo(opened.input.path)).toMatchObject({ Encrypted: 'no' });
    expect(await pdfText(opened.input.path)).toContain('Security Handler');
  });

  it('rejects a file that is not a PDF with INPUT_CORRUPT, also when a password is given', async () => {
    const dir = await workDir();
    const file = join(dir, 'fake.pdf');
    await writeFile(file, '%PDF-1.7\nnothing else here\n');

    const { err } = await failure(unlockPdf(inputOf(file), 'secret', dir, 30_000));

    expect(err.code).toBe('INPUT_CORRUPT');
  });
});
