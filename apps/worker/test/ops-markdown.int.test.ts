// The markdown engine through the official node SDK: the corpus' Pandoc test suite to HTML and,
// through Chrome, to PDF; a page with an image uploaded beside it to PDF and to DOCX.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { ConvertdCloudConvert } from '@convertd/cloudconvert-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CORPUS, startStack, type Stack } from '../../../test/harness';
import { download } from './support';

let stack: Stack;
let cc: ConvertdCloudConvert;
let tmp: string;

beforeAll(async () => {
  stack = await startStack();
  const user = await stack.createUser();
  cc = new ConvertdCloudConvert(user.key, { url: stack.url, syncUrl: stack.syncUrl });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'convertd-markdown-'));
});

afterAll(async () => {
  await stack?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

type Job = Awaited<ReturnType<ConvertdCloudConvert['jobs']['wait']>>;

/** The file of the export task `name`, saved under `as`. */
async function exported(
  job: Job,
  name: string,
  as: string,
): Promise<{ filename: string; file: string }> {
  const task = job.tasks.find((t) => t.name === name)!;
  const [first] = cc.jobs.getExportUrls({ ...job, tasks: [task] });
  const file = path.join(tmp, as);
  fs.writeFileSync(file, await download(first!.url!));

  return { filename: first!.filename, file };
}

describe('markdown through the node SDK', () => {
  it('converts the Pandoc test suite to HTML and to PDF', async () => {
    const created = await cc.jobs.create({
      tasks: {
        upload: { operation: 'import/upload' },
        html: { operation: 'convert', input: 'upload', output_format: 'html' },
        pdf: { operation: 'convert', input: 'upload', output_format: 'pdf' },
        'out-html': { operation: 'export/url', input: 'html' },
        'out-pdf': { operation: 'export/url', input: 'pdf' },
      },
    } as never);
    const upload = created.tasks.find((t) => t.name === 'upload')!;
    const md = path.join(CORPUS, 'web/pandoc-testsuite.md');
    await cc.tasks.upload(upload, fs.createReadStream(md), 'pandoc-testsuite.md');
    const job = await cc.jobs.wait(created.id);

    expect(job.status).toBe('finished');
    for (const name of ['html', 'pdf']) {
      const task = job.tasks.find((t) => t.name === name)!;
      expect(task.engine).toBe('markdown');
      expect(task.engine_version).toMatch(/^\d+\.\d+\.\d+$/);
    }

    const html = await exported(job, 'out-html', 'suite.html');
    expect(html.filename).toBe('pandoc-testsuite.html');
    const page = fs.readFileSync(html.file, 'utf8');
    expect(page).toMatch(/^<!DOCTYPE html>/);
    expect(page).toContain('<title>Headers</title>');
    expect(page).toContain('<h1>Block Quotes</h1>');
    expect(page).not.toMatch(/<script[\s>]/);

    const pdf = await exported(job, 'out-pdf', 'suite.pdf');
    expect(pdf.filename).toBe('pandoc-testsuite.pdf');
    const info = execFileSync('pdfinfo', [pdf.file], { encoding: 'utf8' });
    expect(info).toMatch(/Title:\s+Headers/);
    // Chrome (Skia) rendered the page, not LibreOffice.
    expect(info).toMatch(/Producer:\s+Skia\/PDF/);
    expect(Number(/Pages:\s+(\d+)/.exec(info)?.[1])).toBeGreaterThan(1);
    const text = execFileSync('pdftotext', [pdf.file, '-'], { encoding: 'utf8' });
    expect(text).toContain('Pandoc Test Suite');
    expect(text).toContain('Block Quotes');
  });

  it('puts an image uploaded beside the Markdown into the PDF and the DOCX', async () => {
    const created = await cc.jobs.create({
      tasks: {
        md: { operation: 'import/upload' },
        image: { operation: 'import/upload' },
        pdf: {
          operation: 'convert',
          input: ['md', 'image'],
          input_format: 'md',
          output_format: 'pdf',
        },
        docx: {
          operation: 'convert',
          input: ['md', 'image'],
          input_format: 'md',
          output_format: 'docx',
        },
        'out-pdf': { operation: 'export/url', input: 'pdf' },
        'out-docx': { operation: 'export/url', input: 'docx' },
      },
    } as never);
    const source = path.join(tmp, 'bird.md');
    fs.writeFileSync(source, '# A toucan\n\n![The bird](toucan.png)\n\nBeak facts.\n');
    const md = created.tasks.find((t) => t.name === 'md')!;
    const image = created.tasks.find((t) => t.name === 'image')!;
    await cc.tasks.upload(md, fs.createReadStream(source), 'bird.md');
    await cc.tasks.upload(
      image,
      fs.createReadStream(path.join(CORPUS, 'image/toucan.png')),
      'toucan.png',
    );
    const job = await cc.jobs.wait(created.id);

    expect(job.status).toBe('finished');
    const pdf = await exported(job, 'out-pdf', 'bird.pdf');
    expect(pdf.filename).toBe('bird.pdf');
    expect(execFileSync('pdftotext', [pdf.file, '-'], { encoding: 'utf8' })).toContain(
      'Beak facts.',
    );
    const images = execFileSync('pdfimages', ['-list', pdf.file], { encoding: 'utf8' });
    expect(images.trim().split('\n').length).toBeGreaterThan(2);

    const docx = await exported(job, 'out-docx', 'bird.docx');
    expect(docx.filename).toBe('bird.docx');
    const listing = execFileSync('unzip', ['-l', docx.file], { encoding: 'utf8' });
    expect(listing).toMatch(/word\/media\/\S+\.png/);
    const xml = execFileSync('unzip', ['-p', docx.file, 'word/document.xml'], { encoding: 'utf8' });
    expect(xml).toContain('Beak facts.');
  });
});
