// Which queue a ready task goes to: the catalogue's best engine among the served ones.
import { describe, expect, it } from 'vitest';

import { engineQueues, IO_QUEUE, routeTask } from '../src/routing';

const ALL = new Map<string, string[]>([
  ['libreoffice', ['7.4.7.2']],
  ['chrome', ['131.0.6778.204']],
  ['mupdf', ['1.21.1']],
  ['poppler', ['22.12.0']],
  ['pdflib', ['1.17.1']],
  ['qpdf', ['11.3.0']],
  ['vips', ['8.16.1']],
  ['imagemagick', ['6.9.11.60']],
]);

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
    expect(routeTask(pdfToPng, {}, new Map([['poppler', ['22.12.0']]]))).toBe('engine.poppler');
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

  it('refuses a pinned version the chosen engine does not run, naming the engine that does', () => {
    const htmlToPdf = {
      operation: 'convert',
      payload: { output_format: 'pdf', engine_version: '7.4' },
      inputFormat: 'html',
    };
    expect(routeTask(htmlToPdf, {}, ALL)).toEqual({
      code: 'ENGINE_VERSION_UNAVAILABLE',
      message: expect.stringContaining('Version 7.4 is a version of libreoffice, not of chrome'),
    });
    const pngToJpg = {
      operation: 'convert',
      payload: { output_format: 'jpg', engine_version: '6.9' },
      inputFormat: 'png',
    };
    expect(routeTask(pngToJpg, {}, ALL)).toEqual({
      code: 'ENGINE_VERSION_UNAVAILABLE',
      message: expect.stringContaining('"engine": "imagemagick"'),
    });
    expect(
      routeTask({ ...pngToJpg, payload: { ...pngToJpg.payload, engine: 'imagemagick' } }, {}, ALL),
    ).toBe('engine.imagemagick.6.9');
    expect(
      routeTask({ ...htmlToPdf, payload: { ...htmlToPdf.payload, engine: 'chrome' } }, {}, ALL),
    ).toEqual({
      code: 'ENGINE_VERSION_UNAVAILABLE',
      message: 'The engine chrome is not served in version 7.4 (served: 131.0.6778.204).',
    });
  });

  it('keeps a pinned or default version while nothing is known of the live workers', () => {
    const htmlToPdf = {
      operation: 'convert',
      payload: { output_format: 'pdf', engine_version: '7.4' },
      inputFormat: 'html',
    };
    expect(routeTask(htmlToPdf, {}, undefined)).toBe('engine.chrome.7.4');
    expect(
      routeTask({ ...htmlToPdf, payload: { output_format: 'pdf' } }, { chrome: '120' }, undefined),
    ).toBe('engine.chrome.120');
  });

  it('sends a task whose default version nobody runs to any version of its engine', () => {
    const office = { operation: 'convert', payload: { output_format: 'pdf' }, inputFormat: 'docx' };
    expect(routeTask(office, { libreoffice: '24.2' }, ALL)).toBe('engine.libreoffice');
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
