// The official cloudconvert node SDK (3.x), pointed at convertd through our helper, converts
// real office documents end to end.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { ConvertdCloudConvert } from '@convertd/cloudconvert-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CORPUS, startStack, type Stack } from '../../../test/harness';

let stack: Stack;
let cc: ConvertdCloudConvert;
let tmp: string;

beforeAll(async () => {
  stack = await startStack();
  const user = await stack.createUser();
  cc = new ConvertdCloudConvert(user.key, { url: stack.url, syncUrl: stack.syncUrl });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'convertd-sdk-'));
});

afterAll(async () => {
  await stack?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function convertToPdf(client: ConvertdCloudConvert, file: string, uploadName: string) {
  const job = await client.jobs.create({
    tag: 'sdk-test',
    tasks: {
      'import-it': { operation: 'import/upload' },
      'convert-it': { operation: 'convert', input: 'import-it', output_format: 'pdf' },
      'export-it': { operation: 'export/url', input: 'convert-it' },
    },
  });
  const upload = job.tasks.find((t) => t.name === 'import-it')!;
  await client.tasks.upload(upload, fs.createReadStream(file), uploadName);
  const done = await client.jobs.wait(job.id);
  return done;
}

async function download(url: string, name: string): Promise<{ path: string; res: Response }> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  const target = path.join(tmp, name);
  fs.writeFileSync(target, Buffer.from(await res.arrayBuffer()));
  return { path: target, res };
}

function pdfPages(file: string): number {
  const info = execFileSync('pdfinfo', [file], { encoding: 'utf8' });
  return Number(/Pages:\s+(\d+)/.exec(info)?.[1]);
}

function pdfText(file: string): string {
  return execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' });
}

describe('official node SDK against convertd', () => {
  it('converts a DOCX with spaces and non-ASCII letters in its name to PDF', async () => {
    const name = 'Notes für Ämter – 猫 (final).docx';
    const job = await convertToPdf(cc, path.join(CORPUS, 'office/notes.docx'), name);

    expect(job.status).toBe('finished');
    const convert = job.tasks.find((t) => t.name === 'convert-it')!;
    expect(convert.engine).toBe('libreoffice');
    expect(convert.engine_version).toMatch(/^\d+\.\d+/);
    const importTask = job.tasks.find((t) => t.name === 'import-it')!;
    expect(importTask.result?.files?.[0]?.filename).toBe(name);

    const [file] = cc.jobs.getExportUrls(job);
    expect(file!.filename).toBe('Notes für Ämter – 猫 (final).pdf');
    const { path: pdf, res } = await download(file!.url!, 'notes.pdf');
    expect(res.headers.get('content-type')).toBe('application/pdf');
    expect(res.headers.get('content-disposition')).toContain(
      `filename*=UTF-8''${encodeURIComponent('Notes für Ämter – 猫')}`,
    );
    expect(Number(res.headers.get('content-length'))).toBe(fs.statSync(pdf).size);
    expect(pdfPages(pdf)).toBeGreaterThanOrEqual(1);
    expect(pdfText(pdf).toLowerCase()).toContain('footnote');

    await cc.jobs.delete(job.id);
    await expect(cc.jobs.get(job.id)).rejects.toThrow('Not Found');
  });

  it('converts an XLSX and a PPTX to PDFs with the text of their sources', async () => {
    const xlsx = await convertToPdf(
      cc,
      path.join(CORPUS, 'office/Städte & Bevölkerung – Übersicht #3.xlsx'),
      'Städte & Bevölkerung – Übersicht #3.xlsx',
    );
    expect(xlsx.status).toBe('finished');
    const [sheet] = cc.jobs.getExportUrls(xlsx);
    expect(sheet!.filename).toBe('Städte & Bevölkerung – Übersicht #3.pdf');
    const sheetPdf = (await download(sheet!.url!, 'sheet.pdf')).path;
    expect(pdfPages(sheetPdf)).toBeGreaterThanOrEqual(1);
    expect(pdfText(sheetPdf).length).toBeGreaterThan(50);

    const pptx = await convertToPdf(
      cc,
      path.join(CORPUS, 'office/cht-charts.pptx'),
      'cht-charts.pptx',
    );
    expect(pptx.status).toBe('finished');
    const [slides] = cc.jobs.getExportUrls(pptx);
    const slidesPdf = (await download(slides!.url!, 'slides.pdf')).path;
    expect(pdfPages(slidesPdf)).toBeGreaterThanOrEqual(1);
  });

  it('uploads a standalone task and waits for it through the sync API', async () => {
    const task = await cc.tasks.create('import/upload', { name: 'upload-test' } as never);
    expect(task.status).toBe('waiting');
    expect(task.result?.form?.url).toMatch(new RegExp(`^${stack.url}/upload/`));

    const file = path.join(CORPUS, 'office/simple-table.doc');
    await cc.tasks.upload(task, fs.createReadStream(file), 'simple table.doc');
    const done = await cc.tasks.wait(task.id);
    expect(done.status).toBe('finished');
    expect(done.result?.files?.[0]?.filename).toBe('simple table.doc');

    await cc.tasks.delete(task.id);
    await expect(cc.tasks.get(task.id)).rejects.toThrow('Not Found');
  });

  it('waits through the main origin /wait routes when no sync URL is given', async () => {
    const user = await stack.createUser();
    const oneUrl = new ConvertdCloudConvert(user.key, { url: stack.url });
    const job = await convertToPdf(oneUrl, path.join(CORPUS, 'office/images.odt'), 'images.odt');
    expect(job.status).toBe('finished');
    expect(oneUrl.jobs.getExportUrls(job)[0]!.filename).toBe('images.pdf');
  });

  it('returns the user with the keys the SDK tests check', async () => {
    const me = await cc.users.me();
    expect(Object.keys(me)).toEqual(expect.arrayContaining(['id', 'username', 'email', 'credits']));
    expect(Number.isInteger(me.id)).toBe(true);
  });
});
