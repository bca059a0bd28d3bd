// The sync API (API.md §1.5, §2.1, §5.1, §10.3) over real HTTP: GET of a job or task blocks on the
// sync port and on `sync.` host names until it ends, answers at once on the main port, and the
// legacy `/wait` routes block everywhere.
import http from 'node:http';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { eventually, startStack, type Stack } from '../../../test/harness';
import { call, expectEnvelope, expectError, rawRequest, sleep, upload } from './wire-helpers';

let stack: Stack;
let key: string;

beforeAll(async () => {
  stack = await startStack({ workerOptions: { engines: [] } });
  ({ key } = await stack.createUser());
});

afterAll(async () => {
  await stack?.close();
});

const auth = () => ({ authorization: `Bearer ${key}` });
const CONTENT = Buffer.from('%PDF-1.4\n' + 'x'.repeat(2000) + '\n%%EOF\n');

interface Timed {
  at: number;
  status: number;
  text: string;
  json: any;
}

/** Starts a request now; resolves with the response and when it arrived. */
function timed(request: Promise<{ status: number; text: string; json: any }>): {
  settled: () => boolean;
  done: Promise<Timed>;
} {
  let settled = false;
  const done = request.then((res) => {
    settled = true;
    return { at: Date.now(), status: res.status, text: res.text, json: res.json };
  });
  return { settled: () => settled, done };
}

async function createUploadJob() {
  const res = await call(stack, key, 'POST', '/v2/jobs', {
    body: {
      tag: 'sync',
      tasks: {
        'import-it': { operation: 'import/upload' },
        'export-it': { operation: 'export/url', input: 'import-it' },
      },
    },
  });
  expect(res.status).toBe(201);
  return res.json.data;
}

describe('sync API', () => {
  it('blocks GET of a job on the sync port and on sync. hosts until it ends; the main port answers at once', async () => {
    const job = await createUploadJob();
    const [importTask, exportTask] = job.tasks;
    const waits = {
      syncPort: timed(call(stack, key, 'GET', `/v2/jobs/${job.id}`, { base: stack.syncUrl })),
      syncHost: timed(
        rawRequest(`${stack.url}/v2/jobs/${job.id}`, {
          headers: { ...auth(), host: 'sync.convertd.test:8080' },
        }),
      ),
      syncPortTask: timed(
        call(stack, key, 'GET', `/v2/tasks/${exportTask.id}`, { base: stack.syncUrl }),
      ),
      legacyJob: timed(call(stack, key, 'GET', `/v2/jobs/${job.id}/wait`)),
      legacyTask: timed(call(stack, key, 'GET', `/v2/tasks/${exportTask.id}/wait`)),
    };
    await eventually(async () => stack.deps.waiters.size >= 5 && true, 5000);

    const started = Date.now();
    const now = await call(stack, key, 'GET', `/v2/jobs/${job.id}`);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(now.status).toBe(200);
    expect(now.json.data.status).toBe('waiting');
    const hostOnMain = await rawRequest(`${stack.url}/v2/jobs/${job.id}`, {
      headers: { ...auth(), host: 'api.convertd.test' },
    });
    expect(hostOnMain.json.data.status).toBe('waiting');

    await sleep(500);
    for (const [name, wait] of Object.entries(waits)) {
      expect([name, wait.settled()]).toEqual([name, false]);
    }
    const uploadStarted = Date.now();
    const uploaded = await upload(importTask.result.form.url, 'input.pdf', CONTENT);
    expect(uploaded.status).toBe(201);

    const results = Object.fromEntries(
      await Promise.all(
        Object.entries(waits).map(async ([name, w]) => [name, await w.done] as const),
      ),
    );
    for (const [name, res] of Object.entries(results)) {
      expect([name, res.status]).toEqual([name, 200]);
      expect(res.at).toBeGreaterThanOrEqual(uploadStarted);
      const data = expectEnvelope(res.text);
      expect([name, data.status]).toEqual([name, 'finished']);
    }
    expect(results.syncPort!.json.data.tasks.map((t: any) => t.status)).toEqual([
      'finished',
      'finished',
    ]);
    expect(results.syncPortTask!.json.data.result.files[0]).toMatchObject({
      filename: 'input.pdf',
      size: CONTENT.length,
    });

    // Links in sync answers point at the main origin.
    expect(results.syncPort!.json.data.links.self).toBe(`${stack.url}/v2/jobs/${job.id}`);
    expect(results.syncPortTask!.json.data.links.self).toBe(
      `${stack.url}/v2/tasks/${exportTask.id}`,
    );
    expect(
      results.syncPortTask!.json.data.result.files[0].url.startsWith(`${stack.url}/download/`),
    ).toBe(true);
    expect(results.syncHost!.json.data.links.self).toBe(
      `http://convertd.test:8080/v2/jobs/${job.id}`,
    );
    expect(results.legacyJob!.json.data.links.self).toBe(`${stack.url}/v2/jobs/${job.id}`);
    expect(stack.deps.waiters.size).toBe(0);
  });

  it('answers at once for a job or task that already ended, including in error', async () => {
    const job = await createUploadJob();
    const cancelled = await call(stack, key, 'POST', `/v2/tasks/${job.tasks[0].id}/cancel`);
    expect(cancelled.status).toBe(200);
    for (const route of [
      `/v2/jobs/${job.id}`,
      `/v2/tasks/${job.tasks[1].id}`,
      `/v2/tasks/${job.tasks[0].id}`,
    ]) {
      const res = await call(stack, key, 'GET', route, { base: stack.syncUrl });
      expect([route, res.status]).toEqual([route, 200]);
      expect(expectEnvelope(res.text).status).toBe('error');
    }
    const dependant = (
      await call(stack, key, 'GET', `/v2/tasks/${job.tasks[1].id}`, { base: stack.syncUrl })
    ).json.data;
    expect(dependant).toMatchObject({ status: 'error', code: 'INPUT_TASK_FAILED' });
  });

  it('answers 404 JSON for unknown and malformed ids on the sync port and sync hosts', async () => {
    const unknown = '0b6f6f5e-2c1a-4c1e-9d59-3f4a3c1f0a77';
    for (const route of [
      `/v2/jobs/${unknown}`,
      `/v2/tasks/${unknown}`,
      '/v2/jobs/nope',
      '/v2/tasks/nope',
      '/v2/nothing',
    ]) {
      const res = await call(stack, key, 'GET', route, { base: stack.syncUrl });
      expect([route, res.status]).toEqual([route, 404]);
      expectError(res, 404, 'NOT_FOUND', 'Not Found');
      const viaHost = await rawRequest(`${stack.url}${route}`, {
        headers: { ...auth(), host: 'sync.api.convertd.test' },
      });
      expectError(viaHost, 404, 'NOT_FOUND', 'Not Found');
    }
    expect(stack.deps.waiters.size).toBe(0);
  });

  it('serves the rest of the API on the sync port without blocking', async () => {
    const me = await call(stack, key, 'GET', '/v2/users/me', { base: stack.syncUrl });
    expect(me.status).toBe(200);
    expect(expectEnvelope(me.text).links.self).toMatch(new RegExp(`^${stack.url}/v2/users/\\d+$`));
    const list = await call(stack, key, 'GET', '/v2/jobs?filter[status]=waiting', {
      base: stack.syncUrl,
    });
    expect(list.status).toBe(200);
    expect(list.json.meta.path).toBe(`${stack.url}/v2/jobs`);
  });

  it('stops waiting when the client goes away', async () => {
    const job = await createUploadJob();
    // node:http rather than fetch: undici opens a spare connection after an abort, which keeps
    // the server from closing in afterAll.
    const req = http.request(`${stack.syncUrl}/v2/jobs/${job.id}`, {
      headers: auth(),
      agent: false,
    });
    const failed = new Promise<Error>((resolve) => req.on('error', resolve));
    req.end();
    await eventually(async () => stack.deps.waiters.size === 1, 5000);
    req.destroy();
    expect(await failed).toBeInstanceOf(Error);
    await eventually(async () => stack.deps.waiters.size === 0, 5000);
  });
});
