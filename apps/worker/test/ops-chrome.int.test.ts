// Chrome through the official node SDK: capture-website of a page on a local server (the harness
// allows private URLs) and an uploaded HTML page converted to PDF, both exported and read back.
import { execFileSync } from 'node:child_process';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { api, CORPUS } from '../../../test/harness';
import { sdkStack, startServer, type Exported, type SdkJob, type TestServer } from './support';

const sdk = sdkStack('chrome');
const { runJob } = sdk;
let site: TestServer;

beforeAll(async () => {
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
  await site?.close();
});

/** The job's first exported file, downloaded. */
async function exported(job: SdkJob): Promise<Exported> {
  const [first] = await sdk.exports(job);

  return first!;
}

function pdfText(file: string): string {
  return execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' });
}

describe('chrome through the node SDK', () => {
  it('captures a website to PDF with headers and a wait for an element', async () => {
    const job = await runJob({
      capture: {
        operation: 'capture-website',
        url: `${site.origin}/reports/q3`,
        output_format: 'pdf',
        headers: { 'X-Report-Token': 'r-2024-q3' },
        wait_for_element: '#chart',
        page_format: 'letter',
      },
      out: { operation: 'export/url', input: 'capture' },
    });

    expect(job.status).toBe('finished');
    const capture = job.tasks.find((t) => t.name === 'capture')!;
    expect(capture.engine).toBe('chrome');
    expect(capture.engine_version).toMatch(/^\d+\.\d+/);
    const { filename, file } = await exported(job);
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
    const html = path.join(CORPUS, 'web/pandoc-writer.html');
    const job = await runJob(
      {
        upload: { operation: 'import/upload' },
        pdf: { operation: 'convert', input: 'upload', output_format: 'pdf' },
        out: { operation: 'export/url', input: 'pdf' },
      },
      { upload: [html, 'Pandoc Writer (test).html'] },
    );

    expect(job.status).toBe('finished');
    const convert = job.tasks.find((t) => t.name === 'pdf')!;
    expect(convert.engine).toBe('chrome');
    const { filename, file } = await exported(job);
    expect(filename).toBe('Pandoc Writer (test).pdf');
    const text = pdfText(file);
    expect(text).toContain('Pandoc Test Suite');
    expect(text).toContain('Block Quotes');
  });

  it('converts an HTML page with the stylesheet uploaded beside it in the same job', async () => {
    const dir = path.join(CORPUS, 'web/invoice');
    const job = await runJob(
      {
        page: { operation: 'import/upload' },
        style: { operation: 'import/upload' },
        pdf: { operation: 'convert', input: ['page', 'style'], output_format: 'pdf' },
        out: { operation: 'export/url', input: 'pdf' },
      },
      {
        page: [path.join(dir, 'invoice.html'), 'invoice.html'],
        style: [path.join(dir, 'invoice.css'), 'invoice.css'],
      },
    );

    expect(job.status).toBe('finished');
    const exports = await sdk.exports(job);
    // One PDF: the stylesheet is there for the page, not converted itself.
    expect(exports.map((e) => e.filename)).toEqual(['invoice.pdf']);
    const { file } = exports[0]!;
    // The stylesheet's @page margin box text appears only when invoice.css was loaded.
    expect(pdfText(file)).toContain('Thank you!');
  });

  it('refuses captures without a url or with options Chrome does not have', async () => {
    const missing = await api(sdk.stack, sdk.key, 'POST', '/v2/capture-website', {
      output_format: 'png',
    });
    expect(missing.status).toBe(422);
    expect(missing.json.code).toBe('INVALID_DATA');
    expect(Object.keys(missing.json.errors as object)).toEqual(['url']);

    const unknown = await api(sdk.stack, sdk.key, 'POST', '/v2/capture-website', {
      url: site.origin,
      output_format: 'pdf',
      quality: 80,
    });
    expect(unknown.status).toBe(422);
    expect(Object.keys(unknown.json.errors as object)).toEqual(['quality']);
  });
});
