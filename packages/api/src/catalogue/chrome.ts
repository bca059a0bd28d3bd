// Chrome (Debian's Chromium driven over the DevTools protocol): HTML pages and websites to PDF and
// images.
import { checkPageSpec } from './pages';
import type { CatalogueEntry, EngineSpec, Group, OptionSpec } from './types';

/** Page sizes of Chrome's print dialog; names as CloudConvert lists them. */
export const CHROME_PAGE_FORMATS = [
  'letter',
  'legal',
  'tabloid',
  'ledger',
  'a0',
  'a1',
  'a2',
  'a3',
  'a4',
  'a5',
  'a6',
] as const;

/** When navigation counts as finished; the networkidle names are Puppeteer's. */
export const CHROME_WAIT_UNTIL = [
  'load',
  'domcontentloaded',
  'networkidle0',
  'networkidle2',
] as const;

/** Largest width and height of a screenshot viewport, in CSS pixels. */
export const CHROME_MAX_SCREENSHOT_SIDE = 8192;

const IMAGE_OUTPUTS = ['png', 'jpg', 'webp'] as const;

const margin = (side: string): OptionSpec => ({
  name: `margin_${side}`,
  type: 'float',
  min: 0,
  max: 500,
  default: 10,
  description: `Page ${side} margin in mm; the page's own CSS @page margin wins.`,
});

/** How the page is loaded; shared by every entry. */
const LOADING: readonly OptionSpec[] = [
  {
    name: 'wait_until',
    type: 'enum',
    possible_values: CHROME_WAIT_UNTIL,
    default: 'load',
    description: 'When the page counts as loaded.',
  },
  {
    name: 'wait_for_element',
    type: 'string',
    max: 1000,
    description: 'CSS selector of an element to wait for before capturing, e.g. "#content".',
  },
  {
    name: 'wait_time',
    type: 'integer',
    min: 0,
    max: 300_000,
    description: 'Milliseconds to wait after the page has loaded.',
  },
  {
    name: 'css_media_type',
    type: 'enum',
    possible_values: ['print', 'screen'],
    description: 'CSS media to emulate; print for PDF and screen for images when unset.',
  },
];

const PDF: readonly OptionSpec[] = [
  {
    name: 'pages',
    type: 'string',
    max: 200,
    check: checkPageSpec,
    description: 'Pages to keep, e.g. "1-3" or "1,4,6-8".',
  },
  {
    name: 'zoom',
    type: 'float',
    min: 0.1,
    max: 2,
    default: 1,
    description: 'Scale of the page content.',
  },
  { name: 'page_width', type: 'float', min: 1, max: 500, description: 'Page width in cm.' },
  { name: 'page_height', type: 'float', min: 1, max: 500, description: 'Page height in cm.' },
  {
    name: 'page_format',
    type: 'enum',
    possible_values: CHROME_PAGE_FORMATS,
    description: 'Paper size; overrides page_width and page_height. A4 when no size is given.',
  },
  {
    name: 'page_orientation',
    type: 'enum',
    possible_values: ['portrait', 'landscape'],
    default: 'portrait',
  },
  margin('top'),
  margin('bottom'),
  margin('left'),
  margin('right'),
  {
    name: 'print_background',
    type: 'boolean',
    default: true,
    description: 'Print background colours and images.',
  },
  {
    name: 'display_header_footer',
    type: 'boolean',
    default: false,
    description: 'Print a header and a footer (title, date, page numbers) on each page.',
  },
  {
    name: 'header_template',
    type: 'string',
    max: 100_000,
    description:
      'HTML of the header; elements of class date, title, url, pageNumber and totalPages get those values.',
  },
  {
    name: 'footer_template',
    type: 'string',
    max: 100_000,
    description: 'HTML of the footer, like header_template.',
  },
];

const SCREENSHOT: readonly OptionSpec[] = [
  {
    name: 'screenshot_width',
    type: 'integer',
    min: 16,
    max: CHROME_MAX_SCREENSHOT_SIDE,
    default: 1280,
    description: 'Width of the browser window in pixels.',
  },
  {
    name: 'screenshot_height',
    type: 'integer',
    min: 16,
    max: CHROME_MAX_SCREENSHOT_SIDE,
    default: 800,
    description: 'Height of the browser window in pixels.',
  },
  {
    name: 'full_page',
    type: 'boolean',
    default: true,
    description: 'Capture the whole page rather than the window.',
  },
];

const QUALITY: OptionSpec = {
  name: 'quality',
  type: 'integer',
  min: 1,
  max: 100,
  default: 85,
  description: 'JPEG or WebP quality.',
};

const URL_OPTION: OptionSpec = {
  name: 'url',
  type: 'string',
  required: true,
  max: 8192,
  description: 'The http or https address of the page.',
};

const HEADERS: OptionSpec = {
  name: 'headers',
  type: 'dictionary',
  description: 'Extra request headers, sent to the origin of the url only.',
};

/** One entry per output kind, so that each lists only the options that apply to it. */
function entries(
  operation: string,
  inputs: readonly string[],
  group: Group,
  extra: readonly OptionSpec[],
): CatalogueEntry[] {
  const common = [...extra, ...LOADING];

  return [
    { operation, inputs, outputs: ['pdf'], options: [...common, ...PDF], group, priority: 50 },
    { operation, inputs, outputs: ['png'], options: [...common, ...SCREENSHOT], group },
    {
      operation,
      inputs,
      outputs: IMAGE_OUTPUTS.filter((f) => f !== 'png'),
      options: [...common, ...SCREENSHOT, QUALITY],
      group,
    },
  ];
}

export const CHROME: EngineSpec = {
  name: 'chrome',
  entries: [
    // Chrome renders HTML as browsers do; LibreOffice's HTML import is the fallback for PDF.
    ...entries('convert', ['html', 'htm'], 'website', []),
    // A page with its stylesheets and images, zipped; the archive's index.html is rendered.
    ...entries('convert', ['zip'], 'archive', []),
    ...entries('capture-website', ['website'], 'website', [URL_OPTION, HEADERS]),
  ],
};
