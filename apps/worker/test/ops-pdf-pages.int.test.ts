// merge, watermark, the page tools and metadata/write through the official node SDK, served by
// the pdf-lib engine: uploads go in, exports come out and are read with poppler.
import { execFileSync } from 'node:child_process';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { api, CORPUS } from '../../../test/harness';
import { expectFinished, sdkStack, taskOf as task, type SdkJob } from './support';

const WORD = path.join(CORPUS, 'pdf/bug2004951.pdf');
const VICKSBURG = path.join(CORPUS, 'pdf/Seige_of_Vicksburg_Sample_OCR.pdf');
const KIDS = path.join(CORPUS, "pdf/kids' stories & tales [v2] 100%.pdf");
const NOTES_DOCX = path.join(CORPUS, 'office/notes.docx');
const TOUCAN = path.join(CORPUS, 'image/toucan.png');

const sdk = sdkStack('pdf-pages');
const { runJob } = sdk;

/** Every exported file of the job, downloaded: name -> local path. */
async function exported(job: SdkJob): Promise<Map<string, string>> {
  return new Map((await sdk.exports(job)).map((f) => [f.filename, f.file]));
}

/** The one file of export task `name`, which must be called `filename`, downloaded. */
async function exportOf(job: SdkJob, name: string, filename: string): Promise<string> {
  const files = await sdk.exports(job, name);
  expect(files.map((f) => f.filename)).toEqual([filename]);

  return files[0]!.file;
}

function pages(file: string): number {
  return Number(
    /^Pages:\s+(\d+)/m.exec(execFileSync('pdfinfo', [file], { encoding: 'utf8' }))?.[1],
  );
}

function pageText(file: string, n: number): string {
  return execFileSync('pdftotext', ['-f', String(n), '-l', String(n), file, '-'], {
    encoding: 'utf8',
  })
    .replace(/\s+/g, ' ')
    .trim();
}

function infoOf(file: string, args: string[] = []): string {
  return execFileSync('pdfinfo', [...args, file], { encoding: 'utf8' });
}

/** pdfimages' rows of page 1: width, height and horizontal resolution of each image. */
function imagesOf(file: string): { type: string; width: number; height: number; ppi: number }[] {
  const listing = execFileSync('pdfimages', ['-list', '-f', '1', '-l', '1', file], {
    encoding: 'utf8',
  });

  return listing
    .split('\n')
    .slice(2)
    .map((line) => line.trim().split(/\s+/))
    .filter((cols) => cols.length > 12)
    .map((cols) => ({
      type: cols[2]!,
      width: Number(cols[3]),
      height: Number(cols[4]),
      ppi: Number(cols[12]),
    }));
}

describe('PDF operations with the pdf-lib engine', () => {
  it('merges an uploaded DOCX and PDF into one PDF, the DOCX converted by LibreOffice', async () => {
    const job = await runJob(
      {
        'up-docx': { operation: 'import/upload' },
        'up-pdf': { operation: 'import/upload' },
        merged: {
          operation: 'merge',
          input: ['up-docx', 'up-pdf'],
          output_format: 'pdf',
          engine: 'pdflib',
        },
        out: { operation: 'export/url', input: 'merged' },
      },
      { 'up-docx': [NOTES_DOCX, 'Meeting notes.docx'], 'up-pdf': [WORD, 'Word export.pdf'] },
    );
    expectFinished(job);
    expect(task(job, 'merged').engine).toBe('pdflib');
    expect(task(job, 'merged').engine_version).toBe('1.17.1');

    const files = await exported(job);
    expect([...files.keys()]).toEqual(['Meeting notes.pdf']);
    const merged = files.get('Meeting notes.pdf')!;
    const total = pages(merged);
    expect(total).toBeGreaterThanOrEqual(2);
    expect(pageText(merged, 1).toLowerCase()).toContain('footnote');
    expect(pageText(merged, total)).toBe(pageText(WORD, 1));
  });

  it('stamps the image of another import task of the job, handed over as an asset', async () => {
    const job = await runJob(
      {
        'up-pdf': { operation: 'import/upload' },
        'up-logo': { operation: 'import/upload' },
        stamped: {
          operation: 'watermark',
          input: 'up-pdf',
          image: 'up-logo',
          image_width_percent: 40,
          position_vertical: 'bottom',
          position_horizontal: 'right',
          text: 'APPROVED',
          font_size: 36,
          engine: 'pdflib',
        },
        out: { operation: 'export/url', input: 'stamped' },
      },
      { 'up-pdf': [WORD, 'Word export.pdf'], 'up-logo': [TOUCAN, 'toucan.png'] },
    );
    expectFinished(job);

    const files = await exported(job);
    // Only the stamped PDF: the image is an asset, not an input of its own.
    expect([...files.keys()]).toEqual(['Word export.pdf']);
    const stamped = files.get('Word export.pdf')!;
    expect(pages(stamped)).toBe(1);
    expect(pageText(stamped, 1)).toContain(pageText(WORD, 1));
    expect(pageText(stamped, 1)).toContain('APPROVED');
    // The toucan (162 x 150 pixels) is on the page, 40 % of its 612 pt width wide: 47.6 ppi.
    expect(imagesOf(WORD)).toEqual([]);
    const [image] = imagesOf(stamped).filter((i) => i.type === 'image');
    expect(image).toMatchObject({ width: 162, height: 150 });
    expect(image!.ppi).toBeGreaterThanOrEqual(47);
    expect(image!.ppi).toBeLessThanOrEqual(48);
  });

  it('splits pages into files named by a %d filename', async () => {
    const job = await runJob(
      {
        up: { operation: 'import/upload' },
        split: {
          operation: 'pdf/split-pages',
          input: 'up',
          filename: 'page-%d.pdf',
          engine: 'pdflib',
        },
        out: { operation: 'export/url', input: 'split' },
      },
      { up: [VICKSBURG, 'Vicksburg.pdf'] },
    );
    expectFinished(job);
    expect(task(job, 'split').engine).toBe('pdflib');

    const files = await exported(job);
    expect([...files.keys()]).toEqual([1, 2, 3, 4, 5, 6].map((n) => `page-${n}.pdf`));
    for (const [i, file] of [...files.values()].entries()) {
      expect(pages(file)).toBe(1);
      expect(pageText(file, 1)).toBe(pageText(VICKSBURG, i + 1));
    }
  });

  it('extracts and rotates pages', async () => {
    const job = await runJob(
      {
        up: { operation: 'import/upload' },
        picked: { operation: 'pdf/extract-pages', input: 'up', pages: '2,4-5', engine: 'pdflib' },
        turned: {
          operation: 'pdf/rotate-pages',
          input: 'picked',
          pages: '1,3',
          rotation: '+90',
          engine: 'pdflib',
        },
        'out-picked': { operation: 'export/url', input: 'picked' },
        'out-turned': { operation: 'export/url', input: 'turned' },
      },
      { up: [KIDS, 'stories.pdf'] },
    );
    expectFinished(job);
    expect(task(job, 'picked').engine).toBe('pdflib');
    expect(task(job, 'turned').engine).toBe('pdflib');

    const extracted = await exportOf(job, 'out-picked', 'stories.pdf');
    expect(pages(extracted)).toBe(3);
    for (const [i, source] of [2, 4, 5].entries()) {
      expect(pageText(extracted, i + 1)).toBe(pageText(KIDS, source));
    }
    const rotated = await exportOf(job, 'out-turned', 'stories.pdf');
    const rot = infoOf(rotated, ['-f', '1', '-l', '3']).matchAll(/^Page\s+\d+\s+rot:\s+(\d+)/gm);
    expect([...rot].map((m) => Number(m[1]))).toEqual([90, 0, 90]);
  });

  it('writes metadata into the Info dictionary', async () => {
    const job = await runJob(
      {
        up: { operation: 'import/upload' },
        meta: {
          operation: 'metadata/write',
          input: 'up',
          metadata: { Title: 'Siege report', author: 'A. Soldier', Project: 'convertd' },
          engine: 'pdflib',
        },
        out: { operation: 'export/url', input: 'meta' },
      },
      { up: [VICKSBURG, 'Vicksburg.pdf'] },
    );
    expectFinished(job);

    const file = (await exported(job)).get('Vicksburg.pdf')!;
    const info = infoOf(file);
    expect(info).toMatch(/^Title:\s+Siege report$/m);
    expect(info).toMatch(/^Author:\s+A\. Soldier$/m);
    expect(infoOf(file, ['-custom'])).toMatch(/^Project:\s+convertd$/m);
    expect(pages(file)).toBe(6);
  });

  it('refuses a watermark without text or image as invalid data', async () => {
    const res = await api(sdk.stack, sdk.key, 'POST', '/v2/jobs', {
      tasks: {
        up: { operation: 'import/upload' },
        stamped: { operation: 'watermark', input: 'up', opacity: 50, engine: 'pdflib' },
      },
    });

    expect(res.status).toBe(422);
    expect(res.json.code).toBe('INVALID_DATA');
    expect(Object.keys(res.json.errors as object)).toEqual(['tasks.stamped.text']);
  });
});
