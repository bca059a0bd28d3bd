// Signed URLs end to end: a signing key from the CLI, a URL built by the official node SDK's
// `signedUrls.sign`, the job run as the key's user, the 302 to its export, `cache_key` reuse,
// and the refusals (bad signature, revoked key, bad job, a job that fails).
import { execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import { promisify } from 'node:util';

import CloudConvert from 'cloudconvert';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startStack, type Stack } from '../../../test/harness';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const exec = promisify(execFile);
const sdk = new CloudConvert('unused');

let stack: Stack;
let userId: number;
let keyId: string;
let secret: string;
let base: string;

async function cli(...args: string[]) {
  return exec('pnpm', ['--silent', 'cli', ...args], {
    cwd: ROOT,
    env: { ...process.env, ...stack.env },
  });
}

const TEXT_JOB = {
  tasks: {
    text: { operation: 'import/raw', file: 'Signed and converted.\n', filename: 'note.txt' },
    pdf: { operation: 'convert', input: 'text', output_format: 'pdf' },
    out: { operation: 'export/url', input: 'pdf' },
  },
} as const;

async function get(url: string) {
  const res = await fetch(url, { redirect: 'manual' });
  const text = res.status === 302 ? '' : await res.text();
  return { status: res.status, location: res.headers.get('location'), text, res };
}

const jobCount = () => stack.deps.db.job.count({ where: { userId } });

beforeAll(async () => {
  stack = await startStack();
  userId = (await stack.createUser({ email: 'signer@example.test' })).id;
  const out = (await cli('signing-keys', 'create', '--email', 'signer@example.test')).stdout;
  keyId = /^id:\s+(\S+)$/m.exec(out)![1]!;
  secret = /^secret:\s+(\S+)$/m.exec(out)![1]!;
  expect(out).toMatch(
    new RegExp(`^base:\\s+http://localhost:${stack.config.port}/s/${keyId}$`, 'm'),
  );
  base = `${stack.url}/s/${keyId}`;
});

afterAll(async () => {
  await stack?.close();
});

describe('GET /s/{key}', () => {
  let location: string;

  it('runs the job the node SDK signed as the key user and redirects to its export', async () => {
    const url = sdk.signedUrls.sign(base, secret, TEXT_JOB, 'note-v1');
    const first = await get(url);
    expect(first.status).toBe(302);
    location = first.location!;
    expect(location).toMatch(new RegExp(`^${stack.url}/download/`));

    const file = await fetch(location);
    expect(file.status).toBe(200);
    expect(file.headers.get('content-type')).toBe('application/pdf');
    expect(
      Buffer.from(await file.arrayBuffer())
        .subarray(0, 5)
        .toString(),
    ).toBe('%PDF-');
    expect(await jobCount()).toBe(1);
  });

  it('reuses the result for the same cache_key and job, without a new job', async () => {
    const again = await get(sdk.signedUrls.sign(base, secret, TEXT_JOB, 'note-v1'));
    expect(again.status).toBe(302);
    expect(again.location!.split('?')[0]).toBe(location.split('?')[0]);
    expect(await jobCount()).toBe(1);
  });

  it('runs again when the cached files are gone, or without a cache_key', async () => {
    const files = await stack.deps.db.taskFile.findMany({ where: { task: { userId } } });
    await stack.deps.storage.delete(files.map((f) => f.storageKey));
    const rerun = await get(sdk.signedUrls.sign(base, secret, TEXT_JOB, 'note-v1'));
    expect(rerun.status).toBe(302);
    expect(rerun.location!.split('?')[0]).not.toBe(location.split('?')[0]);
    expect(await jobCount()).toBe(2);

    const uncached = await get(sdk.signedUrls.sign(base, secret, TEXT_JOB, null));
    expect(uncached.status).toBe(302);
    expect(await jobCount()).toBe(3);
  });

  it('answers a failed job with the JSON code of its failed task', async () => {
    const failing = {
      tasks: {
        fetch: { operation: 'import/url', url: 'http://127.0.0.1:9/missing.pdf' },
        out: { operation: 'export/url', input: 'fetch' },
      },
    } as const;
    const res = await get(sdk.signedUrls.sign(base, secret, failing, null));
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.res.headers.get('content-type')).toContain('application/json');
    expect(JSON.parse(res.text).code).toBe('IMPORT_FAILED');
  });

  it('refuses a wrong signature, a changed job and an unknown key with 403', async () => {
    const url = sdk.signedUrls.sign(base, secret, TEXT_JOB, 'note-v1');
    const wrongSecret = sdk.signedUrls.sign(base, `${secret}x`, TEXT_JOB, 'note-v1');
    const changed = url.replace('cache_key=note-v1', 'cache_key=note-v2');
    const unknown = url.replace(keyId, '00000000-0000-4000-8000-000000000000');
    for (const bad of [wrongSecret, changed, unknown, `${base}?job=e30`]) {
      const res = await get(bad);
      expect(res.status).toBe(403);
      expect(JSON.parse(res.text).code).toBe('INVALID_SIGNATURE');
    }
  });

  it('refuses a signed job that is not valid with 422, creating nothing', async () => {
    const before = await jobCount();
    const sign = (query: string) => {
      const unsigned = `${base}?${query}`;
      return `${unsigned}&s=${createHmac('sha256', secret).update(unsigned).digest('hex')}`;
    };
    const noExport = { tasks: { text: TEXT_JOB.tasks.text } };
    for (const url of [
      sign('job=!!!'),
      sign(`job=${Buffer.from('[1,2]').toString('base64url')}`),
      sdk.signedUrls.sign(base, secret, { tasks: { x: { operation: 'nope' } } } as never, null),
      sdk.signedUrls.sign(base, secret, noExport, null),
    ]) {
      const res = await get(url);
      expect(res.status).toBe(422);
      expect(JSON.parse(res.text).code).toMatch(/^INVALID_/);
    }
    expect(await jobCount()).toBe(before);
  });

  it('refuses the URLs of a revoked key, which the list shows as revoked', async () => {
    const url = sdk.signedUrls.sign(base, secret, TEXT_JOB, 'note-v1');
    expect((await get(url)).status).toBe(302);
    expect((await cli('signing-keys', 'revoke', keyId)).stdout).toContain('revoked');
    expect((await cli('signing-keys', 'list')).stdout).toMatch(
      new RegExp(`${keyId}\\tsigner@example.test\\t\\S+\\trevoked`),
    );
    const res = await get(url);
    expect(res.status).toBe(403);
    expect(JSON.parse(res.text).code).toBe('INVALID_SIGNATURE');
  });
});

describe('GET /s/{key} on the sandbox API', () => {
  it('runs a sandbox job when signed for the sandbox API (its origin)', async () => {
    const host = `sandbox.localhost:${stack.config.port}`;
    const job = {
      tasks: {
        text: { operation: 'import/raw', file: 'sandboxed\n', filename: 's.txt' },
        out: { operation: 'export/url', input: 'text' },
      },
    } as const;
    // The key of the tests above is revoked by now: a new one.
    const out = (await cli('signing-keys', 'create', '--email', 'signer@example.test')).stdout;
    const fresh = {
      id: /^id:\s+(\S+)$/m.exec(out)![1]!,
      secret: /^secret:\s+(\S+)$/m.exec(out)![1]!,
    };
    const url = new URL(
      sdk.signedUrls.sign(`http://${host}/s/${fresh.id}`, fresh.secret, job, null),
    );
    const before = await jobCount();
    const status = await new Promise<number>((resolve, reject) => {
      http
        .get(`${stack.url}${url.pathname}${url.search}`, { headers: { host } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        })
        .on('error', reject);
    });
    expect(status).toBe(302);
    expect(await jobCount()).toBe(before + 1);
    const newest = await stack.deps.db.job.findFirst({
      where: { userId },
      orderBy: { createdAt: 'desc' },
    });
    expect(newest!.sandbox).toBe(true);
  });
});
