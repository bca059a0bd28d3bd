// Helpers of the poppler and mupdf tests: corpus paths, engine jobs, independent looks at PDFs
// (pdfinfo, pdftotext) and images (sharp), and documents built for a case (CBZ, XPS, FB2, PDFs
// with odd page boxes).
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

import sharp from 'sharp';

import type { Engine, EngineJob, EngineLogger } from '../src/index';
import { CORPUS, engineJob, inputOf, storedZip, type JobSpec } from './support';

export { pdfPages } from './support';

const run = promisify(execFile);

export const PDF = join(CORPUS, 'pdf');
export const EBOOK = join(CORPUS, 'ebook');
export const KIDS = join(PDF, "kids' stories & tales [v2] 100%.pdf");
export const VICKSBURG = join(PDF, 'Seige_of_Vicksburg_Sample_OCR.pdf');
export const USER_PASSWORD = join(PDF, 'libreoffice-writer-password.pdf');
export const OWNER_ONLY = join(PDF, 'secHandler.pdf');
export const UTF8_PASSWORD = join(PDF, 'issue6010_2.pdf');
export const TINY_PAGE = join(PDF, 'veraPDF test suite 6-1-13-t09-pass-a.pdf');
export const ALICE = join(EBOOK, 'alice.epub');
export const MOBI = join(EBOOK, 'testbook.mobi');

/** A job as the worker builds it, in fresh work and output dirs under `root`. */
export async function jobFor(
  root: string,
  input: string,
  operation: string,
  outputFormat: string | null,
  options: Record<string, unknown> = {},
  extra: Partial<JobSpec> = {},
): Promise<EngineJob> {
  return engineJob(root, { operation, inputs: [inputOf(input)], outputFormat, options, ...extra });
}

/** Runs `engine` on a job made by `jobFor`; the result comes with its job. */
export async function runOn(
  engine: Engine,
  root: string,
  input: string,
  operation: string,
  outputFormat: string | null,
  options: Record<string, unknown> = {},
) {
  const job = await jobFor(root, input, operation, outputFormat, options);
  const result = await engine.run(job);

  return { ...result, job };
}

/** pdftotext of the source, whitespace collapsed: what a text output must contain. */
export async function pdfText(file: string, first: number, last = first): Promise<string> {
  const { stdout } = await run('pdftotext', ['-f', String(first), '-l', String(last), file, '-']);

  return collapse(stdout);
}

const ENTITIES: Record<string, string> = {
  '&#160;': ' ',
  '&nbsp;': ' ',
  '&amp;': '&',
  '&lt;': '<',
  '&gt;': '>',
  '&quot;': '"',
  '&#39;': "'",
};

/** The text of an HTML document: tags dropped, the entities our engines write decoded. */
export function htmlText(html: string): string {
  return collapse(
    html
      .replace(/<[^>]*>/g, ' ')
      .replace(/&#160;|&nbsp;|&amp;|&lt;|&gt;|&quot;|&#39;/g, (e) => ENTITIES[e] ?? e),
  );
}

export function collapse(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

export async function imageInfo(
  file: string,
): Promise<{ format: string; width: number; height: number }> {
  const meta = await sharp(file).metadata();

  return { format: meta.format, width: meta.width, height: meta.height };
}

/** The mean colour of an image, to tell pages apart without comparing encoder bytes. */
export async function meanColour(file: string): Promise<number[]> {
  const { channels } = await sharp(file).stats();

  return channels.slice(0, 3).map((c) => Math.round(c.mean));
}

/** A logger that keeps every line, to check what engines log. */
export function recordingLogger(): EngineLogger & { lines: unknown[] } {
  const lines: unknown[] = [];
  const keep = (obj: object, msg?: string) => lines.push({ ...obj, msg });

  return { lines, debug: keep, info: keep, warn: keep, error: keep };
}

/** A PDF copy of `source` whose first page has these boxes and rotation, made with mutool. */
export async function withPageBoxes(
  source: string,
  target: string,
  boxes: { mediaBox?: number[]; cropBox?: number[]; rotate?: number },
): Promise<string> {
  const script = `${target}.js`;
  const puts = [
    boxes.mediaBox ? `page.put("MediaBox", ${JSON.stringify(boxes.mediaBox)});` : '',
    boxes.cropBox ? `page.put("CropBox", ${JSON.stringify(boxes.cropBox)});` : '',
    boxes.rotate === undefined ? '' : `page.put("Rotate", ${boxes.rotate});`,
  ].join('\n');
  await writeFile(
    script,
    `var doc = new PDFDocument(scriptArgs[0]);\nvar page = doc.findPage(0);\n${puts}\ndoc.save(scriptArgs[1]);\n`,
  );
  await run('mutool', ['run', script, source, target]);

  return target;
}

/** `copies` copies of `source` in one PDF (pdfunite). */
export async function concatenated(
  source: string,
  copies: number,
  target: string,
): Promise<string> {
  await run('pdfunite', [...Array<string>(copies).fill(source), target]);

  return target;
}

/** A comic book of solid-colour pages of the given sizes. */
export async function comicBook(
  target: string,
  pages: { width: number; height: number; colour: string }[],
): Promise<string> {
  const images = await Promise.all(
    pages.map((p) =>
      sharp({ create: { width: p.width, height: p.height, channels: 3, background: p.colour } })
        .png()
        .toBuffer(),
    ),
  );

  return comicBookOf(target, images);
}

/** A comic book of these PNG pages. */
export async function comicBookOf(target: string, pages: Buffer[]): Promise<string> {
  const entries = pages.map((data, i) => ({
    name: `page${String(i + 1).padStart(2, '0')}.png`,
    data,
  }));
  await writeFile(target, storedZip(entries));

  return target;
}

/** An XPS document of `pages` US Letter pages (816 x 1056 units of 1/96 inch), each a blue box. */
export async function xpsDocument(target: string, pages: number): Promise<string> {
  const ns = 'http://schemas.microsoft.com/xps/2005/06';
  const numbers = Array.from({ length: pages }, (_, i) => i + 1);
  await writeFile(
    target,
    storedZip([
      {
        name: '[Content_Types].xml',
        data:
          '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">' +
          '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>' +
          '<Default Extension="fdseq" ContentType="application/vnd.ms-package.xps-fixeddocumentsequence+xml"/>' +
          '<Default Extension="fdoc" ContentType="application/vnd.ms-package.xps-fixeddocument+xml"/>' +
          '<Default Extension="fpage" ContentType="application/vnd.ms-package.xps-fixedpage+xml"/></Types>',
      },
      {
        name: '_rels/.rels',
        data:
          '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">' +
          '<Relationship Id="r1" Type="http://schemas.microsoft.com/xps/2005/06/fixedrepresentation" Target="/FixedDocumentSequence.fdseq"/></Relationships>',
      },
      {
        name: 'FixedDocumentSequence.fdseq',
        data: `<FixedDocumentSequence xmlns="${ns}"><DocumentReference Source="/Documents/1/FixedDocument.fdoc"/></FixedDocumentSequence>`,
      },
      {
        name: 'Documents/1/FixedDocument.fdoc',
        data: `<FixedDocument xmlns="${ns}">${numbers.map((n) => `<PageContent Source="/Documents/1/Pages/${n}.fpage"/>`).join('')}</FixedDocument>`,
      },
      ...numbers.map((n) => ({
        name: `Documents/1/Pages/${n}.fpage`,
        data: `<FixedPage xmlns="${ns}" Width="816" Height="1056" xml:lang="en"><Path Data="M 96,96 L 720,96 L 720,480 L 96,480 Z" Fill="#FF3366CC"/></FixedPage>`,
      })),
    ]),
  );

  return target;
}

export async function fictionBook(target: string, sentence: string): Promise<string> {
  await writeFile(
    target,
    '<?xml version="1.0" encoding="UTF-8"?>\n<FictionBook xmlns="http://www.gribuser.ru/xml/fictionbook/2.0">' +
      '<description><title-info><book-title>Test book</book-title></title-info></description>' +
      `<body><section><title><p>Chapter one</p></title><p>${sentence}</p></section></body></FictionBook>\n`,
  );

  return target;
}

export async function readText(file: string): Promise<string> {
  return readFile(file, 'utf8');
}
