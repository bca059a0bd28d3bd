// Which queue a ready task goes to: the catalogue's best engine among the served ones.
import { describe, expect, it } from 'vitest';

import { engineQueues, IO_QUEUE, routeTask } from '../src/routing';

const ALL = new Set(['libreoffice', 'chrome', 'mupdf', 'poppler', 'pdflib', 'qpdf', 'vips']);

describe('routeTask', () => {
  it('leaves uploads alone and sends imports and exports to io', () => {
    expect(routeTask({ operation: 'import/upload', payload: {} })).toBeNull();
    expect(routeTask({ operation: 'import/url', payload: {} })).toBe(IO_QUEUE);
    expect(routeTask({ operation: 'export/url', payload: {} })).toBe(IO_QUEUE);
  });

  it('picks the best served engine for the pair, or the one named, with its version', () => {
    const pdfToPng = {
      operation: 'convert',
      payload: { output_format: 'png' },
      inputFormat: 'pdf',
    };
    expect(routeTask(pdfToPng, {}, ALL)).toBe('engine.mupdf');
    expect(routeTask(pdfToPng, {}, new Set(['poppler']))).toBe('engine.poppler');
    expect(
      routeTask(
        {
          ...pdfToPng,
          payload: { output_format: 'png', engine: 'mutool', engine_version: '1.21' },
        },
        {},
        ALL,
      ),
    ).toBe('engine.mupdf.1.21');
    const office = { operation: 'convert', payload: { output_format: 'pdf' }, inputFormat: 'docx' };
    expect(routeTask(office, { libreoffice: '7.4' }, ALL)).toBe('engine.libreoffice.7.4');
  });

  it('sends a task no engine serves to io, where it fails with INVALID_CONVERSION_TYPE', () => {
    expect(
      routeTask({ operation: 'convert', payload: { output_format: 'xyz' }, inputFormat: 'pdf' }),
    ).toBe(IO_QUEUE);
  });

  it('sends a merge of office files to the engine that converts them first', () => {
    const merge = {
      operation: 'merge',
      payload: { output_format: 'pdf' },
      inputFormat: 'pdf',
      inputFormats: ['pdf', 'docx'],
    };
    expect(routeTask(merge, {}, ALL)).toBe('engine.libreoffice');
    expect(routeTask({ ...merge, inputFormats: ['pdf', 'pdf'] }, {}, ALL)).toBe('engine.pdflib');
  });
});

describe('engineQueues', () => {
  it('lists a queue per version prefix', () => {
    expect(engineQueues('libreoffice', '7.4.7.2')).toEqual([
      'engine.libreoffice',
      'engine.libreoffice.7',
      'engine.libreoffice.7.4',
      'engine.libreoffice.7.4.7',
      'engine.libreoffice.7.4.7.2',
    ]);
  });
});
