// GET /v2/operations filters: an entry matches a format filter only when it really has or takes
// that format.
import { describe, expect, it } from 'vitest';

import { listOperations, type ServedVersions } from '../src/catalogue/listing';

const served: ServedVersions = {
  versions: new Map([
    ['libreoffice', ['7.4.7.2']],
    ['exiftool', ['12.57']],
    ['ffmpeg', ['5.1.6']],
    ['imagemagick', ['6.9.11.60']],
    ['graphicsmagick', ['1.4']],
    ['archivetool', ['1.0.0']],
    ['pdflib', ['1.17.1']],
  ]),
  defaults: {},
  deprecated: {},
};

function list(filters: { inputFormat?: string; outputFormat?: string; operation?: string }) {
  return listOperations({ ...filters, include: new Set(), alternatives: true }, served);
}

describe(listOperations.name, () => {
  it('lists no entry without output for an output_format filter', () => {
    const docxToPdf = list({ inputFormat: 'docx', outputFormat: 'pdf' });
    expect(docxToPdf.length).toBeGreaterThan(0);
    expect(docxToPdf.every((e) => e.output_format === 'pdf')).toBe(true);
    expect(docxToPdf.some((e) => e.operation === 'command' || e.operation === 'metadata')).toBe(
      false,
    );

    const toDocx = list({ outputFormat: 'docx' });
    expect(toDocx.every((e) => e.output_format === 'docx')).toBe(true);
    expect(toDocx.some((e) => e.operation === 'metadata')).toBe(false);
  });

  it('lists the entries that take any file for an input_format filter, as they are', () => {
    const docx = list({ inputFormat: 'docx', operation: 'metadata' });
    expect(docx).toContainEqual(
      expect.objectContaining({
        operation: 'metadata',
        input_format: 'docx',
        output_format: null,
        engine: 'exiftool',
      }),
    );
    const unfiltered = list({ operation: 'command' });
    expect(unfiltered.map((e) => [e.input_format, e.output_format])).toEqual(
      unfiltered.map(() => [null, null]),
    );
  });
});
