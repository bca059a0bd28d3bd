// Which formats LibreOffice reads and writes here, and the filter strings that select them.

/** LibreOffice modules; a document opens in one of them and exports only to its formats. */
export type Family = 'writer' | 'calc' | 'impress' | 'draw';

interface FamilySpec {
  inputs: readonly string[];
  /** Output format -> `--convert-to` argument. `pdf` gets page options added at run time. */
  outputs: Readonly<Record<string, string>>;
  pdfFilter: string;
}

// Export filters are named explicitly so the result does not depend on LibreOffice's defaults:
// plain `xlsx` picks "Calc Office Open XML", not the Excel 2007 flavour, and `txt` and `csv`
// would use the system code page instead of UTF-8 (76 is UTF-8 in the CSV token list).
const FAMILIES: Readonly<Record<Family, FamilySpec>> = {
  writer: {
    inputs: 'doc docx docm dot dotx dotm odt ott fodt rtf txt html htm xml wpd wps sxw'.split(' '),
    outputs: {
      pdf: 'pdf',
      docx: 'docx:MS Word 2007 XML',
      doc: 'doc:MS Word 97',
      odt: 'odt:writer8',
      rtf: 'rtf:Rich Text Format',
      txt: 'txt:Text (encoded):UTF8',
      html: 'html:HTML (StarWriter)',
    },
    pdfFilter: 'writer_pdf_Export',
  },
  calc: {
    inputs: 'xls xlsx xlsm xlt xltx ods ots fods csv tsv sxc'.split(' '),
    outputs: {
      pdf: 'pdf',
      xlsx: 'xlsx:Calc MS Excel 2007 XML',
      xls: 'xls:MS Excel 97',
      ods: 'ods:calc8',
      csv: 'csv:Text - txt - csv (StarCalc):44,34,76',
      html: 'html:HTML (StarCalc)',
    },
    pdfFilter: 'calc_pdf_Export',
  },
  impress: {
    inputs: 'ppt pptx pptm pps ppsx pot potx odp otp fodp sxi'.split(' '),
    outputs: {
      pdf: 'pdf',
      pptx: 'pptx:Impress MS PowerPoint 2007 XML',
      ppt: 'ppt:MS PowerPoint 97',
      odp: 'odp:impress8',
    },
    pdfFilter: 'impress_pdf_Export',
  },
  draw: {
    inputs: 'odg otg fodg vsd vsdx pub'.split(' '),
    outputs: { pdf: 'pdf', odg: 'odg:draw8' },
    pdfFilter: 'draw_pdf_Export',
  },
};

/**
 * Import filters forced by input format. Without them a .tsv opens with commas as separators
 * and CSV text is decoded with the system code page (tokens: separator, quote, charset, first row).
 */
const IMPORT_FILTERS: Readonly<Record<string, string>> = {
  csv: 'Text - txt - csv (StarCalc):44,34,76,1',
  tsv: 'Text - txt - csv (StarCalc):9,34,76,1',
  // Writer rather than Writer/Web, loaded without a frame (see `framelessService`).
  html: 'HTML (StarWriter)',
  htm: 'HTML (StarWriter)',
};

/**
 * Inputs loaded into a document model without a frame: the UI of Writer/Web aborts a
 * long-running headless soffice (the UI files it wants are not in the -nogui packages).
 */
const FRAMELESS: Readonly<Record<string, string>> = {
  html: 'com.sun.star.text.TextDocument',
  htm: 'com.sun.star.text.TextDocument',
};

export function framelessService(inputFormat: string): string | undefined {
  return FRAMELESS[inputFormat];
}

const FAMILY_BY_INPUT = new Map<string, Family>(
  (Object.keys(FAMILIES) as Family[]).flatMap((f) =>
    FAMILIES[f].inputs.map((i) => [i, f] as const),
  ),
);

/** The module a format opens in, or undefined when LibreOffice is not used for it. */
export function familyOf(inputFormat: string): Family | undefined {
  return FAMILY_BY_INPUT.get(inputFormat);
}

/** Every input with its outputs; converting a format to itself is not offered. */
export function listConversions(): { input: string; outputs: string[] }[] {
  return [...FAMILY_BY_INPUT].map(([input, family]) => ({
    input,
    outputs: Object.keys(FAMILIES[family].outputs).filter((o) => o !== input),
  }));
}

export function supports(input: string, output: string): boolean {
  const family = familyOf(input);

  return family !== undefined && input !== output && output in FAMILIES[family].outputs;
}

/** A PDF export setting in the JSON form soffice 7.4 takes after the filter name. */
export interface FilterValue {
  type: 'string' | 'long' | 'boolean';
  value: string | number | boolean;
}

/**
 * The `--convert-to` argument. PDF settings (page range, PDF/A, bookmarks...) go into the PDF
 * filter's JSON options, a syntax LibreOffice accepts since 7.4; it needs the module's own filter
 * name in front.
 */
export function convertToArgument(
  family: Family,
  output: string,
  pdfSettings: Readonly<Record<string, FilterValue>> = {},
): string {
  const spec = FAMILIES[family];
  const base = spec.outputs[output];
  if (base === undefined) {
    throw new Error(`no ${output} export for ${family}`);
  }

  if (output !== 'pdf' || Object.keys(pdfSettings).length === 0) {
    return base;
  }

  return `pdf:${spec.pdfFilter}:${JSON.stringify(pdfSettings)}`;
}

/** The export filter's name and its option string (CSV tokens), as UNO's storeToURL wants them. */
export function exportFilter(family: Family, output: string): { name: string; options?: string } {
  const spec = FAMILIES[family];
  if (output === 'pdf') {
    return { name: spec.pdfFilter };
  }
  const [, name = '', ...rest] = (spec.outputs[output] ?? '').split(':');
  return rest.length > 0 ? { name, options: rest.join(':') } : { name };
}

export function importFilterFor(inputFormat: string): string | undefined {
  return IMPORT_FILTERS[inputFormat];
}
