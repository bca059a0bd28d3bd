// The Chrome engine against the real Chromium: uploaded pages with their files, zipped pages,
// websites on a local server, and the limits of what a page may reach.
import { copyFile, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ChromeEngine } from '../src/chrome/chrome.engine';
import { EgressProxy } from '../src/chrome/egress-proxy';
import type { EngineInput, EngineJob } from '../src/engine';
import {
  imageInfo,
  pdfInfo,
  pdfPages,
  pdfPixelsNear,
  pdfText,
  serveSite,
  type Site,
} from './chrome-support';
import { CORPUS, eventually, failure, processesMentioning, storedZip } from './support';

const INVOICE = join(CORPUS, 'web/invoice/invoice.html');
const INVOICE_CSS = join(CORPUS, 'web/invoice/invoice.css');
/** invoice.css colours the title and the "Thank you" margin box with this green. */
const INVOICE_GREEN: [number, number, number] = [0x1e, 0xe4, 0x94];

let root: string;
let sut: ChromeEngine;
let site: Site;
let runs = 0;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'engines-chrome-'));
  sut = new ChromeEngine({ root: join(root, 'engine'), allowPrivateUrls: true });
  site = await serveSite({
    '/page': (req) => `<!doctype html><title>Local page</title>
      <h1>Served locally</h1><p>Token ${String(req.headers['x-token'] ?? 'none')}</p>
      <script>setTimeout(() => {
        const late = document.createElement('p');
        late.id = 'late';
        late.textContent = 'Added late by a script';
        document.body.append(late);
      }, 300);</script>`,
    '/hang': () => '<!doctype html><p>Waiting forever</p><img src="/never/image.png">',
  });
});

afterAll(async () => {
  await sut.close();
  await site.close();
  await rm(root, { recursive: true, force: true });
});

/** Copies corpus files into a task's input dir, named as a user would upload them. */
async function inputs(...files: string[]): Promise<EngineInput[]> {
  const dir = join(root, `in-${(runs += 1)}`);
  await mkdir(dir, { recursive: true });

  return Promise.all(
    files.map(async (file, n) => {
      const local = join(dir, `${n}${file.slice(file.lastIndexOf('.'))}`);
      await copyFile(file, local);
      const filename = basename(file);

      return { path: local, format: filename.split('.').pop() ?? '', filename, source: 'upload' };
    }),
  );
}

async function run(
  engine: ChromeEngine,
  job: Partial<EngineJob> & Pick<EngineJob, 'operation' | 'outputFormat'>,
) {
  const workDir = join(root, `run-${(runs += 1)}`);
  const outputDir = join(workDir, 'out');
  await mkdir(outputDir, { recursive: true });
  const result = await engine.run({
    inputs: [],
    siblings: [],
    assets: [],
    options: {},
    workDir,
    outputDir,
    deadlineMs: 30_000,
    ...job,
  });
  expect(await readdir(outputDir)).toEqual(result.files.map((f) => basename(f)));

  return result;
}

async function convertHtml(files: EngineInput[], outputFormat: string, options = {}) {
  const [first] = files;

  return run(sut, {
    operation: 'convert',
    inputs: first === undefined ? [] : [first],
    siblings: files,
    outputFormat,
    options,
  });
}

describe(ChromeEngine.name, () => {
  it('reports the Chromium version', async () => {
    expect(await sut.detect()).toEqual({
      version: expect.stringMatching(/^\d+\.\d+\.\d+\.\d+$/) as string,
    });
  });

  it('prints an uploaded page with the stylesheet uploaded beside it', async () => {
    const styled = await convertHtml(await inputs(INVOICE, INVOICE_CSS), 'pdf');
    const bare = await convertHtml(await inputs(INVOICE), 'pdf');
    const [styledPdf = '', barePdf = ''] = [styled.files[0], bare.files[0]];

    const text = pdfText(styledPdf);
    expect(text).toContain('Invoice number');
    expect(text).toContain('Website development');
    expect(text).toContain('€10,545.00');
    // The stylesheet's @page margin box and its green exist only when invoice.css was loaded.
    expect(text).toContain('Thank you!');
    expect(pdfText(barePdf)).not.toContain('Thank you!');
    expect(pdfPixelsNear(styledPdf, INVOICE_GREEN)).toBeGreaterThan(50);
    expect(pdfPixelsNear(barePdf, INVOICE_GREEN)).toBe(0);
    expect(pdfPages(styledPdf)).toBe(1);
  });

  it('prints the pages asked for, with a footer that numbers them', async () => {
    const { files } = await convertHtml(
      await inputs(join(CORPUS, 'web/pandoc-writer.html')),
      'pdf',
      { display_header_footer: true, pages: '1-2' },
    );
    const pdf = files[0] ?? '';
    expect(pdfPages(pdf)).toBe(2);
    const text = pdfText(pdf);
    expect(text).toContain('Pandoc Test Suite');
    expect(text).toMatch(/1\/\d+/);
    // The default footer does not show where the page lies on this server.
    expect(text).not.toContain(root);
    expect(pdfInfo(pdf)).toMatch(/Page size:.*\(A4\)/);
  });

  it('refuses pages that the document does not have', async () => {
    const { err } = await failure(convertHtml(await inputs(INVOICE), 'pdf', { pages: '3-4' }));
    expect(err.code).toBe('INVALID_DATA');
    expect(Object.keys(err.errors ?? {})).toEqual(['pages']);
  });

  it('takes PNG, JPEG and WebP screenshots of the window size asked for', async () => {
    const page = await inputs(INVOICE, INVOICE_CSS);
    const png = await convertHtml(page, 'png', {
      screenshot_width: 640,
      screenshot_height: 400,
      full_page: false,
    });
    const long = await inputs(join(CORPUS, 'web/pandoc-writer.html'));
    const jpg = await convertHtml(long, 'jpg', {
      screenshot_width: 500,
      full_page: true,
      quality: 60,
    });
    const webp = await convertHtml(page, 'webp', {
      screenshot_width: 320,
      screenshot_height: 240,
      full_page: false,
    });

    expect(imageInfo(png.files[0] ?? '')).toEqual({ format: 'PNG', width: 640, height: 400 });
    const full = imageInfo(jpg.files[0] ?? '');
    expect(full).toMatchObject({ format: 'JPEG', width: 500 });
    // The whole page is much taller than the 800-pixel window.
    expect(full.height).toBeGreaterThan(800);
    expect(imageInfo(webp.files[0] ?? '')).toEqual({ format: 'WEBP', width: 320, height: 240 });
  });

  it('renders the index page of a zipped site with its stylesheet', async () => {
    const dir = join(root, 'zips');
    await mkdir(dir, { recursive: true });
    const zip = join(dir, 'site.zip');
    await writeFile(
      zip,
      storedZip([
        { name: 'site/about.html', data: '<p>About page</p>' },
        {
          name: 'site/css/style.css',
          data: '@page { @bottom-center { content: "Styled from the zip" } }',
        },
        {
          name: 'site/index.html',
          data: '<link rel="stylesheet" href="css/style.css"><h1>Zipped index</h1>',
        },
      ]),
    );
    const { files } = await convertHtml(
      [{ path: zip, format: 'zip', filename: 'site.zip', source: 'upload' }],
      'pdf',
    );
    const text = pdfText(files[0] ?? '');
    expect(text).toContain('Zipped index');
    expect(text).toContain('Styled from the zip');
    expect(text).not.toContain('About page');
  });

  it('refuses a zip entry that would land outside the archive', async () => {
    const zip = join(root, 'zips', 'slip.zip');
    await writeFile(
      zip,
      storedZip([
        { name: 'index.html', data: '<p>hi</p>' },
        { name: '../../escaped.html', data: '<p>out</p>' },
      ]),
    );
    const { err } = await failure(
      convertHtml([{ path: zip, format: 'zip', filename: 'slip.zip', source: 'upload' }], 'pdf'),
    );
    expect(err.code).toBe('INVALID_DATA');
    expect(err.message).toContain('outside the archive');
    expect(await readdir(root)).not.toContain('escaped.html');
  });

  it('never lets an uploaded page read files outside its directory', async () => {
    const dir = join(root, 'hostile');
    await mkdir(dir, { recursive: true });
    const page = join(dir, 'hostile.html');
    await writeFile(
      page,
      `<h1>Hostile page</h1>
       <iframe src="file:///etc/passwd" width="600" height="300"></iframe>
       <iframe src="../../../../../../../../etc/passwd" width="600" height="300"></iframe>
       <img src="file:///etc/hostname">`,
    );
    const { files } = await convertHtml(
      [{ path: page, format: 'html', filename: 'hostile.html', source: 'upload' }],
      'pdf',
    );
    const text = pdfText(files[0] ?? '');
    expect(text).toContain('Hostile page');
    expect(text).not.toContain('root:x:');
  });

  it('captures a website with the headers asked for once its element appears', async () => {
    const before = site.seen.length;
    const { files } = await run(sut, {
      operation: 'capture-website',
      outputFormat: 'pdf',
      options: {
        url: `${site.origin}/page`,
        headers: { 'X-Token': 'tok-4711' },
        wait_for_element: '#late',
        wait_until: 'networkidle2',
      },
    });
    expect(basename(files[0] ?? '')).toBe('127.0.0.1.pdf');
    const text = pdfText(files[0] ?? '');
    expect(text).toContain('Served locally');
    expect(text).toContain('Token tok-4711');
    expect(text).toContain('Added late by a script');
    const page = site.seen.slice(before).find((r) => r.path === '/page');
    expect(page?.headers['x-token']).toBe('tok-4711');
  });

  it('refuses a private address when private URLs are not allowed', async () => {
    const strict = new ChromeEngine({ root: join(root, 'strict'), allowPrivateUrls: false });
    try {
      const before = site.seen.length;
      const { err } = await failure(
        run(strict, {
          operation: 'capture-website',
          outputFormat: 'png',
          options: { url: `${site.origin}/page` },
        }),
      );
      expect(err.code).toBe('URL_NOT_ALLOWED');
      expect(site.seen.length).toBe(before);
    } finally {
      await strict.close();
    }
  });

  it('names a wait_for_element that is not a selector', async () => {
    const { err } = await failure(
      convertHtml(await inputs(INVOICE), 'png', { wait_for_element: 'div[' }),
    );
    expect(err.code).toBe('INVALID_DATA');
    expect(Object.keys(err.errors ?? {})).toEqual(['wait_for_element']);
  });

  it('continues once wait_for_element matches an empty element, static or added later', async () => {
    const page = join(root, 'empty-elements.html');
    await writeFile(
      page,
      `<!doctype html><h1>Empty targets</h1><div id="empty"></div>
       <script>setTimeout(() => document.body.append(Object.assign(
         document.createElement('div'), { id: 'later' })), 300);</script>`,
    );
    for (const selector of ['#empty', '#later']) {
      const started = Date.now();
      const { files } = await convertHtml(
        [{ path: page, format: 'html', filename: 'empty.html', source: 'upload' }],
        'pdf',
        { wait_for_element: selector },
      );
      expect(pdfText(files[0] ?? '')).toContain('Empty targets');
      expect(Date.now() - started).toBeLessThan(10_000);
    }
  });

  it('ends a wait_for_element that never matches at its own bound, naming the field', async () => {
    const bounded = new ChromeEngine({
      root: join(root, 'bounded'),
      allowPrivateUrls: true,
      elementWaitMs: 1500,
    });
    try {
      const started = Date.now();
      const { err } = await failure(
        run(bounded, {
          operation: 'convert',
          inputs: await inputs(INVOICE),
          outputFormat: 'pdf',
          options: { wait_for_element: '#nowhere' },
        }),
      );
      expect(err.code).toBe('INVALID_DATA');
      expect(err.errors).toEqual({
        wait_for_element: ['No element matched "#nowhere" within 2 s of the page loading.'],
      });
      expect(Date.now() - started).toBeLessThan(20_000);
    } finally {
      await bounded.close();
    }
  });

  it('refuses a url that is not http or https', async () => {
    const { err } = await failure(
      run(sut, {
        operation: 'capture-website',
        outputFormat: 'pdf',
        options: { url: 'file:///etc/passwd' },
      }),
    );
    expect(err.code).toBe('INVALID_DATA');
    expect(err.errors).toEqual({ url: [expect.stringContaining('http or https') as string] });
  });

  it('ends a page that never finishes loading at the deadline', async () => {
    const { err } = await failure(
      run(sut, {
        operation: 'capture-website',
        outputFormat: 'pdf',
        options: { url: `${site.origin}/hang` },
        deadlineMs: 3000,
      }),
    );
    expect(err.code).toBe('ENGINE_TIMEOUT');
    expect(err.message).toContain('did not finish loading');

    // The browser is still good for the next task.
    const { files } = await convertHtml(await inputs(INVOICE), 'pdf');
    expect(pdfText(files[0] ?? '')).toContain('Invoice number');
  });

  it('ends a page whose script never returns at the deadline', async () => {
    const page = join(root, 'busy.html');
    await writeFile(page, '<p>Busy</p><script>for (;;) {}</script>');
    const { err } = await failure(
      run(sut, {
        operation: 'convert',
        inputs: [{ path: page, format: 'html', filename: 'busy.html', source: 'upload' }],
        outputFormat: 'png',
        deadlineMs: 2000,
      }),
    );
    expect(err.code).toBe('ENGINE_TIMEOUT');
  });

  it('stops a task when it is cancelled', async () => {
    const cancel = new AbortController();
    setTimeout(() => cancel.abort(), 500);
    const { err } = await failure(
      run(sut, {
        operation: 'capture-website',
        outputFormat: 'png',
        options: { url: `${site.origin}/hang` },
        signal: cancel.signal,
      }),
    );
    expect(err.code).toBe('ENGINE_CANCELLED');
  });

  it('starts a new browser when the old one died, and leaves no process after close', async () => {
    const dir = join(root, 'restart');
    const engine = new ChromeEngine({ root: dir, allowPrivateUrls: true });
    try {
      await run(engine, {
        operation: 'convert',
        inputs: await inputs(INVOICE),
        outputFormat: 'png',
      });
      const browsers = processesMentioning(dir);
      expect(browsers.length).toBeGreaterThan(0);
      browsers.forEach((pid) => process.kill(pid, 'SIGKILL'));
      expect(await eventually(() => processesMentioning(dir).length === 0, 5000)).toBe(true);

      const { files } = await run(engine, {
        operation: 'convert',
        inputs: await inputs(INVOICE),
        outputFormat: 'pdf',
      });
      expect(pdfText(files[0] ?? '')).toContain('Invoice number');
    } finally {
      await engine.close();
    }
    expect(await eventually(() => processesMentioning(dir).length === 0, 5000)).toBe(true);
  });
});

describe(EgressProxy.name, () => {
  /** Answers every name with 127.0.0.1, as a rebinding DNS server would. */
  const lookup = async () => [{ address: '127.0.0.1', family: 4 as const }];

  /** Sends one request through the proxy; resolves with the status, or null when cut off. */
  function viaProxy(proxy: EgressProxy, target: string, method = 'GET'): Promise<number | null> {
    const { port } = new URL(proxy.url);

    return new Promise((resolve) => {
      const req = http.request({ host: '127.0.0.1', port, method, path: target });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? null);
      });
      req.on('connect', (res, socket) => {
        socket.destroy();
        resolve(res.statusCode ?? null);
      });
      req.on('error', () => resolve(null));
      req.end();
    });
  }

  it('refuses hosts that resolve to private addresses, for http and for tunnels', async () => {
    const proxy = await EgressProxy.start({ allowPrivate: false, lookup });
    try {
      const before = site.seen.length;
      const port = new URL(site.origin).port;
      expect(await viaProxy(proxy, `http://rebound.test:${port}/page`)).toBeNull();
      expect(await viaProxy(proxy, `rebound.test:${port}`, 'CONNECT')).toBe(403);
      expect(proxy.incidents).toEqual([
        { host: 'rebound.test', kind: 'refused' },
        { host: 'rebound.test', kind: 'refused' },
      ]);
      expect(site.seen.length).toBe(before);
    } finally {
      await proxy.close();
    }
  });

  it('connects to the address it checked when private addresses are allowed', async () => {
    const proxy = await EgressProxy.start({ allowPrivate: true, lookup });
    try {
      const port = new URL(site.origin).port;
      expect(await viaProxy(proxy, `http://intranet.test:${port}/page`)).toBe(200);
      expect(site.seen.at(-1)?.headers.host).toBe(`intranet.test:${port}`);
      expect(await viaProxy(proxy, `intranet.test:${port}`, 'CONNECT')).toBe(200);
      expect(proxy.incidents).toEqual([]);
    } finally {
      await proxy.close();
    }
  });
});
