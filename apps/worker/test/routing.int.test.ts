// A task that pins an engine_version only another engine of its pair runs is refused at
// creation when its input format is known, and fails at once (not waits) when it is not.
import fs from 'node:fs/promises';
import path from 'node:path';

import { ImageMagickEngine, VipsEngine } from '@convertd/engines';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { api, CORPUS, startStack, type Stack } from '../../../test/harness';
import { byName, createJob, createTask, waitJob, waitTask, type Json } from './support';

const TOUCAN = path.join(CORPUS, 'image/toucan.png');

let stack: Stack;
let key: string;
/** ImageMagick's major.minor, e.g. 6.9: a version vips (png -> jpg's default) never has. */
let magick: string;

beforeAll(async () => {
  const imagemagick = new ImageMagickEngine();
  stack = await startStack({
    workerOptions: { engines: [new VipsEngine(), imagemagick] },
  });
  ({ key } = await stack.createUser());
  const detected = await imagemagick.detect();
  magick = detected!.version.split('.').slice(0, 2).join('.');
});

afterAll(async () => {
  await stack?.close();
});

describe('engine_version without engine', () => {
  it('refuses at creation a version of another engine than the default, naming it', async () => {
    const png = await createTask(stack, key, 'import/base64', {
      file: (await fs.readFile(TOUCAN)).toString('base64'),
      filename: 'toucan.png',
    });
    await waitTask(stack, key, png.id as string);

    const res = await api(stack, key, 'POST', '/v2/convert', {
      input: png.id,
      output_format: 'jpg',
      engine_version: magick,
    });
    expect(res.status).toBe(422);
    expect(res.json).toMatchObject({ code: 'INVALID_DATA' });
    expect(res.json.errors).toEqual({
      engine_version: [
        `Version ${magick} is a version of imagemagick, not of vips, which serves this task by default; name the engine as well ("engine": "imagemagick").`,
      ],
    });

    const named = await api(stack, key, 'POST', '/v2/convert', {
      input: png.id,
      output_format: 'jpg',
      engine: 'imagemagick',
      engine_version: magick,
    });
    expect(named.status).toBe(201);
    expect(await waitTask(stack, key, named.json.data.id as string, 60_000)).toMatchObject({
      status: 'finished',
      engine: 'imagemagick',
    });
  });

  it('fails a task whose format shows only after the upload, instead of waiting', async () => {
    const created = await createJob(stack, key, {
      upload: { operation: 'import/upload' },
      jpg: { operation: 'convert', input: 'upload', output_format: 'jpg', engine_version: magick },
    });
    const form = (byName(created, 'upload').result as Json).form as Json;
    const body = new FormData();
    for (const [name, value] of Object.entries((form.parameters ?? {}) as Json)) {
      body.append(name, String(value));
    }
    body.append('file', new Blob([await fs.readFile(TOUCAN)]), 'toucan.png');
    expect((await fetch(form.url as string, { method: 'POST', body })).status).toBe(201);

    const job = await waitJob(stack, key, created.id as string, 30_000);
    expect(byName(job, 'jpg')).toMatchObject({
      status: 'error',
      code: 'ENGINE_VERSION_UNAVAILABLE',
      message: expect.stringContaining(
        'name the engine as well ("engine": "imagemagick")',
      ) as string,
    });
  });
});
