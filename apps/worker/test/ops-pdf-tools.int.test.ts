// optimize, pdf/a, pdf/ocr, pdf/encrypt and pdf/decrypt through the official node SDK, served
// by ghostscript, ocrmypdf and qpdf: uploads go in, exports come out and are read with poppler
// and qpdf.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import { beforeAll, describe, expect, it } from 'vitest';

import { scanWithoutText } from '../../../packages/engines/test/pdf-inspect';
import { api, CORPUS } from '../../../test/harness';
import { expectFinished, sdkStack, taskOf as task, type SdkJob } from './support';

const FORM = path.join(CORPUS, 'pdf/libreoffice-form.pdf');
const VICKSBURG = path.join(CORPUS, 'pdf/Seige_of_Vicksburg_Sample_OCR.pdf');
const LOCKED = path.join(CORPUS, 'pdf/libreoffice-writer-password.pdf');
const OWNER_ONLY = path.join(CORPUS, 'pdf/secHandler.pdf');

const sdk = sdkStack('pdf-tools');
/** Page 1 of the Vicksburg scan without its OCR layer. */
let bareScan: string;
/** The scan with its objects packed by qpdf: nothing makes it smaller. */
let packedScan: string;

beforeAll(async () => {
  bareScan = await scanWithoutText(sdk.tmp, path.basename(VICKSBURG));
  packedScan = path.join(sdk.tmp, 'packed.pdf');
  execFileSync('qpdf', ['--object-streams=generate', VICKSBURG, packedScan]);
});

/** upload -> `operation` (with `options`) -> export/url; waits for the job to end. */
function runJob(
  file: string,
  filename: string,
  operation: string,
  options: Record<string, unknown> = {},
): Promise<SdkJob> {
  return sdk.runFile(file, filename, { operation, ...options });
}

/** The one exported file, which must be called `filename`, downloaded. */
async function exported(job: SdkJob, filename: string): Promise<string> {
  const files = await sdk.exports(job);
  expect(files.map((f) => f.filename)).toEqual([filename]);

  return files[0]!.file;
}

function pdfInfo(file: string, password?: string): string {
  const args = password === undefined ? [file] : ['-upw', password, file];

  return execFileSync('pdfinfo', args, { encoding: 'utf8' });
}

function pdfText(file: string, password?: string): string {
  const args = password === undefined ? [file, '-'] : ['-upw', password, file, '-'];

  return execFileSync('pdftotext', args, { encoding: 'utf8' }).replace(/\s+/g, ' ');
}

/** `qpdf --requires-password`: 0 needs a password, 2 not encrypted, 3 opens. */
function passwordStatus(file: string, password?: string): number {
  const args = ['--requires-password', ...(password ? [`--password=${password}`] : []), file];
  try {
    execFileSync('qpdf', args);

    return 0;
  } catch (err) {
    return (err as { status: number }).status;
  }
}

describe('PDF tools through the official node SDK', () => {
  it('optimize makes a PDF smaller, keeps its text and says how much it saved', async () => {
    const job = await runJob(FORM, 'Formular – Anmeldung.pdf', 'optimize', { profile: 'web' });

    expectFinished(job);
    const work = task(job, 'work');
    expect(work.engine).toBe('ghostscript');
    expect(work.message).toMatch(/^Reduced the file size by \d+% /);
    const file = await exported(job, 'Formular – Anmeldung.pdf');
    expect(fs.statSync(file).size).toBeLessThan(fs.statSync(FORM).size);
    expect(pdfInfo(file)).toMatch(/^Pages:\s+1$/m);
    expect(pdfText(file)).toContain('Example for a Form');
  });

  it('optimize returns the original bytes when it cannot make them smaller', async () => {
    const job = await runJob(packedScan, 'vicksburg.pdf', 'optimize', {
      profile: 'print',
      quality: 85,
    });

    expectFinished(job);
    expect(task(job, 'work').message).toBe(
      'The PDF could not be made smaller; it is returned unchanged.',
    );
    const file = await exported(job, 'vicksburg.pdf');
    expect(fs.readFileSync(file).equals(fs.readFileSync(packedScan))).toBe(true);
  });

  it('pdf/a writes a PDF/A-1b file', async () => {
    const job = await runJob(FORM, 'form.pdf', 'pdf/a', { conformance_level: '1b' });

    expectFinished(job);
    expect(task(job, 'work').engine).toBe('ghostscript');
    const file = await exported(job, 'form.pdf');
    const xmp = execFileSync('pdfinfo', ['-meta', file], { encoding: 'utf8' });
    expect(xmp).toMatch(/pdfaid:part=['"]1['"]/);
    expect(xmp).toMatch(/pdfaid:conformance=['"]B['"]/);
    expect(pdfInfo(file)).toMatch(/^PDF version:\s+1\.4$/m);
    expect(pdfText(file)).toContain('Example for a Form');
  });

  it('pdf/ocr makes a scanned page searchable', async () => {
    expect(pdfText(bareScan).trim()).toBe('');

    const job = await runJob(bareScan, 'scan.pdf', 'pdf/ocr', { language: ['eng'] });

    expectFinished(job);
    expect(task(job, 'work').engine).toBe('ocrmypdf');
    const text = pdfText(await exported(job, 'scan.pdf'));
    for (const word of ['SIEGE', 'VICKSBURG', 'Johnston', 'Potomac']) {
      expect(text).toContain(word);
    }
  }, 120_000);

  it('pdf/encrypt locks a PDF that qpdf then opens with the password', async () => {
    const job = await runJob(FORM, 'form.pdf', 'pdf/encrypt', {
      set_password: 'Geheim 123',
      allow_print: 'low',
      allow_extract: false,
    });

    expectFinished(job);
    expect(task(job, 'work').engine).toBe('qpdf');
    const file = await exported(job, 'form.pdf');
    expect(passwordStatus(file)).toBe(0);
    expect(passwordStatus(file, 'Geheim 123')).toBe(3);
    expect(pdfInfo(file, 'Geheim 123')).toMatch(
      /^Encrypted:\s+yes \(print:yes copy:no change:yes addNotes:yes algorithm:AES-256\)$/m,
    );
    expect(pdfText(file, 'Geheim 123')).toContain('Example for a Form');
  });

  it('pdf/decrypt removes the password given in the task', async () => {
    const job = await runJob(LOCKED, 'locked.pdf', 'pdf/decrypt', { password: 'openpassword' });

    expectFinished(job);
    const file = await exported(job, 'locked.pdf');
    expect(pdfInfo(file)).toMatch(/^Encrypted:\s+no$/m);
    expect(pdfText(file)).toContain('Lorem ipsum dolor sit amet');
  });

  it('pdf/decrypt lifts an owner password without being given one', async () => {
    const job = await runJob(OWNER_ONLY, 'restricted.pdf', 'pdf/decrypt');

    expectFinished(job);
    const file = await exported(job, 'restricted.pdf');
    expect(pdfInfo(file)).toMatch(/^Encrypted:\s+no$/m);
    expect(pdfText(file)).toContain('Security Handler');
  });

  it.each([
    ['a wrong password', 'PASSWORD_INVALID', { password: 'not it' }],
    ['no password', 'PASSWORD_REQUIRED', {}],
  ])('pdf/decrypt with %s ends in %s', async (_label, code, options) => {
    const job = await runJob(LOCKED, 'locked.pdf', 'pdf/decrypt', options);

    expect(job.status).toBe('error');
    const work = task(job, 'work');
    expect(work.status).toBe('error');
    expect(work.code).toBe(code);
    expect(work.result).toBeFalsy();
    expect(task(job, 'out')).toMatchObject({ status: 'error', code: 'INPUT_TASK_FAILED' });
  });

  it.each([
    ['pdf/encrypt', { set_password: 'x', allow_modify: 'everything' }, 'allow_modify'],
    ['pdf/a', { conformance_level: '4u' }, 'conformance_level'],
    ['optimize', { profile: 'web', quality: 101 }, 'quality'],
    ['pdf/ocr', { language: ['eng', 'klingon'] }, 'language'],
  ])('refuses %s with a bad option at creation, naming it', async (operation, options, field) => {
    const res = await api(sdk.stack, sdk.key, 'POST', '/v2/jobs', {
      tasks: {
        up: { operation: 'import/url', url: 'https://example.com/file.pdf' },
        work: { operation, input: 'up', input_format: 'pdf', ...options },
      },
    });

    expect(res.status).toBe(422);
    expect(res.json.code).toBe('INVALID_DATA');
    expect(Object.keys(res.json.errors as object)).toEqual([`tasks.work.${field}`]);
  });
});
