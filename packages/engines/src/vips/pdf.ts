// Images to PDF with pdf-lib: one page per image (per page of a TIFF), the image drawn at 72 DPI
// or fitted to A4 or Letter.
import { readFile, writeFile } from 'node:fs/promises';

import { PDFDocument } from 'pdf-lib';

import type { Sizing } from './options';
import { resizeOptions } from './options';
import type { VipsRun } from './run';
import { decodes, pipeline, type Source } from './source';

export type PageSize = 'image' | 'a4' | 'letter';

/** Portrait page sizes in PDF points. */
const PAPER: Readonly<Record<Exclude<PageSize, 'image'>, [number, number]>> = {
  a4: [595.28, 841.89],
  letter: [612, 792],
};

export interface PdfOptions {
  sizing: Sizing;
  autoOrient: boolean;
  strip: boolean;
  quality: number | undefined;
  pageSize: PageSize;
  background: string;
}

/** JPEG quality of pages re-encoded for the PDF when none is asked. */
const PDF_QUALITY = 90;

export async function imagesToPdf(
  run: VipsRun,
  source: Source,
  inputPath: string,
  out: string,
  options: PdfOptions,
): Promise<void> {
  const doc = await PDFDocument.create();
  doc.setProducer('convertd');
  doc.setCreator('convertd (vips)');
  const pages = source.kind === 'document' ? [...Array(source.pages).keys()] : [source.primary];
  for (const number of pages) {
    const image = await pageImage(run, source, inputPath, number, options);
    const embedded =
      image.kind === 'jpg' ? await doc.embedJpg(image.bytes) : await doc.embedPng(image.bytes);
    const { width, height } = embedded;
    if (options.pageSize === 'image') {
      doc.addPage([width, height]).drawImage(embedded, { x: 0, y: 0, width, height });
      continue;
    }
    const [short, long] = PAPER[options.pageSize];
    const [pw, ph] = width > height ? [long, short] : [short, long];
    const scale = Math.min(pw / width, ph / height);
    const w = width * scale;
    const h = height * scale;
    doc
      .addPage([pw, ph])
      .drawImage(embedded, { x: (pw - w) / 2, y: (ph - h) / 2, width: w, height: h });
  }
  run.remainingMs();
  await writeFile(out, await doc.save());
}

interface PageImage {
  kind: 'jpg' | 'png';
  bytes: Uint8Array;
}

async function pageImage(
  run: VipsRun,
  source: Source,
  inputPath: string,
  page: number,
  options: PdfOptions,
): Promise<PageImage> {
  const resize = resizeOptions(options.sizing);
  const turned = options.autoOrient && source.orientation !== 1;
  // A plain sRGB JPEG goes in as it is: no second lossy pass, and the PDF is no larger than the
  // file. PDF readers ignore EXIF orientation and embedded profiles, hence the conditions.
  if (
    source.format === 'jpeg' &&
    source.kind === 'single' &&
    !resize &&
    !turned &&
    !source.cmyk &&
    !source.hasProfile &&
    !options.strip &&
    options.quality === undefined
  ) {
    const bytes = await readFile(inputPath);
    if (isPlainJpeg(bytes)) {
      return { kind: 'jpg', bytes };
    }
  }

  const pipe = pipeline(run, source, page);
  if (options.autoOrient) {
    pipe.autoOrient();
  }
  if (resize) {
    pipe.resize(resize);
  }
  // Transparency needs PNG (pdf-lib turns its alpha into a soft mask); anything else is a JPEG.
  if (source.hasAlpha) {
    const bytes = await run.step(pipe.png().toBuffer(), decodes(run, source));
    return { kind: 'png', bytes };
  }
  const bytes = await run.step(
    pipe
      .flatten({ background: options.background })
      .jpeg({ quality: options.quality ?? PDF_QUALITY })
      .toBuffer(),
    decodes(run, source),
  );

  return { kind: 'jpg', bytes };
}

/**
 * A baseline or progressive Huffman JPEG with three or one colour components: what every PDF
 * reader's DCT decoder takes. Arithmetic-coded and lossless JPEGs are re-encoded instead.
 */
export function isPlainJpeg(bytes: Uint8Array): boolean {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 2;
  if (view.length < 4 || view.readUInt16BE(0) !== 0xffd8) {
    return false;
  }
  while (at + 4 <= view.length) {
    if (view[at] !== 0xff) {
      return false;
    }
    const marker = view[at + 1] ?? 0;
    if (marker === 0xff) {
      at += 1;
      continue;
    }
    const length = view.readUInt16BE(at + 2);
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      const components = view[at + 9];
      return (
        (marker === 0xc0 || marker === 0xc1 || marker === 0xc2) &&
        (components === 3 || components === 1)
      );
    }
    at += 2 + length;
  }

  return false;
}
