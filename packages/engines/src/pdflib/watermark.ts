// Text and image watermarks. Sizes, margins and positions are in points (1/72 inch) on the page as
// it is shown: its crop box, turned by its /Rotate, in units of its /UserUnit.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { watermarkSourceErrors } from '@convertd/api';
import { AppError } from '@convertd/errors';
import {
  concatTransformationMatrix,
  PDFArray,
  type PDFDocument,
  type PDFImage,
  PDFName,
  PDFNumber,
  type PDFPage,
  type PDFRef,
  popGraphicsState,
  pushGraphicsState,
  rgb,
  type RGB,
  rotateDegrees,
  scale,
  translate,
} from 'pdf-lib';

import type { EngineInput, EngineJob } from '../engine';
import { pagesOf } from '../pdf/pages';
import { type Guard, loadPdf, reading, savePdf } from './document';
import { chooseFace, type TextFace } from './fonts';
import { outputName, single } from './page-tools';

interface Placement {
  vertical: 'top' | 'center' | 'bottom';
  horizontal: 'left' | 'center' | 'right';
  marginV: number;
  marginH: number;
  /** Degrees clockwise around the mark's centre. */
  rotation: number;
  /** 0..1 */
  opacity: number;
}

interface TextMark {
  lines: string[];
  face: TextFace;
  color: RGB;
  align: 'left' | 'center' | 'right';
  /** Points, or the share of the page width the widest line takes. */
  size: { points: number } | { pageShare: number };
}

interface ImageMark {
  image: PDFImage;
  width?: number;
  height?: number;
  pageShare?: number;
}

export async function watermark(job: EngineJob, guard: Guard): Promise<string[]> {
  const input = single(job);
  const o = job.options;
  const missing = watermarkSourceErrors(o);
  if (missing) {
    throw new AppError('INVALID_DATA', { errors: missing });
  }
  const text = cleanText(o.text);
  const wantsImage = typeof o.image === 'string' && o.image !== '';
  if (text === '' && !wantsImage) {
    // Only characters that cleanText drops.
    throw new AppError('INVALID_DATA', {
      errors: { text: ['The text has no character that can be drawn.'] },
    });
  }
  const color = colorOf(o.font_color);
  const placement: Placement = {
    vertical: enumOf(o.position_vertical, ['top', 'center', 'bottom'], 'center'),
    horizontal: enumOf(o.position_horizontal, ['left', 'center', 'right'], 'center'),
    marginV: numberOf(o.margin_vertical, 25),
    marginH: numberOf(o.margin_horizontal, 25),
    rotation: numberOf(o.rotation, 0),
    opacity: Math.min(100, Math.max(0, numberOf(o.opacity, 100))) / 100,
  };
  const below = o.layer === 'below';

  const doc = await loadPdf(input, guard);
  const pages = pagesOf(o.pages, doc.getPageCount());
  const image = wantsImage ? await imageMark(doc, job) : undefined;
  let textMark: TextMark | undefined;
  if (text !== '') {
    const face = await chooseFace(doc, typeof o.font_name === 'string' ? o.font_name : '', text);
    if (!face) {
      throw new AppError('INVALID_DATA', {
        errors: { text: ['The text has characters that no font on this server can draw.'] },
      });
    }
    const percent = numberOf(o.font_width_percent, 0);
    textMark = {
      lines: text.split('\n'),
      face,
      color,
      align: enumOf(o.font_align, ['left', 'center', 'right'], 'center'),
      size: percent > 0 ? { pageShare: percent / 100 } : { points: numberOf(o.font_size, 40) },
    };
  }

  const all = await reading(input, () => doc.getPages());
  for (const n of pages) {
    guard.check();
    await reading(input, () =>
      stampPage(doc, all[n - 1]!, { image, text: textMark, placement, below }),
    );
  }
  job.logger?.debug({ engine: 'pdflib', pages: pages.length, below }, 'watermark drawn');

  return [await savePdf(doc, join(job.outputDir, outputName(input)), guard)];
}

function stampPage(
  doc: PDFDocument,
  page: PDFPage,
  mark: { image?: ImageMark; text?: TextMark; placement: Placement; below: boolean },
): void {
  // pdf-lib wraps the existing content in q/Q on first use; what it adds after that is ours.
  page.node.normalize();
  const before = new Set(contentRefs(page));

  const box = page.getCropBox();
  // /Rotate must be a multiple of 90; readers round anything else, and so do we.
  const quarter = Math.round(page.getRotation().angle / 90);
  const turn = ((((quarter % 4) + 4) % 4) * 90) as 0 | 90 | 180 | 270;
  const unit = userUnit(page);
  const [w, h] = turn % 180 === 0 ? [box.width, box.height] : [box.height, box.width];
  const shown = { width: w * unit, height: h * unit };

  page.pushOperators(
    pushGraphicsState(),
    concatTransformationMatrix(...shownToUser(box, turn)),
    scale(1 / unit, 1 / unit),
  );
  if (mark.image) {
    drawImage(page, mark.image, shown, mark.placement);
  }
  if (mark.text) {
    drawText(page, mark.text, shown, mark.placement);
  }
  page.pushOperators(popGraphicsState());

  if (mark.below) {
    const refs = contentRefs(page);
    const ours = refs.filter((r) => !before.has(r));
    const theirs = refs.filter((r) => before.has(r));
    page.node.set(PDFName.Contents, doc.context.obj([...ours, ...theirs]));
  }
}

function contentRefs(page: PDFPage): PDFRef[] {
  const contents = page.node.Contents();
  if (!(contents instanceof PDFArray)) {
    return [];
  }

  return contents.asArray() as PDFRef[];
}

/** Maps the page as shown (origin bottom left, after /Rotate) onto its user space. */
function shownToUser(
  box: { x: number; y: number; width: number; height: number },
  turn: 0 | 90 | 180 | 270,
): [number, number, number, number, number, number] {
  const { x, y, width, height } = box;
  switch (turn) {
    case 0:
      return [1, 0, 0, 1, x, y];
    case 90:
      return [0, 1, -1, 0, x + width, y];
    case 180:
      return [-1, 0, 0, -1, x + width, y + height];
    case 270:
      return [0, -1, 1, 0, x, y + height];
  }
}

function userUnit(page: PDFPage): number {
  const value = page.node.lookupMaybe(PDFName.of('UserUnit'), PDFNumber)?.asNumber();

  return value !== undefined && value > 0 ? value : 1;
}

/** Runs `draw` with the origin at the bottom left of a w x h box placed and turned on the page. */
function inBox(
  page: PDFPage,
  size: { w: number; h: number },
  shown: { width: number; height: number },
  p: Placement,
  draw: () => void,
): void {
  const x =
    p.horizontal === 'left'
      ? p.marginH
      : p.horizontal === 'right'
        ? shown.width - p.marginH - size.w
        : (shown.width - size.w) / 2;
  const y =
    p.vertical === 'bottom'
      ? p.marginV
      : p.vertical === 'top'
        ? shown.height - p.marginV - size.h
        : (shown.height - size.h) / 2;
  page.pushOperators(
    pushGraphicsState(),
    translate(x + size.w / 2, y + size.h / 2),
    // PDF turns counter-clockwise; the option is clockwise, as page rotations are.
    rotateDegrees(-p.rotation),
    translate(-size.w / 2, -size.h / 2),
  );
  draw();
  page.pushOperators(popGraphicsState());
}

function drawImage(
  page: PDFPage,
  mark: ImageMark,
  shown: { width: number; height: number },
  p: Placement,
): void {
  const ratio = mark.image.height / mark.image.width;
  let w: number;
  let h: number;
  if (mark.pageShare !== undefined) {
    w = shown.width * mark.pageShare;
    h = mark.height ?? w * ratio;
  } else if (mark.width !== undefined || mark.height !== undefined) {
    w = mark.width ?? (mark.height ?? 0) / ratio;
    h = mark.height ?? w * ratio;
  } else {
    // An image's pixels as points, shrunk to fit inside the margins when it is larger.
    const room = {
      w: Math.max(1, shown.width - 2 * p.marginH),
      h: Math.max(1, shown.height - 2 * p.marginV),
    };
    const fit = Math.min(1, room.w / mark.image.width, room.h / mark.image.height);
    w = mark.image.width * fit;
    h = mark.image.height * fit;
  }

  inBox(page, { w, h }, shown, p, () => {
    page.drawImage(mark.image, {
      x: 0,
      y: 0,
      width: w,
      height: h,
      ...(p.opacity < 1 ? { opacity: p.opacity } : {}),
    });
  });
}

function drawText(
  page: PDFPage,
  mark: TextMark,
  shown: { width: number; height: number },
  p: Placement,
): void {
  const { face, lines } = mark;
  const widest = Math.max(...lines.map((line) => face.widthOf(line, 1)));
  const size =
    'points' in mark.size
      ? mark.size.points
      : widest > 0
        ? (shown.width * mark.size.pageShare) / widest
        : 40;
  const ascent = face.ascent(size);
  const lineHeight = size * 1.2;
  const w = widest * size;
  const h = ascent + face.descent(size) + (lines.length - 1) * lineHeight;
  const opacity = p.opacity < 1 ? { opacity: p.opacity } : {};

  inBox(page, { w, h }, shown, p, () => {
    for (const [i, line] of lines.entries()) {
      const lineWidth = face.widthOf(line, size);
      const x =
        mark.align === 'left' ? 0 : mark.align === 'right' ? w - lineWidth : (w - lineWidth) / 2;
      const command = face.draw(line, { x, y: h - ascent - i * lineHeight, size });
      if (command.kind === 'text') {
        const { text, font, x: tx, y: ty, size: ts } = command;
        page.drawText(text, { x: tx, y: ty, size: ts, font, color: mark.color, ...opacity });
      } else if (command.svg !== '') {
        const { svg, x: px, y: py, scale: ps } = command;
        page.drawSvgPath(svg, { x: px, y: py, scale: ps, color: mark.color, ...opacity });
      }
    }
  });
}

/** The watermark image: the file of the task that `image` names, which the worker hands over. */
async function imageMark(doc: PDFDocument, job: EngineJob): Promise<ImageMark> {
  const [asset] = job.assets;
  if (!asset) {
    throw new AppError('INVALID_DATA', {
      errors: { image: ['The image must name a task of this job that provides an image file.'] },
    });
  }
  const o = job.options;
  const image = await embedImage(doc, job, asset);
  const percent = numberOf(o.image_width_percent, 0);
  const width = numberOf(o.image_width, 0);
  const height = numberOf(o.image_height, 0);

  return {
    image,
    ...(percent > 0 ? { pageShare: percent / 100 } : {}),
    ...(width > 0 ? { width } : {}),
    ...(height > 0 ? { height } : {}),
  };
}

async function embedImage(doc: PDFDocument, job: EngineJob, asset: EngineInput): Promise<PDFImage> {
  let file = asset;
  let bytes = await readFile(file.path);
  let kind = imageKind(bytes);
  if (kind === null && job.convertWith) {
    // GIF, WebP, TIFF...: another engine of the worker makes a PNG of it, if it can.
    file = await job.convertWith(asset, 'png').catch(() => asset);
    bytes = file === asset ? bytes : await readFile(file.path);
    kind = imageKind(bytes);
  }
  if (kind === null) {
    throw new AppError('INVALID_DATA', {
      errors: { image: [`The image ${asset.filename} must be a PNG or JPEG file.`] },
    });
  }

  try {
    return kind === 'png' ? await doc.embedPng(bytes) : await doc.embedJpg(bytes);
  } catch (err) {
    throw new AppError('INVALID_DATA', {
      errors: { image: [`The image ${asset.filename} is damaged or could not be read.`] },
      cause: err,
    });
  }
}

function imageKind(bytes: Uint8Array): 'png' | 'jpg' | null {
  if (bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) {
    return 'png';
  }
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) {
    return 'jpg';
  }

  return null;
}

/** Lines split at \n; tabs become spaces and other control characters go. */
function cleanText(value: unknown): string {
  if (typeof value !== 'string') {
    return '';
  }
  const text = value
    .replace(/\r\n?/g, '\n')
    .replace(/\t/g, ' ')
    // eslint-disable-next-line no-control-regex -- exactly the characters no font draws
    .replace(/[\u0000-\u0009\u000b-\u001f\u007f]/g, '');

  return text.trim() === '' ? '' : text;
}

function colorOf(value: unknown): RGB {
  const raw = typeof value === 'string' && value !== '' ? value.trim() : '#000000';
  const hex = /^#?([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(raw)?.[1];
  if (!hex) {
    throw new AppError('INVALID_DATA', {
      errors: { font_color: ['The font color must be a hex colour like #FF0000.'] },
    });
  }
  const full = hex.length === 3 ? [...hex].map((c) => c + c).join('') : hex;
  const [r, g, b] = [0, 2, 4].map((i) => parseInt(full.slice(i, i + 2), 16) / 255);

  return rgb(r!, g!, b!);
}

function numberOf(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}

function enumOf<T extends string>(value: unknown, allowed: readonly T[], fallback: T): T {
  return allowed.find((a) => a === value) ?? fallback;
}
