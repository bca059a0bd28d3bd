// The catalogue of every engine's operations, and the questions asked of it.
import type { CatalogueRow, EngineSpec, OptionSpec } from './types';
import { ARCHIVETOOL } from './archivetool';
import { CALIBRE } from './calibre';
import { CHROME } from './chrome';
import { EXIFTOOL } from './exiftool';
import { FFMPEG } from './ffmpeg';
import { GHOSTSCRIPT } from './ghostscript';
import { GRAPHICSMAGICK } from './graphicsmagick';
import { IMAGEMAGICK } from './imagemagick';
import { LIBREOFFICE } from './libreoffice';
import { MARKDOWN } from './markdown';
import { MUPDF } from './mupdf';
import { OCRMYPDF } from './ocrmypdf';
import { PDFLIB } from './pdflib';
import { POPPLER } from './poppler';
import { QPDF } from './qpdf';
import { VIPS } from './vips';

export type * from './types';
export { checkOptions } from './options';
export { checkClosedPageSpec, checkPageSpec, parsePageSpec } from './pages';
export { OPERATION_CHECKS, watermarkSourceErrors } from './checks';
export type { PageRange } from './pages';
export { ARCHIVE_FORMATS, ARCHIVETOOL } from './archivetool';
export { CALIBRE, CALIBRE_PAPER_SIZES } from './calibre';
export {
  CHROME,
  CHROME_MAX_SCREENSHOT_SIDE,
  CHROME_PAGE_FORMATS,
  CHROME_WAIT_UNTIL,
} from './chrome';
export { EXIFTOOL, EXIFTOOL_MAX_TAG_NAME, EXIFTOOL_WRITABLE } from './exiftool';
export {
  COMMAND_MAX_ARGUMENTS,
  commandOptions,
  FFMPEG,
  FFMPEG_AUDIO_INPUTS,
  FFMPEG_AUDIO_OUTPUTS,
  FFMPEG_MAX_DIMENSION,
  FFMPEG_MAX_THUMBNAILS,
  FFMPEG_PRESETS,
  FFMPEG_THUMBNAIL_OUTPUTS,
  FFMPEG_VIDEO_INPUTS,
  FFMPEG_VIDEO_OUTPUTS,
} from './ffmpeg';
export { GHOSTSCRIPT, OPTIMIZE_PROFILES, PDFA_LEVELS } from './ghostscript';
export { GM_INPUTS, GM_OUTPUTS, GRAPHICSMAGICK } from './graphicsmagick';
export {
  IMAGEMAGICK,
  MAGICK_CONVERT_OPTIONS,
  MAGICK_MAX_DIMENSION,
  MAGICK_ONLY_INPUTS,
  MAGICK_ONLY_OUTPUTS,
  MAGICK_SHARED_INPUTS,
  MAGICK_SHARED_OUTPUTS,
} from './imagemagick';
export { LIBREOFFICE, OFFICE_FAMILIES } from './libreoffice';
export { MARKDOWN } from './markdown';
export { MUPDF } from './mupdf';
export { OCR_LANGUAGES, OCRMYPDF } from './ocrmypdf';
export { PAGE_RENDER_LIMITS } from './paged';
export { PDFLIB, WATERMARK_FONT_NAMES } from './pdflib';
export { POPPLER } from './poppler';
export { PDF_MODIFY_LEVELS, PDF_PRINT_LEVELS, PDF_ROTATIONS, QPDF } from './qpdf';
export {
  VIPS,
  VIPS_MAGICK,
  VIPS_MAX_DIMENSION,
  VIPS_OPTIMIZE,
  VIPS_RASTER,
  VIPS_THUMBNAIL_OUTPUTS,
} from './vips';
export * from './listing';

/**
 * Every engine convertd has an adapter for. A deployment serves the subset its workers found on
 * their machines (they advertise it); this list is what could be.
 */
const specs: EngineSpec[] = [
  LIBREOFFICE,
  ARCHIVETOOL,
  POPPLER,
  MUPDF,
  CHROME,
  GHOSTSCRIPT,
  QPDF,
  OCRMYPDF,
  FFMPEG,
  EXIFTOOL,
  IMAGEMAGICK,
  GRAPHICSMAGICK,
  CALIBRE,
  PDFLIB,
  VIPS,
  MARKDOWN,
];
export const ENGINE_SPECS: readonly EngineSpec[] = specs;

/**
 * Adds an engine that is not part of convertd (a test's stand-in engine, run by a worker in the
 * same process as the gateway). Every real adapter is listed above.
 */
export function registerEngineSpec(spec: EngineSpec): void {
  const at = specs.findIndex((s) => s.name === spec.name);
  if (at >= 0) {
    specs[at] = spec;
  } else {
    specs.push(spec);
  }
  cachedRows = null;
}

/** Names users send that we serve with another engine (CloudConvert's `office` is LibreOffice). */
export const ENGINE_ALIASES: Readonly<Record<string, string>> = {
  office: 'libreoffice',
  chromium: 'chrome',
  mutool: 'mupdf',
  sharp: 'vips',
  'pdf-lib': 'pdflib',
  gs: 'ghostscript',
  gm: 'graphicsmagick',
};

export function canonicalEngine(name: string): string {
  return ENGINE_ALIASES[name] ?? name;
}

/** How an operation takes its inputs. */
export type InputMode = 'none' | 'each' | 'all';

/** The processing operations and how each consumes its input files. */
export const PROCESSING_OPERATIONS: Readonly<Record<string, InputMode>> = {
  convert: 'each',
  optimize: 'each',
  watermark: 'each',
  thumbnail: 'each',
  metadata: 'each',
  'metadata/write': 'each',
  'pdf/a': 'each',
  'pdf/ocr': 'each',
  'pdf/encrypt': 'each',
  'pdf/decrypt': 'each',
  'pdf/split-pages': 'each',
  'pdf/extract-pages': 'each',
  'pdf/rotate-pages': 'each',
  merge: 'all',
  archive: 'all',
  command: 'all',
  'capture-website': 'none',
};

/** Keys every processing task may carry that are not engine options. */
export const COMMON_KEYS: ReadonlySet<string> = new Set([
  'input',
  'input_format',
  'output_format',
  'engine',
  'engine_version',
  'filename',
  'timeout',
  'name',
  'operation',
  'ignore_error',
  'password',
]);

let cachedRows: CatalogueRow[] | null = null;

/** The catalogue flattened to one row per operation, pair and engine. */
export function catalogueRows(specs: readonly EngineSpec[] = ENGINE_SPECS): CatalogueRow[] {
  if (specs === ENGINE_SPECS && cachedRows) {
    return cachedRows;
  }

  const rows: CatalogueRow[] = [];
  for (const spec of specs) {
    for (const entry of spec.entries) {
      for (const input of entry.inputs) {
        const outputs =
          entry.outputs === 'same' ? [input] : entry.outputs === 'none' ? [null] : entry.outputs;
        for (const output of outputs) {
          // The same format is a no-op, except for images (resizing, quality).
          if (entry.operation === 'convert' && output === input && entry.group !== 'image') {
            continue;
          }
          rows.push({
            operation: entry.operation,
            input_format: input === '*' ? null : input,
            output_format: output === '*' ? null : output,
            engine: spec.name,
            options: entry.options,
            group: entry.group ?? 'other',
            priority: entry.priority ?? 100,
            credits: entry.credits ?? 1,
          });
        }
      }
    }
  }
  if (specs === ENGINE_SPECS) {
    cachedRows = rows;
  }

  return rows;
}

export interface PairQuery {
  operation: string;
  /**
   * Lower-case extension; null or undefined when not known yet (any format matches), '' for a
   * file without one (only operations that take any format match).
   */
  inputFormat?: string | null;
  outputFormat?: string | null;
  engine?: string | null;
}

/** Rows that could serve the query; a row with a null format matches any format. */
export function matchingRows(q: PairQuery, rows = catalogueRows()): CatalogueRow[] {
  const engine = q.engine ? canonicalEngine(q.engine) : null;
  return rows.filter(
    (r) =>
      r.operation === q.operation &&
      (engine === null || r.engine === engine) &&
      (q.inputFormat === null ||
        q.inputFormat === undefined ||
        r.input_format === null ||
        r.input_format === q.inputFormat) &&
      (!q.outputFormat || r.output_format === null || r.output_format === q.outputFormat),
  );
}

/**
 * The engine that serves a pair: the one asked for, else the best (lowest priority) among the
 * engines `served` (all when unset). Null when no engine serves it.
 */
export function chooseRow(
  q: PairQuery,
  served?: ReadonlySet<string>,
  rows = catalogueRows(),
): CatalogueRow | null {
  const candidates = matchingRows(q, rows).sort((a, b) => a.priority - b.priority);
  if (served) {
    const live = candidates.find((r) => served.has(r.engine));
    if (live) {
      return live;
    }
  }

  return candidates[0] ?? null;
}

/** The option specs that apply to a query (the union over candidate rows), by name. */
export function optionsFor(q: PairQuery, rows = catalogueRows()): Map<string, OptionSpec> {
  const found = new Map<string, OptionSpec>();
  for (const row of matchingRows(q, rows)) {
    for (const option of row.options) {
      const seen = found.get(option.name);
      found.set(option.name, seen ? looser(seen, option) : option);
    }
  }

  return found;
}

/**
 * One spec that accepts what either accepts, for checks made before the engine is known: enum
 * values and bounds are merged; options whose types differ are left to the engine to check.
 */
function looser(a: OptionSpec, b: OptionSpec): OptionSpec {
  if (a.type !== b.type) {
    const numeric = (t: string) => t === 'integer' || t === 'float';
    if (numeric(a.type) && numeric(b.type)) {
      return { ...looser({ ...a, type: 'float' }, { ...b, type: 'float' }) };
    }
    return { name: a.name, type: a.type, unchecked: true };
  }
  const merged: OptionSpec = { ...a, required: Boolean(a.required && b.required) };
  if (a.check !== b.check) {
    // Engines that read the value differently: each checks it when it runs.
    delete merged.check;
  }
  if (a.possible_values && b.possible_values) {
    merged.possible_values = [...new Set([...a.possible_values, ...b.possible_values])];
  } else if (a.possible_values || b.possible_values) {
    delete merged.possible_values;
  }
  merged.min = a.min === undefined || b.min === undefined ? undefined : Math.min(a.min, b.min);
  merged.max = a.max === undefined || b.max === undefined ? undefined : Math.max(a.max, b.max);
  if (merged.min === undefined) {
    delete merged.min;
  }
  if (merged.max === undefined) {
    delete merged.max;
  }
  return merged;
}

export function specOf(engine: string): EngineSpec | undefined {
  const name = canonicalEngine(engine);
  return ENGINE_SPECS.find((s) => s.name === name);
}

/** "This conversion type is not supported: docx to xyz." and the like, for INVALID_CONVERSION_TYPE. */
export function unsupportedMessage(q: PairQuery): string {
  const input = q.inputFormat || 'unknown';
  const pair = q.outputFormat ? `${input} to ${q.outputFormat}` : input;
  const op = q.operation === 'convert' ? '' : `${q.operation} of `;
  const engine = q.engine ? ` with ${q.engine}` : '';
  return `This conversion type is not supported: ${op}${pair}${engine}.`;
}
