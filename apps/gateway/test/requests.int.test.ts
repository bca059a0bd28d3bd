// What SDKs send (API.md §1.3, §10.9) over real HTTP: bodies without a type, JSON types without a
// body, PHP/Java/Ruby/.NET quirks; and the 422 INVALID_DATA answers of §2.2/§2.4.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startStack, type Stack } from '../../../test/harness';
import { call, expectEnvelope, expectError, rawRequest } from './wire-helpers';

let stack: Stack;
let key: string;
let userId: number;

beforeAll(async () => {
  stack = await startStack({ workerOptions: { engines: [] } });
  ({ key, id: userId } = await stack.createUser());
});

afterAll(async () => {
  await stack?.close();
});

const auth = () => ({ authorization: `Bearer ${key}` });

async function uploadTask(): Promise<any> {
  const res = await call(stack, key, 'POST', '/v2/import/upload');
  expect(res.status).toBe(201);
  return res.json.data;
}

describe('tolerant request parsing', () => {
  it('takes POSTs without body and Content-Type (node 3 create and cancel)', async () => {
    const created = await rawRequest(`${stack.url}/v2/import/upload`, {
      method: 'POST',
      headers: { ...auth(), 'content-length': '0' },
    });
    expect([created.status, created.statusText]).toEqual([201, 'Created']);
    expect(created.headers['content-type']).toMatch(/^application\/json/);
    const task = expectEnvelope(created.text);
    expect(task).toMatchObject({ operation: 'import/upload', status: 'waiting', job_id: null });

    const cancelled = await rawRequest(`${stack.url}/v2/tasks/${task.id}/cancel`, {
      method: 'POST',
      headers: auth(),
    });
    expect([cancelled.status, cancelled.statusText]).toEqual([200, 'OK']);
    expect(expectEnvelope(cancelled.text)).toMatchObject({
      id: task.id,
      status: 'error',
      code: 'CANCELLED',
    });

    const retried = await rawRequest(`${stack.url}/v2/tasks/${task.id}/retry`, {
      method: 'POST',
      headers: { ...auth(), 'content-length': '0' },
    });
    expect(retried.status).toBe(201);
    expect(expectEnvelope(retried.text).retry_of_task_id).toBe(task.id);
  });

  it('takes Content-Type: application/json with an empty body on POST, GET and DELETE (Python)', async () => {
    const json = { ...auth(), 'content-type': 'application/json' };
    const created = await rawRequest(`${stack.url}/v2/import/upload`, {
      method: 'POST',
      headers: { ...json, 'content-length': '0' },
    });
    expect(created.status).toBe(201);
    const id = created.json.data.id;
    for (const route of ['/v2/jobs', '/v2/tasks', `/v2/tasks/${id}`, '/v2/users/me']) {
      const res = await rawRequest(`${stack.url}${route}`, { headers: json });
      expect([route, res.status]).toEqual([route, 200]);
    }
    const cancelled = await rawRequest(`${stack.url}/v2/tasks/${id}/cancel`, {
      method: 'POST',
      headers: json,
      body: '{}',
    });
    expect(cancelled.status).toBe(200);
    const deleted = await rawRequest(`${stack.url}/v2/tasks/${id}`, {
      method: 'DELETE',
      headers: json,
    });
    expect([deleted.status, deleted.text]).toEqual([204, '']);
    const job = (
      await call(stack, key, 'POST', '/v2/jobs', {
        body: { tasks: { up: { operation: 'import/upload' } } },
      })
    ).json.data;
    const jobDeleted = await rawRequest(`${stack.url}/v2/jobs/${job.id}`, {
      method: 'DELETE',
      headers: { ...json, 'content-length': '0' },
    });
    expect([jobDeleted.status, jobDeleted.text]).toEqual([204, '']);
  });

  it('takes tag "" (Java), tag null and webhook_url null (PHP), and extra keys', async () => {
    const tasks = { 'import-it': { operation: 'import/upload' } };
    for (const [body, tag] of [
      [{ tasks, tag: '' }, null],
      [{ tasks, tag: null, webhook_url: null }, null],
      [{ tasks, tag: 'php', webhook_url: null, redirect: false }, 'php'],
      [{ tasks }, null],
    ] as const) {
      const res = await call(stack, key, 'POST', '/v2/jobs', { body });
      expect([JSON.stringify(body), res.status]).toEqual([JSON.stringify(body), 201]);
      expect(expectEnvelope(res.text).tag).toBe(tag);
    }
  });

  it('ignores operation and name in standalone task bodies and never stores them in the payload', async () => {
    const body = {
      name: 'import-it',
      operation: 'import/url',
      url: 'http://127.0.0.1:9/input.pdf',
      filename: 'input.pdf',
    };
    const res = await call(stack, key, 'POST', '/v2/import/url', { body });
    expect(res.status).toBe(201);
    const task = expectEnvelope(res.text);
    expect(task).not.toHaveProperty('name');
    expect(task.operation).toBe('import/url');
    const shown = (await call(stack, key, 'GET', `/v2/tasks/${task.id}?include=payload`)).json.data;
    expect(shown.payload).toEqual({ url: 'http://127.0.0.1:9/input.pdf', filename: 'input.pdf' });

    const upload = await uploadTask();
    const convert = (
      await call(stack, key, 'POST', '/v2/convert', {
        body: { operation: 'convert', input: upload.id, output_format: 'pdf', pages: '1-2' },
      })
    ).json.data;
    const withPayload = (await call(stack, key, 'GET', `/v2/tasks/${convert.id}?include=payload`))
      .json.data;
    expect(withPayload.payload).toEqual({
      input: [upload.id],
      output_format: 'pdf',
      pages: '1-2',
    });
  });

  it('answers uncompressed to a bogus Accept-Encoding: application/json (PHP)', async () => {
    for (const [method, route] of [
      ['POST', '/v2/import/upload'],
      ['GET', '/v2/jobs'],
      ['GET', '/v2/users/me'],
    ] as const) {
      const res = await rawRequest(`${stack.url}${route}`, {
        method,
        headers: { ...auth(), 'accept-encoding': 'application/json' },
      });
      expect([route, res.status < 300, res.headers['content-encoding']]).toEqual([
        route,
        true,
        undefined,
      ]);
      expect(res.json).toHaveProperty('data');
    }
  });

  it('answers 400 JSON to a body that is not JSON', async () => {
    for (const [route, body] of [
      ['/v2/jobs', '{"tasks":'],
      ['/v2/import/url', 'url=http://example.com'],
      ['/v2/jobs', '\u0000'],
    ] as const) {
      const res = await call(stack, key, 'POST', route, {
        body,
        headers: { 'content-type': 'application/json' },
      });
      expectError(res, 400, 'INVALID_JSON', 'Bad Request');
    }
    const noType = await rawRequest(`${stack.url}/v2/jobs`, {
      method: 'POST',
      headers: auth(),
      body: 'tasks',
    });
    expectError(noType, 400, 'INVALID_JSON', 'Bad Request');
  });

  it('parses JSON whatever the charset parameter says', async () => {
    const res = await call(stack, key, 'POST', '/v2/import/raw', {
      body: JSON.stringify({ file: 'ünïcödé', filename: 'ü.txt' }),
      headers: { 'content-type': 'application/json; charset=UTF-8' },
    });
    expect(res.status).toBe(201);
  });
});

describe('422 INVALID_DATA', () => {
  async function invalid(route: string, body: unknown) {
    const res = await call(stack, key, 'POST', route, { body });
    const error = expectError(res, 422, 'INVALID_DATA', 'Unprocessable Entity');
    expect(res.statusText).toContain('Unprocessable');
    expect(error.message).toBe('The given data was invalid.');
    return error.errors;
  }

  it('answers the field errors of invalid jobs and creates nothing', async () => {
    const before = await stack.deps.db.task.count({ where: { userId } });
    const required = { tasks: ['The tasks field is required.'] };
    expect(await invalid('/v2/jobs', {})).toEqual(required);
    expect(await invalid('/v2/jobs', { tasks: [] })).toEqual(required);
    expect(await invalid('/v2/jobs', { tasks: {} })).toEqual(required);
    expect(await invalid('/v2/jobs', { tasks: null, tag: 'x' })).toEqual(required);
    expect(await invalid('/v2/jobs', [])).toEqual(required);
    expect(await invalid('/v2/jobs', { tasks: { a: { operation: 'convert/magic' } } })).toEqual({
      'tasks.a.operation': [
        expect.stringMatching(
          /^The operation convert\/magic is not supported\. Supported: import\/upload, .*, convert, .*, capture-website, export\/url, export\/s3, .*, export\/sftp\.$/,
        ),
      ],
    });
    expect(await invalid('/v2/jobs', { tasks: { a: { url: 'http://example.com' } } })).toEqual({
      'tasks.a.operation': ['The operation field is required.'],
    });
    expect(
      await invalid('/v2/jobs', {
        tasks: {
          a: { operation: 'import/upload' },
          b: { operation: 'export/url', input: ['a', 'nope'] },
        },
      }),
    ).toEqual({
      'tasks.b.input': ['The input task nope does not exist in this job.'],
    });
    expect(
      await invalid('/v2/jobs', {
        tasks: {
          a: { operation: 'convert', input: 'c', output_format: 'pdf' },
          b: { operation: 'convert', input: 'a', output_format: 'pdf' },
          c: { operation: 'export/url', input: 'b' },
        },
      }),
    ).toEqual({ tasks: ['The tasks a -> c -> b -> a form a cycle.'] });
    expect(
      await invalid('/v2/jobs', {
        tasks: { a: { operation: 'convert', input: 'a', output_format: 'pdf' } },
      }),
    ).toEqual({
      'tasks.a.input': ['A task cannot be its own input.'],
    });
    expect(await invalid('/v2/jobs', { tasks: { a: { operation: 'import/url' } } })).toEqual({
      'tasks.a.url': ['The url field is required.'],
    });
    expect(
      await invalid('/v2/jobs', {
        tasks: { a: { operation: 'import/upload' }, b: { operation: 'convert', input: 'a' } },
      }),
    ).toEqual({
      'tasks.b.output_format': ['The output format field is required.'],
    });
    expect(
      await invalid('/v2/jobs', { tasks: { 'bad name': { operation: 'import/upload' } } }),
    ).toEqual({
      'tasks.bad name': [
        'The task name may only contain letters, numbers, dashes and underscores.',
      ],
    });
    expect(
      await invalid('/v2/jobs', {
        tasks: { a: { operation: 'import/upload' } },
        tag: 5,
        webhook_url: 'ftp://x',
      }),
    ).toEqual({
      tag: ['The tag must be a string.'],
      webhook_url: ['The webhook url format is invalid.'],
    });
    expect(await stack.deps.db.task.count({ where: { userId } })).toBe(before);
  });

  it('answers the field errors of invalid standalone tasks', async () => {
    const upload = await uploadTask();
    expect(await invalid('/v2/import/url', {})).toEqual({ url: ['The url field is required.'] });
    expect(await invalid('/v2/import/url', { url: 'not a url' })).toEqual({
      url: ['The url format is invalid.'],
    });
    expect(await invalid('/v2/convert', { input: upload.id })).toEqual({
      output_format: ['The output format field is required.'],
    });
    expect(await invalid('/v2/convert', { output_format: 'pdf' })).toEqual({
      input: ['The input field is required.'],
    });
    expect(await invalid('/v2/export/url', {})).toEqual({
      input: ['The input field is required.'],
    });
    expect(await invalid('/v2/export/url', { input: 'import-it' })).toEqual({
      input: ['Invalid input task.'],
    });
    expect(
      await invalid('/v2/export/url', { input: '6f1c1b9e-8d1e-4c55-9a43-8d6a4d4e7b21' }),
    ).toEqual({ input: ['Invalid input task.'] });
    expect(await invalid('/v2/import/base64', { file: '***' })).toEqual({
      file: ['The file must be base64 encoded.'],
      filename: ['The filename field is required.'],
    });
    expect(await invalid('/v2/import/raw', { filename: 'a.txt' })).toEqual({
      file: ['The file field is required.'],
    });
  });
});
