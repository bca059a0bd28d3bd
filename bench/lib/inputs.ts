// The files every contender of a section gets: the corpus's office documents plus generated ones,
// generated HTML pages and images. Generated files are made once and kept in bench/.cache.
import fs from 'node:fs/promises';
import path from 'node:path';

import sharp from 'sharp';

import { run } from './proc';

export const BENCH_DIR = path.resolve(import.meta.dirname, '..');
export const CACHE = path.join(BENCH_DIR, '.cache');
export const CORPUS = path.resolve(BENCH_DIR, '../../shared/corpus');

/** Bump when a generator changes, so old caches are made again. */
const GENERATION = 'v2';

export interface InputFile {
  /** Name given to every contender (plain ASCII, so no tool trips on it). */
  name: string;
  path: string;
  bytes: number;
  /** Where it came from: a corpus path, or what was generated. */
  origin: string;
}

/** `count` office documents: the corpus's (password-protected ones left out), then generated. */
export async function officeInputs(count: number): Promise<InputFile[]> {
  const dir = await cacheDir('office');
  const manifest = await fs.readFile(path.join(CORPUS, 'MANIFEST.tsv'), 'utf8');
  const corpus = manifest
    .split('\n')
    .slice(1)
    .map((line) => line.split('\t'))
    .filter(
      ([file, , , , , , , why]) => file?.startsWith('office/') && !/password/i.test(why ?? ''),
    )
    .map(([file]) => file!);
  const files: InputFile[] = [];
  for (const [i, file] of corpus.slice(0, count).entries()) {
    const name = `corpus-${String(i + 1).padStart(2, '0')}${path.extname(file).toLowerCase()}`;
    const dest = path.join(dir, name);
    await fs.copyFile(path.join(CORPUS, file), dest);
    files.push({ name, path: dest, bytes: (await fs.stat(dest)).size, origin: file });
  }

  const generated = Math.max(0, count - files.length);
  const pages = Array.from({ length: generated }, (_, i) =>
    generated === 1 ? 1 : 1 + Math.round((i * 19) / (generated - 1)),
  );
  const made = await generateDocuments(dir, pages);

  return [...files, ...made];
}

/** `count` HTML pages of 1-10 printed pages; some with CSS layout and inline images. */
export async function htmlInputs(count: number): Promise<InputFile[]> {
  const dir = await cacheDir('html');
  const files: InputFile[] = [];
  const pandoc = path.join(CORPUS, 'web/pandoc-writer.html');
  const fromCorpus = await fs.stat(pandoc).then(
    () => true,
    () => false,
  );
  if (fromCorpus && count > 0) {
    const dest = path.join(dir, 'corpus-pandoc-writer.html');
    await fs.copyFile(pandoc, dest);
    files.push({
      name: path.basename(dest),
      path: dest,
      bytes: (await fs.stat(dest)).size,
      origin: 'web/pandoc-writer.html',
    });
  }

  const images = await Promise.all(
    [0, 1, 2].map(async (i) =>
      sharp(await picture(480, 300, i))
        .jpeg({ quality: 75 })
        .toBuffer(),
    ),
  );
  for (let i = files.length; i < count; i++) {
    const name = `page-${String(i).padStart(2, '0')}.html`;
    const dest = path.join(dir, name);
    const kind = (['article', 'table', 'styled', 'list'] as const)[i % 4]!;
    if (!(await exists(dest))) {
      await fs.writeFile(dest, htmlPage(i, kind, images));
    }
    files.push({
      name,
      path: dest,
      bytes: (await fs.stat(dest)).size,
      origin: `generated ${kind}`,
    });
  }

  return files;
}

/** `count` photo-like JPEG and PNG files, 1024 to 2048 pixels wide. */
export async function imageInputs(count: number): Promise<InputFile[]> {
  const dir = await cacheDir('images');
  const files: InputFile[] = [];
  for (let i = 0; i < count; i++) {
    const format = i % 2 === 0 ? 'jpg' : 'png';
    const width = 1024 + ((i * 137) % 1025);
    const height = Math.round(width * (i % 3 === 0 ? 0.75 : 0.66));
    const name = `image-${String(i).padStart(3, '0')}.${format}`;
    const dest = path.join(dir, name);
    if (!(await exists(dest))) {
      const image = sharp(await picture(width, height, i));
      await (format === 'jpg' ? image.jpeg({ quality: 88 }) : image.png()).toFile(dest);
    }
    files.push({
      name,
      path: dest,
      bytes: (await fs.stat(dest)).size,
      origin: `generated ${width}x${height}`,
    });
  }

  return files;
}

async function cacheDir(kind: string): Promise<string> {
  const dir = path.join(CACHE, `${kind}-${GENERATION}`);
  await fs.mkdir(dir, { recursive: true });
  return dir;
}

/** DOCX and ODT files of the given page counts, written by LibreOffice from flat ODF text. */
async function generateDocuments(dir: string, pages: readonly number[]): Promise<InputFile[]> {
  const wanted = pages.map((n, i) => {
    const ext = i % 2 === 0 ? 'docx' : 'odt';
    const name = `gen-${String(i + 1).padStart(2, '0')}-${n}p.${ext}`;
    return { n, i, ext, name, dest: path.join(dir, name) };
  });
  const missing = [];
  for (const w of wanted) {
    if (!(await exists(w.dest))) {
      missing.push(w);
    }
  }

  if (missing.length > 0) {
    const src = path.join(dir, 'src');
    await fs.mkdir(src, { recursive: true });
    for (const ext of ['docx', 'odt']) {
      const batch = missing.filter((w) => w.ext === ext);
      if (batch.length === 0) {
        continue;
      }
      const sources = [];
      for (const w of batch) {
        const file = path.join(src, w.name.replace(/\.\w+$/, '.fodt'));
        await fs.writeFile(file, flatOdt(w.n, w.i));
        sources.push(file);
      }
      const result = await run(
        '/usr/bin/soffice',
        [
          '--headless',
          '--norestore',
          `-env:UserInstallation=file://${path.join(CACHE, 'profile-generate')}`,
          '--convert-to',
          ext,
          '--outdir',
          dir,
          ...sources,
        ],
        { timeoutMs: 300_000 },
      );
      if (result.code !== 0) {
        throw new Error(`soffice could not write the generated ${ext} files: ${result.stderr}`);
      }
    }
    await fs.rm(src, { recursive: true, force: true });
  }

  return Promise.all(
    wanted.map(async (w) => ({
      name: w.name,
      path: w.dest,
      bytes: (await fs.stat(w.dest)).size,
      origin: `generated ${w.n} page(s)`,
    })),
  );
}

function flatOdt(pages: number, seed: number): string {
  const random = prng(seed + 1);
  const body: string[] = [];
  for (let p = 0; p < pages; p++) {
    const style = p === 0 ? '' : ' text:style-name="PageBreak"';
    body.push(`<text:h text:outline-level="1"${style}>Section ${p + 1}</text:h>`);
    for (let k = 0; k < 3; k++) {
      body.push(`<text:p>${words(random, 55)}</text:p>`);
    }
    if (p % 3 === 1) {
      const rows = Array.from(
        { length: 5 },
        (_, r) =>
          `<table:table-row>${[0, 1, 2]
            .map(
              (c) =>
                `<table:table-cell><text:p>${r === 0 ? `Col ${c + 1}` : (random() * 1000).toFixed(2)}</text:p></table:table-cell>`,
            )
            .join('')}</table:table-row>`,
      ).join('');
      body.push(
        `<table:table table:name="T${p}"><table:table-column table:number-columns-repeated="3"/>${rows}</table:table>`,
      );
    }
  }

  return `<?xml version="1.0" encoding="UTF-8"?>
<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0" office:version="1.3" office:mimetype="application/vnd.oasis.opendocument.text">
<office:automatic-styles><style:style style:name="PageBreak" style:family="paragraph"><style:paragraph-properties fo:break-before="page"/></style:style></office:automatic-styles>
<office:body><office:text>${body.join('\n')}</office:text></office:body>
</office:document>
`;
}

function htmlPage(
  i: number,
  kind: 'article' | 'table' | 'styled' | 'list',
  images: readonly Buffer[],
): string {
  const random = prng(1000 + i);
  const size = 1 + (i % 10);
  const parts: string[] = [`<h1>Page ${i}: ${kind}</h1>`];
  switch (kind) {
    case 'article':
      for (let k = 0; k < size * 6; k++) {
        parts.push(k % 6 === 0 ? `<h2>Part ${k / 6 + 1}</h2>` : `<p>${words(random, 70)}</p>`);
      }
      break;
    case 'table': {
      const rows = Array.from(
        { length: size * 30 },
        (_, r) =>
          `<tr><td>${r + 1}</td><td>${words(random, 3)}</td><td>${(random() * 10_000).toFixed(2)}</td><td>${words(random, 6)}</td></tr>`,
      );
      parts.push(
        `<table><thead><tr><th>#</th><th>Item</th><th>Amount</th><th>Note</th></tr></thead><tbody>${rows.join('')}</tbody></table>`,
      );
      break;
    }
    case 'styled':
      for (let k = 0; k < 2 + (i % 5); k++) {
        const img = images[(i + k) % images.length]!.toString('base64');
        parts.push(
          `<section class="card"><img src="data:image/jpeg;base64,${img}" alt=""><div><h2>Card ${k + 1}</h2><p>${words(random, 60)}</p></div></section>`,
        );
      }
      break;
    case 'list':
      parts.push(
        `<ol>${Array.from({ length: size * 25 }, () => `<li>${words(random, 14)}</li>`).join('')}</ol>`,
      );
      break;
  }

  const css =
    kind === 'styled'
      ? `body{font-family:'DejaVu Serif',serif;margin:0;background:#f6f3ee;color:#222}
h1{background:linear-gradient(90deg,#20466b,#4d8fc4);color:#fff;padding:18px 24px;margin:0 0 12px}
.card{display:flex;gap:16px;margin:12px 24px;padding:12px;background:#fff;border-radius:10px;box-shadow:0 2px 6px rgba(0,0,0,.15);break-inside:avoid}
.card img{width:240px;height:150px;object-fit:cover;border-radius:6px}
h2{font-family:'DejaVu Sans',sans-serif;color:#20466b;margin:0 0 6px}`
      : `body{font-family:sans-serif;margin:24px;line-height:1.4}
table{border-collapse:collapse;width:100%}td,th{border:1px solid #999;padding:3px 6px}
tr:nth-child(even){background:#eef}`;

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Page ${i}</title><style>${css}</style></head>
<body>${parts.join('\n')}</body></html>
`;
}

/** A picture with gradients, shapes and grain: JPEG and PNG encoders have real work to do. */
async function picture(width: number, height: number, seed: number): Promise<Buffer> {
  const random = prng(seed + 7);
  const shapes = Array.from({ length: 24 }, () => {
    const hue = Math.floor(random() * 360);
    return `<circle cx="${random() * width}" cy="${random() * height}" r="${(0.05 + random() * 0.25) * width}" fill="hsl(${hue},60%,55%)" fill-opacity="0.55"/>`;
  }).join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="hsl(${(seed * 37) % 360},70%,35%)"/><stop offset="1" stop-color="hsl(${(seed * 37 + 160) % 360},70%,75%)"/></linearGradient></defs>
<rect width="100%" height="100%" fill="url(#g)"/>${shapes}</svg>`;
  const grain = await sharp({
    create: {
      width,
      height,
      channels: 3,
      background: '#808080',
      noise: { type: 'gaussian', mean: 128, sigma: 6 },
    },
  })
    .png()
    .toBuffer();

  return sharp(Buffer.from(svg))
    .composite([{ input: grain, blend: 'soft-light' }])
    .removeAlpha()
    .png()
    .toBuffer();
}

/** Deterministic pseudo-random numbers (mulberry32), so a cache made again is the same. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = (
  'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut ' +
  'labore et dolore magna aliqua enim ad minim veniam quis nostrud exercitation ullamco laboris ' +
  'nisi aliquip ex ea commodo consequat duis aute irure in reprehenderit voluptate velit esse'
).split(' ');

function words(random: () => number, n: number): string {
  return Array.from({ length: n }, () => WORDS[Math.floor(random() * WORDS.length)]!).join(' ');
}

async function exists(file: string): Promise<boolean> {
  return fs.stat(file).then(
    () => true,
    () => false,
  );
}
