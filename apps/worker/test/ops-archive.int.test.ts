// The archive operation and export/url's archive_multiple_files through the official node SDK:
// uploads with awkward names go in, the downloaded archive is listed and extracted with the
// system's tools, and every file in it must have the bytes that were uploaded.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { CORPUS } from '../../../test/harness';
import { sdkStack } from './support';

const KIDS = "kids' stories & tales [v2] 100%.pdf";
const GERMAN_XLSX = 'Städte & Bevölkerung – Übersicht #3.xlsx';
const KIDS_PDF = path.join(CORPUS, 'pdf', KIDS);
const XLSX = path.join(CORPUS, 'office', GERMAN_XLSX);
const NOTES = path.join(CORPUS, 'office/notes.docx');
/** The system tools read names in the locale's charset. */
const UTF8 = { ...process.env, LC_ALL: 'C.UTF-8' };

const sdk = sdkStack('archive');
const { runJob } = sdk;

/** Downloads `url` to `name` in the scratch dir; the response is kept for its headers. */
async function download(url: string, name: string): Promise<{ file: string; res: Response }> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  const file = path.join(sdk.tmp, name);
  fs.writeFileSync(file, Buffer.from(await res.arrayBuffer()));

  return { file, res };
}

function tool(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { env: UTF8, encoding: 'utf8' });
}

function lines(text: string): string[] {
  return text.split('\n').filter((line) => line !== '');
}

function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Extracts `archive` with `extract(dir)` and maps each extracted name to its bytes' sha256. */
function extracted(extract: (dir: string) => void): Record<string, string> {
  const dir = fs.mkdtempSync(path.join(sdk.tmp, 'x-'));
  extract(dir);
  const entries = fs.readdirSync(dir, { withFileTypes: true });
  expect(entries.every((e) => e.isFile())).toBe(true);

  return Object.fromEntries(
    entries.map((e) => [e.name, sha256(fs.readFileSync(path.join(dir, e.name)))]),
  );
}

describe('archive through the official node SDK', () => {
  it('archives three imports to one zip whose files are the uploads', async () => {
    const text = 'a text file that claims the same name as the PDF\n';
    const job = await runJob(
      {
        pdf: { operation: 'import/upload' },
        sheet: { operation: 'import/upload' },
        raw: { operation: 'import/raw', file: text, filename: KIDS },
        zip: { operation: 'archive', input: ['pdf', 'sheet', 'raw'], output_format: 'zip' },
        out: { operation: 'export/url', input: 'zip' },
      },
      { pdf: [KIDS_PDF, KIDS], sheet: [XLSX, GERMAN_XLSX] },
    );

    expect(job.status).toBe('finished');
    const archive = job.tasks.find((t) => t.name === 'zip')!;
    expect(archive.engine).toBe('archivetool');
    expect(archive.engine_version).toMatch(/^\d+\.\d+/);
    expect(archive.result?.files?.map((f) => f.filename)).toEqual(['archive.zip']);

    const [exported] = sdk.cc.jobs.getExportUrls(job);
    expect(exported!.filename).toBe('archive.zip');
    const { file, res } = await download(exported!.url!, 'three.zip');
    expect(res.headers.get('content-type')).toBe('application/zip');
    const second = "kids' stories & tales [v2] 100% (2).pdf";
    expect(lines(tool('unzip', ['-Z1', file]))).toEqual([KIDS, GERMAN_XLSX, second]);
    expect(extracted((dir) => tool('unzip', ['-q', file, '-d', dir]))).toEqual({
      [KIDS]: sha256(fs.readFileSync(KIDS_PDF)),
      [GERMAN_XLSX]: sha256(fs.readFileSync(XLSX)),
      [second]: sha256(text),
    });
  });

  for (const format of ['tar.gz', '7z']) {
    it(`writes ${format} under the task's filename`, async () => {
      const filename = `Bündel 2024.${format}`;
      const job = await runJob(
        {
          pdf: { operation: 'import/upload' },
          doc: { operation: 'import/upload' },
          pack: { operation: 'archive', input: ['pdf', 'doc'], output_format: format, filename },
          out: { operation: 'export/url', input: 'pack' },
        },
        { pdf: [KIDS_PDF, KIDS], doc: [NOTES, 'Notes für Ämter – 猫.docx'] },
      );

      expect(job.status).toBe('finished');
      const [exported] = sdk.cc.jobs.getExportUrls(job);
      expect(exported!.filename).toBe(filename);
      const { file, res } = await download(exported!.url!, `pack.${format}`);
      expect(res.headers.get('content-type')).toBe(
        format === '7z' ? 'application/x-7z-compressed' : 'application/gzip',
      );
      expect(res.headers.get('content-disposition')).toContain(
        `filename*=UTF-8''${encodeURIComponent('Bündel')}%202024.${format}`,
      );
      const names =
        format === '7z'
          ? lines(tool('7zz', ['l', '-slt', '-ba', file]))
              .filter((l) => l.startsWith('Path = '))
              .map((l) => l.slice('Path = '.length))
          : lines(tool('tar', ['-tzf', file]));
      expect(names.sort()).toEqual([KIDS, 'Notes für Ämter – 猫.docx'].sort());
      const files = extracted((dir) =>
        format === '7z'
          ? tool('7zz', ['x', '-y', '-bd', `-o${dir}`, file])
          : tool('tar', ['-xzf', file, '-C', dir]),
      );
      expect(files).toEqual({
        [KIDS]: sha256(fs.readFileSync(KIDS_PDF)),
        'Notes für Ämter – 猫.docx': sha256(fs.readFileSync(NOTES)),
      });
    });
  }
});

describe('export/url with archive_multiple_files', () => {
  it('exports two files as one zip of both', async () => {
    const job = await runJob(
      {
        pdf: { operation: 'import/upload' },
        sheet: { operation: 'import/upload' },
        out: { operation: 'export/url', input: ['pdf', 'sheet'], archive_multiple_files: true },
      },
      { pdf: [KIDS_PDF, KIDS], sheet: [XLSX, GERMAN_XLSX] },
    );

    expect(job.status).toBe('finished');
    const urls = sdk.cc.jobs.getExportUrls(job);
    expect(urls.map((u) => u.filename)).toEqual(['archive.zip']);
    const out = job.tasks.find((t) => t.name === 'out')!;
    expect(out.result?.files).toHaveLength(1);
    const { file, res } = await download(urls[0]!.url!, 'export.zip');
    expect(Number(res.headers.get('content-length'))).toBe(out.result!.files![0]!.size);
    expect(lines(tool('unzip', ['-Z1', file]))).toEqual([KIDS, GERMAN_XLSX]);
    expect(extracted((dir) => tool('unzip', ['-q', file, '-d', dir]))).toEqual({
      [KIDS]: sha256(fs.readFileSync(KIDS_PDF)),
      [GERMAN_XLSX]: sha256(fs.readFileSync(XLSX)),
    });
  });

  it('takes "true" as a string, names the zip after filename, and serves it inline', async () => {
    const job = await runJob(
      {
        a: { operation: 'import/upload' },
        b: { operation: 'import/upload' },
        out: {
          operation: 'export/url',
          input: ['a', 'b'],
          archive_multiple_files: 'true',
          inline: 'true',
          filename: 'Beide Dateien.zip',
        },
      },
      { a: [NOTES, 'same.docx'], b: [KIDS_PDF, 'SAME.docx'] },
    );

    expect(job.status).toBe('finished');
    const [exported] = sdk.cc.jobs.getExportUrls(job);
    expect(exported!.filename).toBe('Beide Dateien.zip');
    const { file, res } = await download(exported!.url!, 'inline.zip');
    expect(res.headers.get('content-disposition')).toMatch(/^inline;/);
    expect(extracted((dir) => tool('unzip', ['-q', file, '-d', dir]))).toEqual({
      'same.docx': sha256(fs.readFileSync(NOTES)),
      'SAME (2).docx': sha256(fs.readFileSync(KIDS_PDF)),
    });
  });

  it('exports a single file as itself', async () => {
    const job = await runJob(
      {
        pdf: { operation: 'import/upload' },
        out: { operation: 'export/url', input: 'pdf', archive_multiple_files: true },
      },
      { pdf: [KIDS_PDF, KIDS] },
    );

    expect(job.status).toBe('finished');
    const [exported] = sdk.cc.jobs.getExportUrls(job);
    expect(exported!.filename).toBe(KIDS);
    const { file } = await download(exported!.url!, 'single.pdf');
    expect(sha256(fs.readFileSync(file))).toBe(sha256(fs.readFileSync(KIDS_PDF)));
  });

  it('refuses archive_multiple_files and inline that are not booleans', async () => {
    const res = await fetch(`${sdk.stack.url}/v2/jobs`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${(await sdk.stack.createUser()).key}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({
        tasks: {
          a: { operation: 'import/upload' },
          out: { operation: 'export/url', input: 'a', archive_multiple_files: 'yes', inline: 2 },
        },
      }),
    });
    expect(res.status).toBe(422);
    const body = (await res.json()) as { code: string; errors: Record<string, string[]> };
    expect(body.code).toBe('INVALID_DATA');
    expect(Object.keys(body.errors).sort()).toEqual([
      'tasks.out.archive_multiple_files',
      'tasks.out.inline',
    ]);
  });
});
