// Fonts for text watermarks. The CloudConvert font names map onto PDF's standard 14 fonts, which
// need no embedding but only cover WinAnsi (Western European) text. Other text gets a TrueType
// font from the machine's Debian font packages, embedded as a subset; CJK text, which only the
// CFF-flavoured Noto CJK collections cover here, is drawn as glyph outlines, because fontkit's
// CFF subsets of those fonts come out unreadable (poppler and mupdf reject them).
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

import * as fontkitModule from '@pdf-lib/fontkit';
import type { Font as FontkitFont } from '@pdf-lib/fontkit';
import { PDFDocument, type PDFFont, StandardFonts } from 'pdf-lib';

/** The module object: a CommonJS bundle whose functions sit on the default export under ESM. */
export const fontkit: typeof fontkitModule =
  (fontkitModule as unknown as { default?: typeof fontkitModule }).default ?? fontkitModule;

type Family = 'sans' | 'serif' | 'mono';

interface Style {
  family: Family;
  bold: boolean;
  italic: boolean;
}

/** Measures and draws one line of text; sizes are in points, positions in the caller's space. */
export interface TextFace {
  widthOf(line: string, size: number): number;
  /** Height above and depth below the baseline, both positive. */
  ascent(size: number): number;
  descent(size: number): number;
  /** The text as embedded text (pdf-lib) or as outlines (CJK). */
  draw(line: string, at: { x: number; y: number; size: number }): DrawCommand;
}

/** What a face asks of the page: text with a font, or an SVG path in font units. */
export type DrawCommand =
  | { kind: 'text'; text: string; font: PDFFont; x: number; y: number; size: number }
  | { kind: 'path'; svg: string; x: number; y: number; scale: number };

const TRUETYPE = '/usr/share/fonts/truetype';
const OPENTYPE = '/usr/share/fonts/opentype';

/** Names of fonts that are on the machine as such: those are used, not a standard font. */
const NAMED_FILES: Readonly<Record<string, readonly string[]>> = {
  'DejaVu Sans': [join(TRUETYPE, 'dejavu', 'DejaVuSans.ttf')],
  'Noto Sans': [join(TRUETYPE, 'noto', 'NotoSans-Regular.ttf')],
};

/** "Times New Roman Bold Italic" and the like; unknown names are sans serif. */
export function styleOf(fontName: string): Style {
  const name = fontName.toLowerCase();
  const family: Family = /courier|andale|mono/.test(name)
    ? 'mono'
    : /times|georgia|serif/.test(name) && !name.includes('sans')
      ? 'serif'
      : 'sans';

  return {
    family,
    bold: /bold|black|impact/.test(name),
    italic: /italic|oblique/.test(name),
  };
}

function standardFont({ family, bold, italic }: Style): StandardFonts {
  const table: Record<Family, [StandardFonts, StandardFonts, StandardFonts, StandardFonts]> = {
    sans: [
      StandardFonts.Helvetica,
      StandardFonts.HelveticaBold,
      StandardFonts.HelveticaOblique,
      StandardFonts.HelveticaBoldOblique,
    ],
    serif: [
      StandardFonts.TimesRoman,
      StandardFonts.TimesRomanBold,
      StandardFonts.TimesRomanItalic,
      StandardFonts.TimesRomanBoldItalic,
    ],
    mono: [
      StandardFonts.Courier,
      StandardFonts.CourierBold,
      StandardFonts.CourierOblique,
      StandardFonts.CourierBoldOblique,
    ],
  };

  return table[family][(bold ? 1 : 0) + (italic ? 2 : 0)]!;
}

/** TrueType files to try for a style, metric-compatible ones first. */
function trueTypeCandidates({ family, bold, italic }: Style): string[] {
  const variant = bold ? (italic ? 'BoldItalic' : 'Bold') : italic ? 'Italic' : 'Regular';
  const dejavuVariant = bold ? (italic ? '-BoldOblique' : '-Bold') : italic ? '-Oblique' : '';
  const liberation = { sans: 'LiberationSans', serif: 'LiberationSerif', mono: 'LiberationMono' }[
    family
  ];
  const dejavu = { sans: 'DejaVuSans', serif: 'DejaVuSerif', mono: 'DejaVuSansMono' }[family];
  const noto = family === 'serif' ? 'NotoSerif' : 'NotoSans';
  const serifDejavuVariant = dejavuVariant.replace('Oblique', 'Italic');

  return [
    join(TRUETYPE, 'liberation2', `${liberation}-${variant}.ttf`),
    join(TRUETYPE, 'liberation', `${liberation}-${variant}.ttf`),
    join(
      TRUETYPE,
      'dejavu',
      `${dejavu}${family === 'serif' ? serifDejavuVariant : dejavuVariant}.ttf`,
    ),
    join(TRUETYPE, 'noto', `${noto}-${variant}.ttf`),
  ];
}

/** Noto's script fonts (Arabic, Hebrew, Devanagari, Thai...), the style's family first. */
async function scriptFonts({ family, bold }: Style): Promise<string[]> {
  const dir = join(TRUETYPE, 'noto');
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }

  const weight = bold ? '-Bold.ttf' : '-Regular.ttf';
  const preferred = family === 'serif' ? 'NotoSerif' : 'NotoSans';
  const pick = names.filter((n) => n.endsWith(weight)).sort();

  return [
    ...pick.filter((n) => n.startsWith(preferred)),
    ...pick.filter((n) => !n.startsWith(preferred)),
  ].map((n) => join(dir, n));
}

/** The Noto CJK collection and face for the text: kana is Japanese, hangul Korean. */
function cjkFace(text: string, { family, bold }: Style): { file: string; face: string } {
  const region = /[\u3040-\u30ff]/.test(text) ? 'jp' : /[\uac00-\ud7af]/.test(text) ? 'kr' : 'sc';
  const weight = bold ? 'Bold' : 'Regular';
  const kind = family === 'serif' ? 'Serif' : 'Sans';
  const mono = family === 'mono' ? 'Mono' : '';

  return {
    file: join(OPENTYPE, 'noto', `Noto${kind}CJK-${weight}.ttc`),
    face: `Noto${kind}${mono}CJK${region}-${weight}`,
  };
}

interface LoadedFont {
  bytes: Uint8Array;
  font: FontkitFont;
}

// Parsed fonts live for the worker's lifetime: a handful of files, read once.
const loaded = new Map<string, Promise<LoadedFont | null>>();

function loadFont(file: string, face?: string): Promise<LoadedFont | null> {
  const key = face === undefined ? file : `${file}#${face}`;
  let entry = loaded.get(key);
  if (!entry) {
    entry = readFont(file, face);
    loaded.set(key, entry);
  }

  return entry;
}

async function readFont(file: string, face?: string): Promise<LoadedFont | null> {
  try {
    const bytes = new Uint8Array(await readFile(file));

    return { bytes, font: fontkit.create(bytes, face) };
  } catch {
    return null;
  }
}

let winAnsi: Promise<ReadonlySet<number>> | undefined;

/** What the standard fonts can show (all but Symbol and ZapfDingbats share WinAnsi). */
function winAnsiCodePoints(): Promise<ReadonlySet<number>> {
  winAnsi ??= PDFDocument.create()
    .then((probe) => probe.embedFont(StandardFonts.Helvetica))
    .then((font) => new Set(font.getCharacterSet()));

  return winAnsi;
}

function covers(font: FontkitFont, codePoints: readonly number[]): boolean {
  return codePoints.every((cp) => font.hasGlyphForCodePoint(cp));
}

/** Code points that must have glyphs: everything but line breaks. */
function codePointsOf(text: string): number[] {
  return [...new Set([...text.replace(/[\r\n]/g, '')].map((c) => c.codePointAt(0)!))];
}

/**
 * A face that can draw every character of `text` in `doc`, as close to `fontName` as the
 * machine allows, or null when no font here covers the text.
 */
export async function chooseFace(
  doc: PDFDocument,
  fontName: string,
  text: string,
): Promise<TextFace | null> {
  const style = styleOf(fontName);
  const codePoints = codePointsOf(text);
  const embedded = async (found: LoadedFont) => {
    doc.registerFontkit(fontkit);
    return pdfFontFace(await doc.embedFont(found.bytes, { subset: true }));
  };

  for (const file of NAMED_FILES[fontName] ?? []) {
    const found = await loadFont(file);
    if (found && covers(found.font, codePoints)) {
      return embedded(found);
    }
  }

  const winAnsi = await winAnsiCodePoints();
  if (codePoints.every((cp) => winAnsi.has(cp))) {
    return pdfFontFace(await doc.embedFont(standardFont(style)));
  }

  for (const file of trueTypeCandidates(style)) {
    const found = await loadFont(file);
    if (found && covers(found.font, codePoints)) {
      return embedded(found);
    }
  }

  // Scanned without keeping what does not fit: a rare script should not pin 40 MB of fonts.
  for (const file of await scriptFonts(style)) {
    const found = await readFont(file);
    if (found && covers(found.font, codePoints)) {
      loaded.set(file, Promise.resolve(found));
      return embedded(found);
    }
  }

  const cjk = cjkFace(text, style);
  const outlines = await loadFont(cjk.file, cjk.face);
  if (outlines && covers(outlines.font, codePoints)) {
    return outlineFace(outlines.font);
  }

  return null;
}

function pdfFontFace(font: PDFFont): TextFace {
  return {
    widthOf: (line, size) => font.widthOfTextAtSize(line, size),
    ascent: (size) => font.heightAtSize(size, { descender: false }),
    descent: (size) => font.heightAtSize(size) - font.heightAtSize(size, { descender: false }),
    draw: (text, { x, y, size }) => ({ kind: 'text', text, font, x, y, size }),
  };
}

const SVG_COMMANDS: Record<string, string> = {
  moveTo: 'M',
  lineTo: 'L',
  quadraticCurveTo: 'Q',
  bezierCurveTo: 'C',
  closePath: 'Z',
};

interface PathCommand {
  command: string;
  args: number[];
}

function outlineFace(font: FontkitFont): TextFace {
  const unit = (size: number) => size / font.unitsPerEm;

  return {
    widthOf: (line, size) => font.layout(line).advanceWidth * unit(size),
    ascent: (size) => font.ascent * unit(size),
    descent: (size) => -font.descent * unit(size),
    draw: (line, { x, y, size }) => {
      const run = font.layout(line);
      const parts: string[] = [];
      let pen = 0;
      for (const [i, glyph] of run.glyphs.entries()) {
        const position = run.positions[i]!;
        const commands = (glyph.path as unknown as { commands: PathCommand[] }).commands;
        for (const { command, args } of commands) {
          const points: string[] = [];
          for (let k = 0; k + 1 < args.length; k += 2) {
            // pdf-lib reads SVG paths with y pointing down; font units point up.
            points.push(
              round(args[k]! + pen + position.xOffset),
              round(-(args[k + 1]! + position.yOffset)),
            );
          }
          parts.push(`${SVG_COMMANDS[command] ?? ''}${points.join(' ')}`);
        }
        pen += position.xAdvance;
      }

      return { kind: 'path', svg: parts.join(''), x, y, scale: unit(size) };
    },
  };
}

function round(n: number): string {
  return String(Math.round(n * 100) / 100);
}
