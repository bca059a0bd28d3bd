// Requests that would otherwise fail late (or never end) are refused at creation with a 422.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { api, startStack, type Stack } from '../../../test/harness';

let stack: Stack;
let key: string;

beforeAll(async () => {
  stack = await startStack();
  key = (await stack.createUser()).key;
});

afterAll(async () => {
  await stack?.close();
});

const job = (convert: Record<string, unknown>) => ({
  tasks: {
    in: { operation: 'import/raw', file: 'x', filename: 'x.txt' },
    c: { operation: 'convert', input: 'in', output_format: 'pdf', ...convert },
  },
});

describe('engines at creation', () => {
  it('refuses an engine no worker serves, in a job and standalone', async () => {
    const inJob = await api(stack, key, 'POST', '/v2/jobs', job({ engine: 'nope' }));
    expect(inJob.status).toBe(422);
    expect(inJob.json).toEqual({
      message: 'The given data was invalid.',
      code: 'INVALID_DATA',
      errors: { 'tasks.c.engine': ['The engine nope is not supported.'] },
    });

    const imported = await api(stack, key, 'POST', '/v2/import/raw', {
      file: 'x',
      filename: 'x.txt',
    });
    const alone = await api(stack, key, 'POST', '/v2/convert', {
      input: imported.json.data.id,
      output_format: 'pdf',
      engine: 'nope',
    });
    expect(alone.status).toBe(422);
    expect(Object.keys(alone.json.errors)).toEqual(['engine']);
    expect(await stack.deps.db.task.count({ where: { operation: 'convert' } })).toBe(0);
  });

  it('refuses a version nobody serves, and accepts served ones and the office alias', async () => {
    const version = stack.worker!.context.engines.get('libreoffice')!.version;
    const old = await api(
      stack,
      key,
      'POST',
      '/v2/jobs',
      job({ engine: 'libreoffice', engine_version: '5.0' }),
    );
    expect(old.status).toBe(422);
    expect(old.json.errors['tasks.c.engine_version'][0]).toBe(
      `The engine libreoffice is not served in version 5.0 (served: ${version}).`,
    );

    const minor = version.split('.').slice(0, 2).join('.');
    for (const convert of [
      { engine: 'libreoffice', engine_version: minor },
      { engine: 'office' },
      { engine_version: version },
    ]) {
      const created = await api(stack, key, 'POST', '/v2/jobs', job(convert));
      expect(created.status).toBe(201);
    }
  });
});

describe('payloads PostgreSQL cannot store', () => {
  it('answers 422 naming the field that holds a NUL character', async () => {
    const raw = await api(stack, key, 'POST', '/v2/import/raw', {
      file: 'a\u0000b',
      filename: 'nul.txt',
    });
    expect(raw.status).toBe(422);
    expect(Object.keys(raw.json.errors)).toEqual(['file']);

    const inJob = await api(stack, key, 'POST', '/v2/jobs', {
      tasks: {
        in: { operation: 'import/url', url: 'https://example.com/a', filename: 'a\u0000.pdf' },
      },
    });
    expect(inJob.status).toBe(422);
    expect(Object.keys(inJob.json.errors)).toEqual(['tasks.in.filename']);
  });
});

describe('option values at creation', () => {
  const input = '11111111-2222-4333-8444-555555555555';

  it('refuses a pages value that is not pages, naming the field', async () => {
    const extract = await api(stack, key, 'POST', '/v2/pdf/extract-pages', { input, pages: 'abc' });
    expect(extract.status).toBe(422);
    expect(extract.json).toMatchObject({
      code: 'INVALID_DATA',
      errors: { pages: ['Use page numbers and ranges like "1,2,5-7" or "3-" (3 to the end).'] },
    });

    const office = await api(stack, key, 'POST', '/v2/convert', {
      input,
      input_format: 'docx',
      output_format: 'pdf',
      pages: 'x-y',
    });
    expect(office.status).toBe(422);
    expect(Object.keys(office.json.errors)).toEqual(['pages']);

    const inJob = await api(stack, key, 'POST', '/v2/jobs', {
      tasks: {
        in: { operation: 'import/raw', file: 'x', filename: 'a.docx' },
        c: { operation: 'convert', input: 'in', output_format: 'pdf', page_range: '5-3' },
      },
    });
    expect(inJob.status).toBe(422);
    expect(inJob.json.errors).toEqual({
      'tasks.c.page_range': ['"5-3" is not a range of pages: pages count from 1, low to high.'],
    });
  });

  it('accepts "3-" (to the end) for office to pdf as for the PDF tools', async () => {
    for (const [operation, body] of [
      ['convert', { input_format: 'docx', output_format: 'pdf', pages: '3-' }],
      ['pdf/extract-pages', { pages: '3-' }],
    ] as const) {
      // The input does not exist: refused for that, not for its pages.
      const res = await api(stack, key, 'POST', `/v2/${operation}`, { input, ...body });
      expect(res.json.errors, operation).toEqual({ input: [expect.any(String)] });
    }
  });

  it('refuses a watermark with neither text nor image', async () => {
    const res = await api(stack, key, 'POST', '/v2/watermark', { input, input_format: 'pdf' });
    expect(res.status).toBe(422);
    expect(res.json.errors).toEqual({
      text: ['Give a text or an image (the name of a task in this job) to put on.'],
    });
  });

  it('refuses command arguments that name files outside /input and /output', async () => {
    const res = await api(stack, key, 'POST', '/v2/command', {
      engine: 'imagemagick',
      command: 'identify',
      arguments: '/etc/passwd',
    });
    expect(res.status).toBe(422);
    expect(res.json.errors).toEqual({
      arguments: ['Only files under /input/ and /output/ can be used; /etc/passwd cannot.'],
    });

    const piped = await api(stack, key, 'POST', '/v2/command', {
      engine: 'ffmpeg',
      command: 'ffmpeg',
      arguments: '-i /input/a/in.mp4 /output/out.mp4 | sh',
    });
    expect(piped.status).toBe(422);
    expect(Object.keys(piped.json.errors)).toEqual(['arguments']);
  });
});
