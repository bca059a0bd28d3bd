// /v2/operations and /v2/convert/formats tell what the running workers can do, with versions;
// tasks are checked against the same catalogue; deprecated versions run and say so.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { LibreOfficeEngine } from '@convertd/engines';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { api, startStack, type Stack } from '../../../test/harness';
import { byName, waitJob, type Json } from './support';

let stack: Stack;
let key: string;
const profiles = path.join(os.tmpdir(), `convertd-catalogue-${process.pid}`);

beforeAll(async () => {
  // A deployment whose only worker has LibreOffice, and whose operator deprecated 7.x.
  stack = await startStack({
    env: { ENGINE_DEPRECATED_VERSIONS: 'libreoffice=7' },
    workerOptions: {
      engines: [
        new LibreOfficeEngine({
          profileRoot: profiles,
        }),
      ],
    },
  });
  ({ key } = await stack.createUser());
});

afterAll(async () => {
  await stack?.close();
  fs.rmSync(profiles, { recursive: true, force: true });
});

async function get(route: string): Promise<{ status: number; data: Json[]; raw: Json }> {
  const res = await fetch(`${stack.url}${route}`);
  const raw = (await res.json()) as Json;
  return { status: res.status, data: raw.data as Json[], raw };
}

describe('GET /v2/operations', () => {
  it('is public and lists only what the live workers serve', async () => {
    const { status, data, raw } = await get('/v2/operations');
    expect(status).toBe(200);
    expect(Object.keys(raw)).toEqual(['data']);
    expect(data.length).toBeGreaterThan(20);
    expect(new Set(data.map((d) => d.engine))).toEqual(new Set(['libreoffice']));
    expect(data.find((d) => d.input_format === 'docx' && d.output_format === 'pdf')).toEqual({
      operation: 'convert',
      input_format: 'docx',
      output_format: 'pdf',
      engine: 'libreoffice',
      credits: 1,
      deprecated: true,
      experimental: false,
      meta: { group: 'document', default: true },
    });
    expect(data.some((d) => d.operation === 'capture-website')).toBe(false);
  });

  it('filters and includes options and engine versions in the Java SDK shape', async () => {
    const { data } = await get(
      '/v2/operations?filter[operation]=convert&filter[input_format]=pptx&filter[output_format]=pdf&include=options,engine_versions',
    );
    expect(data).toHaveLength(1);
    const [entry] = data;
    expect(entry!.options).toContainEqual({
      name: 'pdf_a_level',
      type: 'enum',
      default: '2b',
      possible_values: ['1b', '2b', '3b'],
    });
    expect(entry!.options).toContainEqual({
      name: 'hidden_slides',
      type: 'boolean',
      default: false,
      possible_values: null,
    });
    const versions = entry!.engine_versions as Json[];
    expect(versions).toHaveLength(1);
    expect(versions[0]).toEqual({
      version: expect.stringMatching(/^7\.\d+/) as string,
      default: true,
      latest: true,
      deprecated: true,
      experimental: false,
    });

    const none = await get('/v2/operations?filter[engine]=chrome');
    expect(none.data).toEqual([]);
    const pinned = await get('/v2/operations?filter[engine_version]=6.0');
    expect(pinned.data).toEqual([]);
  });

  it('serves /v2/convert/formats with convert entries only', async () => {
    const { status, data } = await get('/v2/convert/formats?filter[input_format]=xlsx');
    expect(status).toBe(200);
    expect(data.length).toBeGreaterThan(3);
    expect(data.every((d) => d.operation === 'convert' && d.input_format === 'xlsx')).toBe(true);
    expect(data.map((d) => d.output_format)).toContain('ods');
  });
});

describe('tasks against the catalogue', () => {
  it('refuses an operation whose engine no worker runs, and bad or unknown options', async () => {
    const capture = await api(stack, key, 'POST', '/v2/capture-website', {
      url: 'https://example.com/',
      output_format: 'pdf',
    });
    expect(capture.status).toBe(422);
    expect(capture.json.errors).toEqual({
      engine: ['No worker of this deployment serves capture-website with chrome.'],
    });

    const job = (convert: Json) =>
      api(stack, key, 'POST', '/v2/jobs', {
        tasks: {
          in: { operation: 'import/raw', file: 'x', filename: 'a.docx' },
          c: { operation: 'convert', input: 'in', output_format: 'pdf', ...convert },
        },
      });
    const bad = await job({ pdf_a: 'maybe', pdf_a_level: '4z', colour: 'red' });
    expect(bad.status).toBe(422);
    expect(bad.json.errors).toEqual({
      'tasks.c.pdf_a': ['The pdf a field must be true or false.'],
      'tasks.c.pdf_a_level': ['The selected pdf a level is invalid. Possible values: 1b, 2b, 3b.'],
      'tasks.c.colour': ['The option colour is not supported here.'],
    });
    const pinned = await job({ engine: 'office', engine_version: '5.2' });
    expect(pinned.status).toBe(422);
    expect(Object.keys(pinned.json.errors)).toEqual(['tasks.c.engine_version']);
  });

  it('runs a task on a deprecated version, says so, and sends a Deprecation header', async () => {
    const res = await fetch(`${stack.url}/v2/jobs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        tasks: {
          in: { operation: 'import/raw', file: 'hello', filename: 'a.txt' },
          c: { operation: 'convert', input: 'in', output_format: 'pdf', engine: 'office' },
        },
      }),
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('deprecation')).toBe('true');
    const created = ((await res.json()) as Json).data as Json;
    const job = await waitJob(stack, key, created.id as string, 60_000);
    expect(byName(job, 'c')).toMatchObject({
      status: 'finished',
      engine: 'libreoffice',
      message: expect.stringContaining('is deprecated') as string,
    });
  });
});
