// Hostile and odd values on the account, webhook and job endpoints, found by trying convertd as a
// new user would: each must answer JSON with a code, never a 500.
import { randomUUID } from 'node:crypto';

import { createSigningKey, signingKeyAad } from '@convertd/db';
import CloudConvert from 'cloudconvert';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { api, startStack, type Stack } from '../../../test/harness';

let stack: Stack;
let key: string;
let userId: number;

beforeAll(async () => {
  stack = await startStack({ worker: false });
  ({ key, id: userId } = await stack.createUser());
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

describe('usage', () => {
  it('takes the last days of year 9999, and names bad filters as they were sent', async () => {
    const edge = await api(
      stack,
      key,
      'GET',
      '/v2/users/me/usage?filter[from]=9999-12-01&filter[to]=9999-12-31',
    );
    expect(edge.status).toBe(200);
    expect(edge.json).toEqual({ data: [], meta: { from: '9999-12-01', to: '9999-12-31' } });

    const cases: [string, string][] = [
      ['filter[from]=2026-02-30', 'filter[from]'],
      ['filter[to]=soon', 'filter[to]'],
      ['filter[from]=2026-12-05&filter[to]=2026-12-04', 'filter[from]'],
      ['filter[from]=2020-01-01&filter[to]=2026-01-01', 'filter[from]'],
      ['filter[sandbox]=yes', 'filter[sandbox]'],
    ];
    for (const [query, field] of cases) {
      const res = await api(stack, key, 'GET', `/v2/users/me/usage?${query}`);
      expect(res.status, query).toBe(422);
      expect(Object.keys(res.json.errors), query).toEqual([field]);
    }
  });
});

describe('signed URLs', () => {
  const sdk = new CloudConvert('unused');
  const secret = 'a-signing-secret-of-this-test';
  let base: string;

  beforeAll(async () => {
    const id = randomUUID();
    const sealedSecret = stack.deps.cipher.sealText(secret, signingKeyAad(id));
    await createSigningKey(stack.deps.db, { id, userId, sealedSecret });
    base = `${stack.url}/s/${id}`;
  });

  const RAW_JOB = {
    tasks: {
      in: { operation: 'import/raw', file: 'signed', filename: 'a.txt' },
      out: { operation: 'export/url', input: 'in' },
    },
  } as const;

  it('refuse a cache_key with NUL characters with 422 (was a 500)', async () => {
    const res = await fetch(sdk.signedUrls.sign(base, secret, RAW_JOB, 'a\u0000b'));
    expect(res.status).toBe(422);
    const body = (await res.json()) as { code: string; errors: Record<string, string[]> };
    expect(body.code).toBe('INVALID_DATA');
    expect(Object.keys(body.errors)).toEqual(['cache_key']);
  });

  it('refuse a job that waits for an upload nobody can send, instead of hanging', async () => {
    const jobs = await stack.deps.db.job.count({ where: { userId } });
    const res = await fetch(
      sdk.signedUrls.sign(
        base,
        secret,
        {
          tasks: {
            in: { operation: 'import/upload' },
            out: { operation: 'export/url', input: 'in' },
          },
        } as const,
        null,
      ),
    );
    expect(res.status).toBe(422);
    expect(await res.json()).toMatchObject({
      code: 'INVALID_DATA',
      errors: { tasks: ['A signed URL job cannot wait for an import/upload.'] },
    });
    expect(await stack.deps.db.job.count({ where: { userId } })).toBe(jobs);
  });

  it('run nothing for a HEAD (link checkers send them)', async () => {
    const jobs = await stack.deps.db.job.count({ where: { userId } });
    const res = await fetch(sdk.signedUrls.sign(base, secret, RAW_JOB, 'head'), {
      method: 'HEAD',
      redirect: 'manual',
    });
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await stack.deps.db.job.count({ where: { userId } })).toBe(jobs);
  });

  it('still run a job that needs no worker', async () => {
    const res = await fetch(sdk.signedUrls.sign(base, secret, RAW_JOB, 'fine'), {
      redirect: 'manual',
    });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toMatch(new RegExp(`^${stack.url}/download/`));
  });
});
