// Chrome through the official node SDK: capture-website of a page on a local server (the harness
// allows private URLs) and an uploaded HTML page converted to PDF, both exported and read back.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { ConvertdCloudConvert } from '@convertd/cloudconvert-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { api, CORPUS, startStack, type Stack } from '../../../test/harness';
import { download, startServer, type TestServer } from './support';

let stack: Stack;
let cc: ConvertdCloudConvert;
let key: string;
let site: TestServer;
let tmp: string;

beforeAll(async () => {
  stack = await startStack();
  const user = await stack.createUser();
  key = user.key;
  cc = new ConvertdCloudConvert(user.key, { url: stack.url, syncUrl: stack.syncUrl });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'convertd-chrome-'));
  site = await startServer((req, res) => {
    const token = String(req.headers['x-report-token'] ?? 'none');
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><title>Quarterly report</title>
      <h1>Quarterly report</h1><p>Access token ${token}</p>
      <script>setTimeout(() => {
        const chart = document.createElement('p');
        chart.id = 'chart';
        chart.textContent = 'Chart drawn by script';
        document.body.append(chart);
      }, 200);</script>`);
  });
});

afterAll(async () => {
  await stack?.close();
  await site?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

type Job = Awaited<ReturnType<ConvertdCloudConvert['jobs']['wait']>>;

async function exported(job: Job, name: string): Promise<{ filename: string; file: string }> {
  const [first] = cc.jobs.getExportUrls(job);
  const file = path.join(tmp, name);
  fs.writeFileSync(file, await download(first!.url!));

  return { filename: first!.filename, file };
}

function pdfText(file: string): string {
  return execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' });
}

describe('chrome through the node SDK', () => {
  it('captures a website to PDF with headers and a wait for an element', async () => {
    const created = await cc.jobs.create({
      tasks: {
        capture: {
          operation: 'capture-website',
          url: `${site.origin}/reports/q3`,
          output_format: 'pdf',
          headers: { 'X-Report-Token': 'r-2024-q3' },
          wait_for_element: '#chart',
          page_format: 'letter',
        },
        out: { operation: 'export/url', input: 'capture' },
      },
    } as never);
    const job = await cc.jobs.wait(created.id);

    expect(job.status).toBe('finished');
    const capture = job.tasks.find((t) => t.name === 'capture')!;
    expect(capture.engine).toBe('chrome');
    expect(capture.engine_version).toMatch(/^\d+\.\d+/);
    const { filename, file } = await exported(job, 'capture.pdf');
    expect(filename).toBe('127.0.0.1.pdf');
    const text = pdfText(file);
    expect(text).toContain('Quarterly report');
    expect(text).toContain('Access token r-2024-q3');
    expect(text).toContain('Chart drawn by script');
    // US Letter is 612 x 792 points.
    expect(execFileSync('pdfinfo', [file], { encoding: 'utf8' })).toMatch(/Page size:\s+612 x 792/);
    expect(site.requests.find((r) => r.url === '/reports/q3')?.headers['x-report-token']).toBe(
      'r-2024-q3',
    );
  });

  it('converts an uploaded HTML page to PDF with Chrome', async () => {
    const created = await cc.jobs.create({
      tasks: {
        upload: { operation: 'import/upload' },
        pdf: { operation: 'convert', input: 'upload', output_format: 'pdf' },
        out: { operation: 'export/url', input: 'pdf' },
      },
    } as never);
    const upload = created.tasks.find((t) => t.name === 'upload')!;
    const html = path.join(CORPUS, 'web/pandoc-writer.html');
    await cc.tasks.upload(upload, fs.createReadStream(html), 'Pandoc Writer (test).html');
    const job = await cc.jobs.wait(created.id);

    expect(job.status).toBe('finished');
    const convert = job.tasks.find((t) => t.name === 'pdf')!;
    expect(convert.engine).toBe('chrome');
    const { filename, file } = await exported(job, 'upload.pdf');
    expect(filename).toBe('Pandoc Writer (test).pdf');
    const text = pdfText(file);
    expect(text).toContain('Pandoc Test Suite');
    expect(text).toContain('Block Quotes');
  });

  it('converts an HTML page with the stylesheet uploaded beside it in the same job', async () => {
    const dir = path.join(CORPUS, 'web/invoice');
    const created = await cc.jobs.create({
      tasks: {
        page: { operation: 'import/upload' },
        style: { operation: 'import/upload' },
        pdf: { operation: 'convert', input: ['page', 'style'], output_format: 'pdf' },
        out: { operation: 'export/url', input: 'pdf' },
      },
    } as never);
    for (const [name, file] of [
      ['page', 'invoice.html'],
      ['style', 'invoice.css'],
    ] as const) {
      const task = created.tasks.find((t) => t.name === name)!;
      await cc.tasks.upload(task, fs.createReadStream(path.join(dir, file)), file);
    }
    const job = await cc.jobs.wait(created.id);

    expect(job.status).toBe('finished');
    const exports = cc.jobs.getExportUrls(job);
    // One PDF: the stylesheet is there for the page, not converted itself.
    expect(exports.map((e) => e.filename)).toEqual(['invoice.pdf']);
    const { file } = await exported(job, 'invoice.pdf');
    // The stylesheet's @page margin box text appears only when invoice.css was loaded.
    expect(pdfText(file)).toContain('Thank you!');
  });

  it('refuses captures without a url or with options Chrome does not have', async () => {
    const missing = await api(stack, key, 'POST', '/v2/capture-website', { output_format: 'png' });
    expect(missing.status).toBe(422);
    expect(missing.json.code).toBe('INVALID_DATA');
    expect(Object.keys(missing.json.errors as object)).toEqual(['url']);

    const unknown = await api(stack, key, 'POST', '/v2/capture-website', {
      url: site.origin,
      output_format: 'pdf',
      quality: 80,
    });
    expect(unknown.status).toBe(422);
    expect(Object.keys(unknown.json.errors as object)).toEqual(['quality']);
  });
});
