// The markdown engine on the corpus' Pandoc test suite and on small hostile sources; pages are
// read back as HTML text, PDFs and documents as delegated by a stand-in for the worker.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, extname, join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { EngineInput, EngineJob } from '../src/engine';
import { MarkdownEngine } from '../src/markdown/markdown.engine';
import { allowedUrl, relativePath } from '../src/markdown/page';
import { CORPUS } from './office';
import { failure } from './support';

const TESTSUITE = join(CORPUS, 'web/pandoc-testsuite.md');
const TOUCAN = join(CORPUS, 'image/toucan.png');

let root: string;
const sut = new MarkdownEngine();

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'engines-markdown-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function inputOf(path: string): EngineInput {
  return { path, format: extname(path).slice(1), filename: basename(path), source: 'test' };
}

async function jobOf(
  inputs: EngineInput[],
  outputFormat: string,
  extra: Partial<EngineJob> = {},
): Promise<EngineJob> {
  const workDir = await mkdtemp(join(root, 'run-'));
  const outputDir = join(workDir, 'out');
  await mkdir(outputDir);

  return {
    operation: 'convert',
    inputs: inputs.slice(0, 1),
    siblings: inputs,
    assets: [],
    outputFormat,
    options: { breaks: false, typographer: false },
    workDir,
    outputDir,
    deadlineMs: 30_000,
    ...extra,
  };
}

async function source(name: string, text: string): Promise<EngineInput> {
  const dir = await mkdtemp(join(root, 'src-'));
  const path = join(dir, name);
  await writeFile(path, text);

  return inputOf(path);
}

async function page(input: EngineInput, extra: Partial<EngineJob> = {}): Promise<string> {
  const result = await sut.run(await jobOf([input], 'html', extra));
  expect(result.files).toHaveLength(1);

  return readFile(result.files[0] ?? '', 'utf8');
}

describe(MarkdownEngine.name, () => {
  it('reports the markdown-it version it loaded', async () => {
    expect((await sut.detect())?.version).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('renders the Pandoc test suite as a standalone page of real elements', async () => {
    const html = await page(inputOf(TESTSUITE));

    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).toContain('<meta charset="utf-8">');
    expect(html).toMatch(/<style>[^<]*body \{/);
    expect(html).toContain('<title>Headers</title>');
    expect(html).toContain('<h1>Headers</h1>');
    expect(html).toContain('<h2>Level 2 with an <a href="/url">embedded link</a></h2>');
    expect(html).toContain('<h3>Level 3 with <em>emphasis</em></h3>');
    expect(html).toContain('<blockquote>');
    expect(html).toMatch(/<ul>\s*<li>asterisk 1<\/li>/);
    expect(html).toMatch(/<ol>\s*<li>First<\/li>/);
    expect(html).toContain('<pre><code>---- (should be four hyphens)');
    // The suite's raw HTML blocks stay text.
    expect(html).not.toMatch(/<script[\s>]/);
    expect(html).toContain('&lt;script type=&quot;text/javascript&quot;&gt;');
    expect(html).not.toContain('<div>foo</div>');
  });

  it('renders tables, fenced code and a title made of the first heading only', async () => {
    const html = await page(
      await source(
        'notes.md',
        [
          'Intro line.',
          '',
          '## Prices & *terms* `v2`',
          '',
          '| fruit | price |',
          '| ----- | ----: |',
          '| apple | 3 |',
          '',
          '```ts',
          'const a = 1 < 2;',
          '```',
        ].join('\n'),
      ),
    );

    expect(html).toContain('<title>Prices &amp; terms v2</title>');
    expect(html).toMatch(/<table>\s*<thead>\s*<tr>\s*<th>fruit<\/th>/);
    expect(html).toContain('<td style="text-align:right">3</td>');
    expect(html).toContain('<pre><code class="language-ts">const a = 1 &lt; 2;\n</code></pre>');
  });

  it('titles a page without headings after its file', async () => {
    const html = await page(await source('read me.markdown', 'just text'));

    expect(html).toContain('<title>read me</title>');
  });

  it('escapes raw HTML and drops script, file and absolute references', async () => {
    const html = await page(
      await source(
        'evil.md',
        [
          '# Evil <script>alert(1)</script>',
          '',
          '<script>alert(2)</script>',
          '',
          '<img src="x" onerror="alert(3)">',
          '',
          '![x](file:///etc/passwd)',
          '![abs](/etc/passwd)',
          '![up](../../etc/passwd)',
          '![enc](%2e%2e/secret.png)',
          '[js](javascript:alert(4)) [vb](VBScript:x) [f](FILE:///etc/hosts)',
          '[ok](https://example.com/a) ![pic](pic.png)',
        ].join('\n'),
      ),
    );

    expect(html).not.toMatch(/<script[\s>]/i);
    expect(html).not.toMatch(/<img src="x"/);
    expect(html).toContain('&lt;script&gt;alert(2)&lt;/script&gt;');
    expect(html).toContain('<title>Evil &lt;script&gt;alert(1)&lt;/script&gt;</title>');
    expect(html).not.toMatch(/(?:src|href)="(?:file|javascript|vbscript):/i);
    expect(html).not.toMatch(/src="[^"]*(?:passwd|secret)/);
    expect(html).toContain('<a href="https://example.com/a">ok</a>');
    expect(html).toContain('<img src="pic.png" alt="pic">');
    // A refused image leaves its alternative text.
    expect(html).toMatch(/\nabs\nup\nenc\n/);
  });

  it('honours breaks and typographer', async () => {
    const input = await source('t.md', '"Quoted" -- text...\nnext line');
    const plain = await page(input);
    const fancy = await page(input, { options: { breaks: true, typographer: true } });

    expect(plain).toContain('&quot;Quoted&quot; -- text...\nnext line');
    expect(fancy).toContain('“Quoted” – text…<br>\nnext line');
  });

  it('hands the page and the task files to the HTML engine for PDF', async () => {
    const md = await source('pic.md', '# Toucan\n\n![bird](toucan.png)');
    const image = inputOf(TOUCAN);
    const calls: { operation: string; inputs: EngineInput[]; format: string | null }[] = [];
    let handed = '';
    const job = await jobOf([md, image], 'pdf', {
      delegate: async (operation, inputs, format) => {
        calls.push({ operation, inputs, format });
        handed = await readFile(inputs[0]?.path ?? '', 'utf8');
        const out = join(root, 'delegated.pdf');
        await writeFile(out, '%PDF-1.4\n');

        return [out];
      },
    });

    const result = await sut.run(job);

    expect(result.files).toEqual([join(root, 'delegated.pdf')]);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.operation).toBe('convert');
    expect(calls[0]?.format).toBe('pdf');
    expect(calls[0]?.inputs.map((i) => i.format)).toEqual(['html', 'png']);
    expect(calls[0]?.inputs[1]?.path).toBe(TOUCAN);
    expect(handed).toContain('<img src="toucan.png" alt="bird">');
  });

  it('inlines the task images and drops remote ones for LibreOffice', async () => {
    const md = await source(
      'office.md',
      '![bird](toucan.png) ![far](https://example.com/x.png) ![gone](missing.png)',
    );
    let handed = '';
    const job = await jobOf([md, inputOf(TOUCAN)], 'docx', {
      delegate: async (_operation, inputs) => {
        handed = await readFile(inputs[0]?.path ?? '', 'utf8');

        return [];
      },
    });

    await sut.run(job);

    expect(handed).toMatch(/<img src="data:image\/png;base64,iVBORw0KGgo[^"]+" alt="bird">/);
    expect(handed).not.toContain('example.com');
    expect(handed).toMatch(/ far gone<\/p>/);
  });

  it('refuses other operations and formats', async () => {
    const job = await jobOf([inputOf(TESTSUITE)], 'png');
    const { err } = await failure(sut.run(job));

    expect(err.code).toBe('INVALID_CONVERSION_TYPE');
  });
});

describe(allowedUrl.name, () => {
  it.each([
    ['https://example.com', true],
    ['mailto:a@example.com', true],
    ['#top', true],
    ['images/a.png', true],
    ['data:image/png;base64,AAAA', true],
    ['data:text/html;base64,AAAA', false],
    ['file:///etc/passwd', false],
    [' JavaScript:alert(1)', false],
    ['//server/share', false],
    ['/url', true],
    ['a\\b.png', false],
    ['java\tscript:x', false],
  ])('%j → %s', (url, allowed) => {
    expect(allowedUrl(url)).toBe(allowed);
  });
});

describe(relativePath.name, () => {
  it('names files below the page and nothing above it', () => {
    expect(relativePath('./a%20b.png?x#y')).toBe('a b.png');
    expect(relativePath('img/a.png')).toBe('img/a.png');
    expect(relativePath('../a.png')).toBeUndefined();
    expect(relativePath('img/%2e%2e/%2e%2e/a.png')).toBeUndefined();
    expect(relativePath('https://example.com/a.png')).toBeUndefined();
  });
});
