// Opens the user's image: checks what it really is and how big it claims to be before any pixel is
// decoded, hands the formats sharp cannot decode to their tools, and renders SVG at a useful DPI.
import { open, readFile } from 'node:fs/promises';

import type { Metadata, Sharp, SharpOptions } from 'sharp';

import { AppError } from '@convertd/errors';

import type { EngineInput } from '../engine';
import type { Size, Sizing } from './options';
import { MAX_PIXELS, MAX_TOTAL_PIXELS, tooLarge, type Blame, type VipsRun } from './run';
import { decodeHeif, decodeWithMagick } from './tools';

/**
 * single: one picture. animation: frames of a GIF or WebP, kept only by formats that animate.
 * document: pages of a TIFF, kept as pages by TIFF and PDF, else one output per page.
 */
export type SourceKind = 'single' | 'animation' | 'document';

export interface Source {
  /** What sharp opens: a path, or the bytes of an SVG (never a path: see `svgSource`). */
  input: string | Buffer;
  /** Options every pipeline on this source needs (an SVG's density). */
  open: SharpOptions;
  /** sharp's name of the decoder: jpeg, png, webp, gif, tiff, heif, svg. */
  format: string;
  /** One page as stored, before the EXIF orientation is applied. */
  width: number;
  height: number;
  pages: number;
  kind: SourceKind;
  /** The page read for a single picture (a HEIF file's primary image). */
  primary: number;
  /** EXIF orientation, 1 when there is none. */
  orientation: number;
  hasAlpha: boolean;
  /** The 16-bit colour space to keep for PNG and TIFF, when the input has 16 bits. */
  space16: 'rgb16' | 'grey16' | undefined;
  cmyk: boolean;
  /** Carries an ICC profile. */
  hasProfile: boolean;
  isPalette: boolean;
}

/** Decoders we let sharp use on user files; anything else it might recognise is refused. */
const READABLE = new Set(['jpeg', 'png', 'webp', 'gif', 'tiff', 'heif', 'svg']);
/** Density SVG units are rendered at by default: one user unit, one pixel. */
const SVG_DPI = 72;
const MAX_SVG_DPI = 2400;
const MAX_SVG_BYTES = 32 * 1024 * 1024;

export interface OpenRequest {
  /** The size asked for, so that an SVG is rendered sharply at it. */
  sizing?: Sizing;
  /** An explicit SVG density (`pixel_density`). */
  density?: number | undefined;
}

export async function openSource(
  run: VipsRun,
  input: EngineInput,
  request: OpenRequest = {},
): Promise<Source> {
  const format = input.format.toLowerCase();
  if (format === 'bmp') {
    const size = await bmpSize(input.path);
    guard(size, 1);
    return openSource(run, {
      ...input,
      path: await decodeWithMagick(run, input.path, 'bmp'),
      format: 'png',
    });
  }
  if (format === 'ico') {
    const entry = await bestIcoEntry(input.path);
    guard(entry, 1);
    const png = await decodeWithMagick(run, input.path, 'ico', entry.index);
    return openSource(run, { ...input, path: png, format: 'png' });
  }

  // The header only: our own size checks below explain a refusal better than libvips does.
  const meta = await run.step(
    run.open(input.path, { limitInputPixels: false }).metadata(),
    'input',
  );
  if (!READABLE.has(meta.format)) {
    throw new AppError('INPUT_CORRUPT', {
      message: `The file is not an image this engine reads (found ${meta.format}).`,
      details: { engine: 'vips', format: meta.format },
    });
  }
  if (meta.format === 'svg') {
    return svgSource(run, input, request);
  }

  const pages = meta.pages ?? 1;
  const height = meta.pageHeight ?? meta.height;
  guard({ width: meta.width, height }, 1);
  if (meta.format === 'heif' && meta.compression === 'hevc') {
    // sharp's prebuilt libvips has no HEVC decoder; libheif's own tool has.
    const png = await decodeHeif(run, input.path, meta.pagePrimary ?? 0);
    return openSource(run, { ...input, path: png, format: 'png' });
  }

  const kind: SourceKind =
    pages <= 1 || meta.format === 'heif'
      ? 'single'
      : meta.format === 'tiff'
        ? 'document'
        : 'animation';
  // A document's pages are read one at a time, except where they are all kept (`guardAllPages`).
  if (kind === 'animation') {
    guard({ width: meta.width, height }, pages);
  }

  return {
    input: input.path,
    open: {},
    format: meta.format,
    width: meta.width,
    height,
    pages: kind === 'single' ? 1 : pages,
    kind,
    primary: meta.format === 'heif' ? (meta.pagePrimary ?? 0) : 0,
    orientation: meta.orientation ?? 1,
    hasAlpha: meta.hasAlpha,
    space16: sixteenBit(meta),
    cmyk: meta.space === 'cmyk',
    hasProfile: meta.hasProfile,
    isPalette: meta.isPalette,
  };
}

/**
 * An SVG is read from memory, never from its path: librsvg fetches images an SVG references
 * relative to its file, and the files beside an input are not the user's to read.
 */
async function svgSource(run: VipsRun, input: EngineInput, request: OpenRequest): Promise<Source> {
  const handle = await open(input.path);
  const { size } = await handle.stat();
  await handle.close();
  if (size > MAX_SVG_BYTES) {
    throw new AppError('INVALID_DATA', {
      message: `The SVG is too large to render (${size} bytes).`,
      errors: { input: ['The SVG is too large to render.'] },
    });
  }
  const bytes = await readFile(input.path);
  const natural = await run.step(run.open(bytes, { density: SVG_DPI }).metadata(), 'input');
  const density = request.density ?? autoDensity(natural, request.sizing);
  const scale = density / SVG_DPI;
  guard({ width: Math.ceil(natural.width * scale), height: Math.ceil(natural.height * scale) }, 1);

  return {
    input: bytes,
    open: { density },
    format: 'svg',
    width: Math.max(1, Math.round(natural.width * scale)),
    height: Math.max(1, Math.round(natural.height * scale)),
    pages: 1,
    kind: 'single',
    primary: 0,
    orientation: 1,
    hasAlpha: true,
    space16: undefined,
    cmyk: false,
    hasProfile: false,
    isPalette: false,
  };
}

/** The density at which an SVG reaches the asked size, so that it is drawn, not enlarged. */
function autoDensity(natural: Size, sizing: Sizing | undefined): number {
  if (!sizing || (sizing.width === undefined && sizing.height === undefined)) {
    return SVG_DPI;
  }
  const scale = Math.max(
    sizing.width === undefined ? 0 : sizing.width / natural.width,
    sizing.height === undefined ? 0 : sizing.height / natural.height,
  );

  return scale <= 1 ? SVG_DPI : Math.min(MAX_SVG_DPI, Math.ceil(SVG_DPI * scale));
}

function sixteenBit(meta: Metadata): Source['space16'] {
  if (meta.depth !== 'ushort') {
    return undefined;
  }

  return meta.space === 'grey16' || meta.space === 'b-w' ? 'grey16' : 'rgb16';
}

/** Refuses to hold every page of the source at once when together they exceed the limit. */
export function guardAllPages(source: Source): void {
  guard(source, source.pages);
}

function guard(size: Size, pages: number): void {
  if (
    size.width * size.height > MAX_PIXELS ||
    size.width * size.height * pages > MAX_TOTAL_PIXELS
  ) {
    throw tooLarge(size.width, size.height, pages);
  }
}

/** A pipeline on one page of the source, or on all its pages (frames) at once. */
export function pipeline(run: VipsRun, source: Source, page: number | 'all'): Sharp {
  return run.open(source.input, {
    ...source.open,
    ...(page === 'all' ? { pages: -1 } : { page, pages: 1 }),
  });
}

/** A probe that decodes every pixel of the source, to tell a damaged input from our failure. */
export function decodes(run: VipsRun, source: Source): Blame {
  return async () => {
    const pages = source.kind === 'single' ? [source.primary] : [...Array(source.pages).keys()];
    for (const page of pages) {
      await pipeline(run, source, page).stats();
    }
  };
}

/** Sizes of the DIB headers Windows and OS/2 define. */
const BMP_HEADERS = new Set([12, 16, 40, 52, 56, 64, 108, 124]);

/** The size a BMP declares, read from its header. */
async function bmpSize(path: string): Promise<Size> {
  const head = await readHead(path, 26);
  if (head.length < 26 || head.toString('latin1', 0, 2) !== 'BM') {
    throw notA('BMP');
  }
  // BITMAPCOREHEADER (12 bytes) has 16-bit sizes; every later header 32-bit ones.
  const header = head.readUInt32LE(14);
  if (!BMP_HEADERS.has(header)) {
    throw notA('BMP');
  }
  const core = header === 12;
  const width = core ? head.readUInt16LE(18) : Math.abs(head.readInt32LE(18));
  const height = core ? head.readUInt16LE(20) : Math.abs(head.readInt32LE(22));

  return { width, height };
}

interface IcoEntry extends Size {
  index: number;
  bits: number;
}

/**
 * The entry an icon is best shown by: the largest, then the deepest colour. Entries stored as PNG
 * may claim any size in their own header, which is the one checked.
 */
async function bestIcoEntry(path: string): Promise<IcoEntry> {
  const bytes = await readFile(path);
  if (bytes.length < 6 || bytes.readUInt16LE(0) !== 0 || bytes.readUInt16LE(2) !== 1) {
    throw notA('ICO');
  }
  const count = bytes.readUInt16LE(4);
  let best: IcoEntry | undefined;
  for (let index = 0; index < count; index += 1) {
    const at = 6 + 16 * index;
    if (at + 16 > bytes.length) {
      throw notA('ICO');
    }
    const offset = bytes.readUInt32LE(at + 12);
    let entry: IcoEntry = {
      index,
      width: bytes.readUInt8(at) || 256,
      height: bytes.readUInt8(at + 1) || 256,
      bits: bytes.readUInt16LE(at + 6),
    };
    if (bytes.toString('latin1', offset + 1, offset + 4) === 'PNG' && offset + 24 <= bytes.length) {
      entry = {
        index,
        width: bytes.readUInt32BE(offset + 16),
        height: bytes.readUInt32BE(offset + 20),
        bits: 32,
      };
    }
    const area = entry.width * entry.height;
    const bestArea = best ? best.width * best.height : -1;
    if (!best || area > bestArea || (area === bestArea && entry.bits > best.bits)) {
      best = entry;
    }
  }
  if (!best) {
    throw notA('ICO');
  }

  return best;
}

async function readHead(path: string, length: number): Promise<Buffer> {
  const handle = await open(path);
  try {
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, 0);

    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

function notA(format: string): AppError {
  return new AppError('INPUT_CORRUPT', {
    message: `The file is not a valid ${format} image.`,
    details: { engine: 'vips', format },
  });
}
