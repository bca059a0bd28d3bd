// Hostile and odd values on the account, webhook and job endpoints, found by trying convertd as a
// new user would: each must answer JSON with a code, never a 500.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { api, startStack, type Stack } from '../../../test/harness';

let stack: Stack;
let key: string;

beforeAll(async () => {
  stack = await startStack({ worker: false });
  key = (await stack.createUser()).key;
});

afterAll(async () => {
  await stack?.close();
});

describe('half a surrogate pair in a task', () => {
  it('is refused with 422 naming the field, in values and in field names', async () => {
    // JSON.stringify writes a lone surrogate as the escape \ud800, which PostgreSQL's json refuses.
    const cases: [string, Record<string, unknown>, string][] = [
      ['/v2/import/url', { url: 'http://example.com/\ud800' }, 'url'],
      ['/v2/import/url', { url: 'http://example.com/a', filename: 'x\udc00.txt' }, 'filename'],
      ['/v2/import/raw', { file: 'half \ud83d', filename: 'a.txt' }, 'file'],
      ['/v2/import/url', { url: 'http://example.com/a', ['x\ud800']: 1 }, 'x\ud800'],
    ];
    for (const [route, body, field] of cases) {
      const res = await api(stack, key, 'POST', route, body);
      expect(res.status, `${route} ${field}`).toBe(422);
      expect(res.json.code).toBe('INVALID_DATA');
      expect(Object.keys(res.json.errors)).toEqual([field]);
    }

    const job = await api(stack, key, 'POST', '/v2/jobs', {
      tasks: { in: { operation: 'import/raw', file: 'x', filename: '\ud800.txt' } },
    });
    expect(job.status).toBe(422);
    expect(Object.keys(job.json.errors)).toEqual(['tasks.in.filename']);
  });

  it('leaves whole pairs alone', async () => {
    const res = await api(stack, key, 'POST', '/v2/import/raw', {
      file: 'emoji \ud83d\ude00',
      filename: '\ud83d\ude00.txt',
    });
    expect(res.status).toBe(201);
    expect(res.json.data.result.files[0].filename).toBe('\u{1F600}.txt');
  });
});

describe('the sandbox whitelist', () => {
  it('refuses a file name with NUL characters with 422', async () => {
    const res = await api(stack, key, 'POST', '/v2/users/me/sandbox/files', {
      md5: '53d6fe6b688c31c565907c81de625046',
      filename: 'in\u0000put.pdf',
    });
    expect(res.status).toBe(422);
    expect(res.json).toMatchObject({ code: 'INVALID_DATA' });
    expect(Object.keys(res.json.errors)).toEqual(['filename']);
    const listed = await api(stack, key, 'GET', '/v2/users/me/sandbox/files');
    expect(listed.json.data).toEqual([]);
  });
});
