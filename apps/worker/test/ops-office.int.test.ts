// Office documents through the official node SDK: pages as images and thumbnails (LibreOffice's
// PDF drawn by the PDF renderer), PDF/A, and documents that need their password.
import { execFileSync } from 'node:child_process';
import path from 'node:path';

import sharp from 'sharp';
import { describe, expect, it } from 'vitest';

import { CORPUS } from '../../../test/harness';
import { sdkStack, type SdkJob } from './support';

const sdk = sdkStack('office');

/** Uploads `file` into a job of `task` → export, waits, and returns the job. */
function run(file: string, task: Record<string, unknown>): Promise<SdkJob> {
  return sdk.runFile(path.join(CORPUS, file), path.basename(file), task);
}

function pdfInfo(file: string, ...args: string[]): string {
  return execFileSync('pdfinfo', [...args, file], { encoding: 'utf8' });
}

describe('office documents', () => {
  it('has its warm LibreOffice processes running before the first task', () => {
    const worker = sdk.stack.worker!;
    const office = worker.context.engines.get('libreoffice')!.engine;

    expect(office.state?.()).toMatchObject({
      size: worker.context.config.workerConcurrency,
      live: worker.context.config.workerConcurrency,
      busy: 0,
    });
  });

  it('converts each page of a presentation to PNG', async () => {
    const job = await run('office/SampleShow.ppt', {
      operation: 'convert',
      output_format: 'png',
      pages: '1-2',
      width: 320,
    });
    expect(job.status).toBe('finished');
    const work = job.tasks.find((t) => t.name === 'work')!;
    expect(work.engine).toBe('libreoffice');
    const out = await sdk.exports(job);
    expect(out.map((f) => f.filename)).toEqual(['SampleShow-1.png', 'SampleShow-2.png']);
    for (const f of out) {
      const meta = await sharp(f.bytes).metadata();
      expect(meta.format).toBe('png');
      expect(meta.width).toBe(320);
    }
  });

  it('makes a cropped thumbnail of a document', async () => {
    const job = await run('office/having-images.docx', {
      operation: 'thumbnail',
      output_format: 'jpg',
      width: 120,
      height: 120,
      fit: 'crop',
    });
    expect(job.status).toBe('finished');
    const [thumb] = await sdk.exports(job);
    expect(thumb!.filename).toBe('having-images.jpg');
    const meta = await sharp(thumb!.bytes).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 120, 120]);
  });

  it('opens an encrypted spreadsheet with its password and writes PDF/A-2b', async () => {
    const job = await run('office/encryptAES.xlsx', {
      operation: 'convert',
      output_format: 'pdf',
      password: 'password',
      pdf_a: true,
    });
    expect(job.status).toBe('finished');
    const [pdf] = await sdk.exports(job);
    expect(pdfInfo(pdf!.file, '-meta')).toMatch(/pdfaid:part(>|=")2/);

    const wrong = await run('office/encryptAES.xlsx', {
      operation: 'convert',
      output_format: 'pdf',
      password: 'not it',
    });
    expect(wrong.tasks.find((t) => t.name === 'work')).toMatchObject({
      status: 'error',
      code: 'PASSWORD_INVALID',
    });
  });
});
