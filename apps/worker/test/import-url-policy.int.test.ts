// With private URLs refused (the production default), import/url of a loopback or private
// address ends URL_NOT_ALLOWED before any connection is made.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startStack, type Stack } from '../../../test/harness';
import {
  byName,
  createJob,
  expectNoTaskDirs,
  startServer,
  waitJob,
  type TestServer,
} from './support';

let stack: Stack;
let key: string;
let server: TestServer;

beforeAll(async () => {
  stack = await startStack({ env: { CONVERTD_ALLOW_PRIVATE_URLS: 'false' } });
  ({ key } = await stack.createUser());
  server = await startServer((_req, res) => res.end('should never be read'));
});

afterAll(async () => {
  await server?.close();
  await stack?.close();
});

describe('outbound policy on import/url', () => {
  it('runs with private URLs refused', () => {
    expect(stack.config.allowPrivateUrls).toBe(false);
  });

  it.each([
    'http://127.0.0.1:PORT/file.txt',
    'http://localhost:PORT/file.txt',
    'http://[::ffff:127.0.0.1]:PORT/file.txt',
    'http://169.254.169.254/latest/meta-data/',
    'http://10.0.0.1/internal.docx',
  ])('refuses %s with URL_NOT_ALLOWED and sends no request', async (template) => {
    const url = template.replace('PORT', new URL(server.origin).port);
    const created = await createJob(stack, key, {
      fetch: { operation: 'import/url', url },
      out: { operation: 'export/url', input: 'fetch' },
    });
    const job = await waitJob(stack, key, created.id);

    expect(job.status).toBe('error');
    expect(byName(job, 'fetch')).toMatchObject({
      status: 'error',
      code: 'URL_NOT_ALLOWED',
      message: expect.stringMatching(
        /^The URL points to a loopback, private or link-local address/,
      ) as string,
      result: null,
    });
    expect(byName(job, 'out')).toMatchObject({ status: 'error', code: 'INPUT_TASK_FAILED' });
    expect(server.requests).toEqual([]);
  });

  it('still imports inline data', async () => {
    const created = await createJob(stack, key, {
      raw: { operation: 'import/raw', file: 'inline', filename: 'a.txt' },
    });
    expect((await waitJob(stack, key, created.id)).status).toBe('finished');
  });

  it('leaves no task directory in the work dir', async () => {
    await expectNoTaskDirs(stack.env.WORK_DIR!);
  });
});
