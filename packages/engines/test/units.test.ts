import { describe, expect, it } from 'vitest';

import {
  convertToArgument,
  familyOf,
  importFilterFor,
  listConversions,
} from '../src/libreoffice/formats';
import { pdfSettings, readPageRange } from '../src/libreoffice/options';
import { TailBuffer } from '../src/tail-buffer';

describe(TailBuffer.name, () => {
  it('keeps the last bytes once the cap is passed', () => {
    const sut = new TailBuffer(10);
    sut.push(Buffer.from('0123456789'));
    sut.push(Buffer.from('abcdef'));

    expect(sut.text()).toBe('6789abcdef');
    expect(sut.bytesSeen).toBe(16);
    expect(sut.text(3)).toBe('def');
  });

  it('does not start the text inside a multi-byte character', () => {
    const sut = new TailBuffer(5);
    sut.push(Buffer.from('ääää'));

    expect(sut.text()).toBe('ää');
  });
});

describe(readPageRange.name, () => {
  it.each([
    [{}, undefined],
    [{ pages: '1-3' }, '1-3'],
    [{ page_range: ' 1, 4, 6-8 ' }, '1,4,6-8'],
    [{ pages: 2 }, '2'],
  ])('reads %j as %s', (options, expected) => {
    expect(readPageRange(options)).toBe(expected);
  });

  it.each([
    { pages: '0-2' },
    { pages: '3-1' },
    { pages: 'all' },
    { page_range: '1"}' },
    { pages: true },
  ])('rejects %j with INVALID_DATA', (options) => {
    expect(() => readPageRange(options)).toThrow(
      expect.objectContaining({ name: 'AppError', code: 'INVALID_DATA' }),
    );
  });
});

describe('LibreOffice formats', () => {
  it('puts the page range into the PDF filter options of the document family', () => {
    expect(convertToArgument('calc', 'pdf', pdfSettings({}, '2-3'))).toBe(
      'pdf:calc_pdf_Export:{"PageRange":{"type":"string","value":"2-3"}}',
    );
    expect(
      convertToArgument(
        'writer',
        'pdf',
        pdfSettings({ pdf_a: true, pdf_a_level: '1b', bookmarks: false }, undefined),
      ),
    ).toBe(
      'pdf:writer_pdf_Export:{"SelectPdfVersion":{"type":"long","value":1},"ExportBookmarks":{"type":"boolean","value":false}}',
    );
    expect(convertToArgument('writer', 'pdf')).toBe('pdf');
    expect(convertToArgument('writer', 'txt')).toBe('txt:Text (encoded):UTF8');
  });

  it('forces UTF-8 and the right separator when importing CSV and TSV', () => {
    expect(importFilterFor('csv')).toBe('Text - txt - csv (StarCalc):44,34,76,1');
    expect(importFilterFor('tsv')).toBe('Text - txt - csv (StarCalc):9,34,76,1');
    expect(importFilterFor('docx')).toBeUndefined();
  });

  it('offers every input only outputs of its own family', () => {
    for (const { input, outputs } of listConversions()) {
      const family = familyOf(input);

      expect(family).toBeDefined();
      expect(outputs).toContain('pdf');
      expect(outputs).not.toContain(input);
    }
  });
});
