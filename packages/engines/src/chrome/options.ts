// Chrome's task options, read into the shapes the renderer uses. Values arrive checked against
// the catalogue; the fallbacks here only matter when the engine is called directly.
import { parsePageSpec } from '@convertd/api';

export type WaitUntil = 'load' | 'domcontentloaded' | 'networkidle0' | 'networkidle2';

export interface LoadSettings {
  waitUntil: WaitUntil;
  waitForElement: string | undefined;
  waitTimeMs: number;
  media: 'print' | 'screen' | undefined;
}

export interface PdfSettings {
  pageRanges: string | undefined;
  scale: number;
  /** A named paper size, or an explicit width and height (CSS lengths). */
  size: { format: string } | { width: string; height: string };
  landscape: boolean;
  margin: { top: string; bottom: string; left: string; right: string };
  printBackground: boolean;
  displayHeaderFooter: boolean;
  headerTemplate: string | undefined;
  footerTemplate: string | undefined;
}

export interface ScreenshotSettings {
  width: number;
  height: number;
  fullPage: boolean;
  /** JPEG and WebP only. */
  quality: number | undefined;
}

type Options = Record<string, unknown>;

const A4 = { width: 21, height: 29.7 };
const DEFAULT_MARGIN_MM = 10;
/** Playwright's names of the paper sizes in the catalogue. */
const FORMATS: Readonly<Record<string, string>> = {
  letter: 'Letter',
  legal: 'Legal',
  tabloid: 'Tabloid',
  ledger: 'Ledger',
  a0: 'A0',
  a1: 'A1',
  a2: 'A2',
  a3: 'A3',
  a4: 'A4',
  a5: 'A5',
  a6: 'A6',
};
const WAIT_UNTIL = new Set<string>(['load', 'domcontentloaded', 'networkidle0', 'networkidle2']);

export function loadSettings(options: Options): LoadSettings {
  const waitUntil = stringOf(options.wait_until);
  const selector = stringOf(options.wait_for_element)?.trim();
  const media = options.css_media_type;

  return {
    waitUntil:
      waitUntil !== undefined && WAIT_UNTIL.has(waitUntil) ? (waitUntil as WaitUntil) : 'load',
    waitForElement: selector === '' ? undefined : selector,
    waitTimeMs: numberOf(options.wait_time) ?? 0,
    media: media === 'print' || media === 'screen' ? media : undefined,
  };
}

export function pdfSettings(options: Options): PdfSettings {
  return {
    pageRanges: pageRanges(options.pages),
    scale: numberOf(options.zoom) ?? 1,
    size: paperSize(options),
    landscape: options.page_orientation === 'landscape',
    margin: {
      top: mm(options.margin_top),
      bottom: mm(options.margin_bottom),
      left: mm(options.margin_left),
      right: mm(options.margin_right),
    },
    printBackground: options.print_background !== false,
    displayHeaderFooter: options.display_header_footer === true,
    headerTemplate: stringOf(options.header_template),
    footerTemplate: stringOf(options.footer_template),
  };
}

export function screenshotSettings(options: Options, format: string): ScreenshotSettings {
  return {
    width: numberOf(options.screenshot_width) ?? 1280,
    height: numberOf(options.screenshot_height) ?? 800,
    fullPage: options.full_page !== false,
    quality: format === 'png' ? undefined : (numberOf(options.quality) ?? 85),
  };
}

/** "1-3", "1,4,6-8", "5-": the catalogue's grammar, which Chrome's page ranges take as is. */
function pageRanges(value: unknown): string | undefined {
  return parsePageSpec(value, 'pages')
    ?.map(({ from, to }) => (to === from ? String(from) : `${from}-${to ?? ''}`))
    .join(',');
}

// A named format wins, as in CloudConvert's description; a lone width or height keeps A4's other side.
function paperSize(options: Options): PdfSettings['size'] {
  const named = stringOf(options.page_format)?.toLowerCase();
  const format = named === undefined ? undefined : FORMATS[named];
  if (format !== undefined) {
    return { format };
  }

  const width = numberOf(options.page_width);
  const height = numberOf(options.page_height);
  if (width === undefined && height === undefined) {
    return { format: 'A4' };
  }

  return { width: `${width ?? A4.width}cm`, height: `${height ?? A4.height}cm` };
}

/** Chrome's own default is 1 cm; Playwright would send 0. A page's CSS @page margin still wins. */
function mm(value: unknown): string {
  return `${numberOf(value) ?? DEFAULT_MARGIN_MM}mm`;
}

function stringOf(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function numberOf(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}
