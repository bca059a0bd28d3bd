// watermark: a text (drawn as SVG by librsvg) or another task's image, put on every page or frame
// of the image at a position, size, opacity and angle.
import { join } from 'node:path';

import type { OverlayOptions, Sharp } from 'sharp';

import { watermarkSourceErrors } from '@convertd/api';
import { AppError, isAppError } from '@convertd/errors';

import type { EngineInput } from '../engine';
import { oriented } from './convert';
import { ANIMATED, encode, targetOf, type EncodeOptions } from './encode';
import { colour, int, str, type Size, type Sizing } from './options';
import type { VipsRun } from './run';
import { decodes, guardAllPages, openSource, pipeline } from './source';

/** Installed families tried for each family users may name, the closest first. */
const FAMILIES: Readonly<Record<string, string>> = {
  'Andale Mono': "'Andale Mono', 'DejaVu Sans Mono', 'Liberation Mono', monospace",
  Arial: "'Arial', 'Liberation Sans', 'DejaVu Sans', sans-serif",
  'Arial Black': "'Arial Black', 'Liberation Sans', 'DejaVu Sans', sans-serif",
  Courier: "'Courier', 'Liberation Mono', 'DejaVu Sans Mono', monospace",
  'Courier New': "'Courier New', 'Liberation Mono', 'DejaVu Sans Mono', monospace",
  'DejaVu Sans': "'DejaVu Sans', sans-serif",
  Georgia: "'Georgia', 'DejaVu Serif', 'Liberation Serif', serif",
  Helvetica: "'Helvetica', 'Liberation Sans', 'DejaVu Sans', sans-serif",
  'Helvetica Narrow':
    "'Helvetica Narrow', 'Liberation Sans Narrow', 'DejaVu Sans Condensed', sans-serif",
  Impact: "'Impact', 'DejaVu Sans Condensed', 'Liberation Sans Narrow', sans-serif",
  'Noto Sans': "'Noto Sans', 'DejaVu Sans', sans-serif",
  Times: "'Times', 'Liberation Serif', 'DejaVu Serif', serif",
  'Times New Roman': "'Times New Roman', 'Liberation Serif', 'DejaVu Serif', serif",
  'Trebuchet MS': "'Trebuchet MS', 'DejaVu Sans', 'Liberation Sans', sans-serif",
  Verdana: "'Verdana', 'DejaVu Sans', 'Liberation Sans', sans-serif",
};
const STYLE_SUFFIX = / (Bold Italic|BoldOblique|Bold|Italic|Oblique)$/;

/** 'Arial Bold Italic' → the Arial family, bold, italic. */
function fontOf(name: string): Pick<TextStyle, 'family' | 'weight' | 'style'> {
  const suffix = STYLE_SUFFIX.exec(name)?.[1] ?? '';
  const base = name.replace(STYLE_SUFFIX, '');
  const heavy = base === 'Arial Black' || base === 'Impact';

  return {
    family: FAMILIES[base] ?? (FAMILIES['Arial'] as string),
    weight: heavy ? '900' : suffix.startsWith('Bold') ? 'bold' : 'normal',
    style: /Italic|Oblique/.test(suffix) ? 'italic' : 'normal',
  };
}
/** Font size when none is asked, as a share of the image's shorter side. */
const DEFAULT_FONT_SHARE = 0.05;
/** Largest canvas a text is drawn on before it is trimmed to its glyphs. */
const MAX_TEXT_CANVAS = 64_000_000;
/** Lossy formats get a high quality: the rest of the image should not suffer for the mark. */
const WATERMARK_QUALITY = 90;

interface Overlay extends Size {
  png: Buffer;
}

export async function watermarkImage(run: VipsRun, input: EngineInput): Promise<string[]> {
  const { options } = run.job;
  const text = str(options, 'text');
  const [asset] = run.job.assets;
  const missing = watermarkSourceErrors(options);
  if (missing) {
    throw new AppError('INVALID_DATA', { errors: missing });
  }
  // The image names a task whose file did not arrive.
  if (text === undefined && asset === undefined) {
    throw new AppError('INVALID_DATA', {
      errors: { text: ['Give a text or an image (the name of a task in this job) to put on.'] },
    });
  }
  const target = targetOf(input.format);
  if (!target) {
    throw new AppError('INVALID_CONVERSION_TYPE', {
      message: `The vips engine does not watermark ${input.format} files.`,
    });
  }
  const source = await openSource(run, input);
  const page = oriented(source, true);
  const marks: Overlay[] = [];
  if (asset) {
    marks.push(await imageMark(run, asset, page));
  }
  if (text !== undefined) {
    marks.push(await textMark(run, text, page));
  }
  const placed: Overlay[] = [];
  for (const mark of marks) {
    placed.push(await finish(run, mark, page));
  }

  const encoding: EncodeOptions = {
    quality: target === 'jpg' || target === 'webp' ? WATERMARK_QUALITY : undefined,
    background: '#ffffff',
    keepMetadata: true,
  };
  const out = join(run.job.outputDir, `watermarked.${input.format}`);
  const below = str(options, 'layer') === 'below';
  const stamp = (pipe: Sharp, frames: number): Sharp => {
    pipe.autoOrient().composite(
      placed.flatMap((mark) => {
        const at = position(run.job.options, mark, page);
        return [...Array(frames).keys()].map((frame): OverlayOptions => ({
          input: mark.png,
          left: at.left,
          top: at.top + frame * page.height,
          ...(below ? { blend: 'dest-over' as const } : {}),
        }));
      }),
    );
    // The marks' transparency must not become the image's: an opaque input stays opaque.
    return source.hasAlpha ? pipe : pipe.removeAlpha();
  };

  if (source.kind === 'animation' && ANIMATED.has(target)) {
    await encode(
      run,
      source,
      stamp(pipeline(run, source, 'all'), source.pages),
      target,
      out,
      encoding,
    );
    return [out];
  }
  if (source.kind === 'document' && target === 'tiff') {
    guardAllPages(source);
    const pages: Buffer[] = [];
    for (let n = 0; n < source.pages; n += 1) {
      const pipe = stamp(pipeline(run, source, n), 1);
      pages.push(
        await run.step(pipe.png({ compressionLevel: 1 }).toBuffer(), decodes(run, source)),
      );
    }
    await encode(run, source, run.open(pages, { join: { animated: true } }), target, out, encoding);
    return [out];
  }
  await encode(run, source, stamp(pipeline(run, source, source.primary), 1), target, out, encoding);

  return [out];
}

/** The watermark image at the asked size, never larger than the page. */
async function imageMark(run: VipsRun, asset: EngineInput, page: Size): Promise<Overlay> {
  const { options } = run.job;
  const percent = int(options, 'image_width_percent');
  const width =
    percent === undefined
      ? int(options, 'image_width')
      : Math.max(1, Math.round((page.width * percent) / 100));
  const height = percent === undefined ? int(options, 'image_height') : undefined;
  const sizing: Sizing = {
    width,
    height,
    fit: width !== undefined && height !== undefined ? 'scale' : 'upscale',
  };
  try {
    const source = await openSource(run, asset, { sizing });
    const pipe = pipeline(run, source, source.primary).autoOrient();
    if (width !== undefined || height !== undefined) {
      pipe.resize({
        ...(width === undefined ? {} : { width }),
        ...(height === undefined ? {} : { height }),
        fit: sizing.fit === 'scale' ? 'fill' : 'inside',
      });
    }
    const { data, info } = await run.step(
      pipe.toColourspace('srgb').ensureAlpha().png().toBuffer({ resolveWithObject: true }),
      decodes(run, source),
    );
    return { png: data, width: info.width, height: info.height };
  } catch (err) {
    if (isAppError(err) && err.code === 'INPUT_CORRUPT') {
      throw new AppError('INVALID_DATA', {
        errors: { image: ['The watermark image cannot be read as an image.'] },
        cause: err,
      });
    }
    throw err;
  }
}

/** The text drawn on a transparent canvas, trimmed to its glyphs. */
async function textMark(run: VipsRun, text: string, page: Size): Promise<Overlay> {
  const { options } = run.job;
  const percent = int(options, 'font_width_percent');
  const style: TextStyle = {
    ...fontOf(str(options, 'font_name') ?? 'Arial'),
    color: colour(run, options, 'font_color', '#000000'),
    align: (str(options, 'font_align') ?? 'center') as TextStyle['align'],
  };
  const fontSize =
    int(options, 'font_size') ??
    Math.max(8, Math.round(Math.min(page.width, page.height) * DEFAULT_FONT_SHARE));
  if (percent === undefined) {
    return drawText(run, text, fontSize, style);
  }
  // Text width grows with the font size: measure once, then draw at the size that fills the share.
  const probe = await drawText(run, text, 100, style);
  const wanted = (page.width * percent) / 100;

  return drawText(run, text, Math.max(1, (100 * wanted) / probe.width), style);
}

interface TextStyle {
  family: string;
  weight: 'normal' | 'bold' | '900';
  style: 'normal' | 'italic';
  color: string;
  align: 'left' | 'center' | 'right';
}

async function drawText(
  run: VipsRun,
  text: string,
  requestedSize: number,
  style: TextStyle,
): Promise<Overlay> {
  const lines = text.split(/\r\n|\r|\n/);
  const longest = Math.max(1, ...lines.map((l) => [...l].length));
  // Generous: wide (CJK) glyphs take about one em; the canvas is trimmed afterwards.
  const canvas = (size: number) => ({
    width: Math.ceil(size * (longest * 1.2 + 2)),
    height: Math.ceil(size * (lines.length * 1.3 + 1)),
  });
  let size = requestedSize;
  const first = canvas(size);
  if (first.width * first.height > MAX_TEXT_CANVAS) {
    size = size * Math.sqrt(MAX_TEXT_CANVAS / (first.width * first.height));
  }
  const { width, height } = canvas(size);
  const x = style.align === 'left' ? size : style.align === 'right' ? width - size : width / 2;
  const anchor = style.align === 'left' ? 'start' : style.align === 'right' ? 'end' : 'middle';
  const tspans = lines
    .map((line, i) => `<tspan x="${x}" y="${size * (1.2 + i * 1.3)}">${xml(line)}</tspan>`)
    .join('');
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">` +
    `<text font-family="${xml(style.family)}" font-size="${size}" font-weight="${style.weight}" ` +
    `font-style="${style.style}" fill="${xml(style.color)}" ` +
    `text-anchor="${anchor}" xml:space="preserve">${tspans}</text></svg>`;
  try {
    const { data, info } = await run.step(
      run
        .open(Buffer.from(svg), { limitInputPixels: MAX_TEXT_CANVAS })
        .trim()
        .png()
        .toBuffer({ resolveWithObject: true }),
    );
    return { png: data, width: info.width, height: info.height };
  } catch (err) {
    if (isAppError(err) && err.code !== 'ENGINE_FAILED') {
      throw err;
    }
    // A text of spaces only leaves nothing to trim to.
    throw new AppError('INVALID_DATA', {
      errors: { text: ['The text draws nothing visible.'] },
      cause: err,
    });
  }
}

/** Applies opacity and rotation, and shrinks the mark to fit the page. */
async function finish(run: VipsRun, mark: Overlay, page: Size): Promise<Overlay> {
  const { options } = run.job;
  const opacity = (int(options, 'opacity') ?? 100) / 100;
  const rotation = int(options, 'rotation') ?? 0;
  let pipe = run.open(mark.png).ensureAlpha();
  if (opacity < 1) {
    pipe = pipe.linear([1, 1, 1, opacity], [0, 0, 0, 0]);
  }
  if (rotation % 360 !== 0) {
    pipe = pipe.rotate(rotation, { background: { r: 0, g: 0, b: 0, alpha: 0 } });
  }
  let { data, info } = await run.step(pipe.png().toBuffer({ resolveWithObject: true }));
  if (info.width > page.width || info.height > page.height) {
    ({ data, info } = await run.step(
      run
        .open(data)
        .resize(page.width, page.height, { fit: 'inside' })
        .png()
        .toBuffer({ resolveWithObject: true }),
    ));
  }

  return { png: data, width: info.width, height: info.height };
}

function position(
  options: Record<string, unknown>,
  mark: Size,
  page: Size,
): { left: number; top: number } {
  const place = (
    where: string | undefined,
    margin: number,
    free: number,
    start: string,
    end: string,
  ) => {
    const at = where === start ? margin : where === end ? free - margin : Math.round(free / 2);
    return Math.min(Math.max(0, at), free);
  };

  return {
    left: place(
      str(options, 'position_horizontal'),
      int(options, 'margin_horizontal') ?? 25,
      page.width - mark.width,
      'left',
      'right',
    ),
    top: place(
      str(options, 'position_vertical'),
      int(options, 'margin_vertical') ?? 25,
      page.height - mark.height,
      'top',
      'bottom',
    ),
  };
}

// XML 1.0 forbids these characters even escaped; librsvg would refuse the whole SVG.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g;

/** Text and attribute values as XML: a text is data, never markup. */
function xml(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')
    .replace(CONTROL, '');
}
