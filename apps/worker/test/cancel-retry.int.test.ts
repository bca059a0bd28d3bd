// Cancelling waiting, running and finished tasks, and retrying failed and cancelled ones, with a
// fake engine (our Engine seam) where a conversion must be slow or fail on purpose.
import fs from 'node:fs';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { WorkerRuntime } from '../src/runtime';
import { api, eventually, startStack, type Stack } from '../../../test/harness';
import { FakeEngine } from './fixtures/fake-engine';
import {
  byName,
  createJob,
  createTask,
  exportedFiles,
  expectNoTaskDirs,
  startServer,
  waitJob,
  waitStatus,
  waitTask,
  type Json,
  type TestServer,
} from './support';

let stack: Stack;
let key: string;
let server: TestServer;
let serverClosedRequest: () => void = () => undefined;
const slow = new FakeEngine({ name: 'slow', delayMs: 30_000 });
let flakyWorker: WorkerRuntime;

beforeAll(async () => {
  // Local storage whatever CONVERTD_TEST_STORAGE says: the test looks into DATA_DIR.
  stack = await startStack({ storage: 'local' });
  ({ key } = await stack.createUser());
  await stack.startWorker({ engines: [slow], hostName: 'worker-slow' });
  flakyWorker = await stack.startWorker({
    engines: [new FakeEngine({ name: 'flaky', failFirst: 1 })],
    hostName: 'worker-flaky',
  });
  // Sends a little of a big file, then nothing: an import that only a cancel can end.
  server = await startServer((req, res) => {
    req.socket.once('close', () => serverClosedRequest());
    res.setHeader('content-length', '10000000');
    res.write('the beginning');
  });
});

afterAll(async () => {
  await server?.close();
  await stack?.close();
});

/** Every file in local storage (DATA_DIR). */
function storedFiles(): string[] {
  const root = stack.env.DATA_DIR!;
  return fs.existsSync(root)
    ? fs
        .readdirSync(root, { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile())
        .map((e) => path.join(e.parentPath, e.name))
    : [];
}

async function importRaw(content: string, filename: string): Promise<Json> {
  const task = await createTask(stack, key, 'import/raw', { file: content, filename });
  const done = await waitTask(stack, key, task.id);
  expect(done.status).toBe('finished');
  return done;
}

async function upload(formUrl: string, content: string, filename: string) {
  const form = new FormData();
  form.append('file', new Blob([content]), filename);
  return fetch(formUrl, { method: 'POST', body: form });
}

describe('cancel', () => {
  it('cancels a waiting upload: 200, CANCELLED, and its dependants fail with INPUT_TASK_FAILED', async () => {
    const created = await createJob(stack, key, {
      up: { operation: 'import/upload' },
      conv: { operation: 'convert', input: 'up', output_format: 'pdf' },
      exp: { operation: 'export/url', input: 'conv' },
    });
    const up = byName(created, 'up');
    expect(up.status).toBe('waiting');

    const res = await api(stack, key, 'POST', `/v2/tasks/${up.id}/cancel`);
    expect(res.status).toBe(200);
    expect(res.text.startsWith('{"data":')).toBe(true);
    expect(res.json.data).toMatchObject({
      id: up.id,
      status: 'error',
      code: 'CANCELLED',
      message: 'The task has been cancelled',
    });
    expect(res.json.data.ended_at).not.toBeNull();

    const job = await waitJob(stack, key, created.id);
    expect(job.status).toBe('error');
    for (const name of ['conv', 'exp']) {
      expect(byName(job, name)).toMatchObject({
        status: 'error',
        code: 'INPUT_TASK_FAILED',
        message: 'Input task has failed',
        started_at: null,
      });
    }
    // The form of a cancelled upload takes no file.
    const late = await upload(up.result.form.url, 'too late', 'late.txt');
    expect(late.status).toBe(409);
  });

  it('refuses to cancel a finished task with 422 INVALID_DATA', async () => {
    const done = await importRaw('finished already', 'done.txt');
    const res = await api(stack, key, 'POST', `/v2/tasks/${done.id}/cancel`);
    expect(res.status).toBe(422);
    expect(res.json).toMatchObject({
      code: 'INVALID_DATA',
      message: 'The given data was invalid.',
    });
    expect(res.json.errors).toHaveProperty('status');
    const after = await api(stack, key, 'GET', `/v2/tasks/${done.id}`);
    expect(after.json.data).toMatchObject({ status: 'finished', code: null });
  });

  it('stops a running conversion: the engine gets the abort signal and the task stays CANCELLED', async () => {
    const created = await createJob(stack, key, {
      src: { operation: 'import/raw', file: 'slow input', filename: 'slow.txt' },
      conv: { operation: 'convert', input: 'src', output_format: 'out', engine: 'slow' },
      exp: { operation: 'export/url', input: 'conv' },
    });
    const conv = byName(created, 'conv');
    const callsBefore = slow.calls.length;
    const running = await waitStatus(stack, key, conv.id, 'processing');
    expect(running).toMatchObject({ engine: 'slow', engine_version: expect.any(String) });
    const call = await eventually(async () => slow.calls[callsBefore], 10_000);
    expect(call.aborted).toBe(false);

    const cancelledAt = Date.now();
    const res = await api(stack, key, 'POST', `/v2/tasks/${conv.id}/cancel`);
    expect(res.status).toBe(200);
    expect(res.json.data).toMatchObject({ status: 'error', code: 'CANCELLED' });

    await eventually(async () => call.endedAt !== null, 5000);
    expect(call.aborted).toBe(true);
    expect((call.reason as { code?: string }).code).toBe('CANCELLED');
    expect(call.endedAt! - cancelledAt).toBeLessThan(5000);

    // The runner's own failure after the abort must not overwrite the cancellation.
    await expectNoTaskDirs(stack.env.WORK_DIR!);
    const job = await waitJob(stack, key, created.id);
    expect(job.status).toBe('error');
    expect(byName(job, 'conv')).toMatchObject({
      status: 'error',
      code: 'CANCELLED',
      message: 'The task has been cancelled',
      result: null,
    });
    expect(byName(job, 'exp')).toMatchObject({
      status: 'error',
      code: 'INPUT_TASK_FAILED',
      started_at: null,
    });
    expect(await stack.deps.db.taskFile.count({ where: { taskId: conv.id } })).toBe(0);
  });

  it('stops an import/url that is downloading when it is cancelled', async () => {
    const closed = new Promise<void>((resolve) => (serverClosedRequest = resolve));
    const task = await createTask(stack, key, 'import/url', {
      url: `${server.origin}/endless.bin`,
    });
    await waitStatus(stack, key, task.id, 'processing');
    await eventually(async () => server.requests.some((r) => r.url === '/endless.bin'), 10_000);

    const res = await api(stack, key, 'POST', `/v2/tasks/${task.id}/cancel`);
    expect(res.status).toBe(200);
    await closed; // the worker hung up
    await expectNoTaskDirs(stack.env.WORK_DIR!);
    const after = await api(stack, key, 'GET', `/v2/tasks/${task.id}`);
    expect(after.json.data).toMatchObject({ status: 'error', code: 'CANCELLED', result: null });
    expect(storedFiles().filter((f) => f.includes(task.id))).toEqual([]);
  });

  it('stops a running conversion when its job is deleted, and keeps none of its files', async () => {
    const created = await createJob(stack, key, {
      src: { operation: 'import/raw', file: 'to be deleted', filename: 'gone.txt' },
      conv: { operation: 'convert', input: 'src', output_format: 'out', engine: 'slow' },
    });
    const callsBefore = slow.calls.length;
    await waitStatus(stack, key, byName(created, 'conv').id, 'processing');
    const call = await eventually(async () => slow.calls[callsBefore], 10_000);
    const srcId = byName(created, 'src').id as string;
    expect(storedFiles().filter((f) => f.includes(srcId))).toHaveLength(1);

    expect((await api(stack, key, 'DELETE', `/v2/jobs/${created.id}`)).status).toBe(204);
    await eventually(async () => call.endedAt !== null, 5000);
    expect(call.aborted).toBe(true);
    await expectNoTaskDirs(stack.env.WORK_DIR!);
    expect(
      storedFiles().filter((f) => f.includes(srcId) || f.includes(byName(created, 'conv').id)),
    ).toEqual([]);
    expect(await stack.deps.db.task.count({ where: { jobId: created.id } })).toBe(0);
    expect((await api(stack, key, 'GET', `/v2/jobs/${created.id}`)).status).toBe(404);
  });
});

describe('retry', () => {
  it('retries a failed conversion as a new waiting task that then runs', async () => {
    const src = await importRaw('retry me', 'data.txt');
    const first = await createTask(stack, key, 'convert', {
      input: src.id,
      output_format: 'out',
      engine: 'flaky',
    });
    const failed = await waitTask(stack, key, first.id);
    expect(failed).toMatchObject({
      status: 'error',
      code: 'ENGINE_FAILED',
      message: 'The conversion engine failed',
    });

    // No worker serves the engine for now, so the retry is seen waiting.
    await flakyWorker.close();
    const res = await api(stack, key, 'POST', `/v2/tasks/${first.id}/retry`);
    expect(res.status).toBe(201);
    const retry = res.json.data as Json;
    expect(retry.id).not.toBe(first.id);
    expect(retry).toMatchObject({
      status: 'waiting',
      operation: 'convert',
      retry_of_task_id: first.id,
      copy_of_task_id: first.id,
      depends_on_task_ids: [src.id],
      started_at: null,
      ended_at: null,
      code: null,
    });

    const again = await api(stack, key, 'POST', `/v2/tasks/${retry.id}/retry`);
    expect(again.status).toBe(422);

    await stack.startWorker({
      engines: [new FakeEngine({ name: 'flaky', label: 'second' })],
      hostName: 'worker-flaky-2',
    });
    const done = await waitTask(stack, key, retry.id);
    expect(done).toMatchObject({
      status: 'finished',
      engine: 'flaky',
      engine_version: '1.0.0',
      host_name: 'worker-flaky-2',
    });
    expect(done.result.files).toEqual([{ filename: 'data.out', size: 'second:retry me'.length }]);

    const old = await api(stack, key, 'GET', `/v2/tasks/${first.id}?include=retries`);
    expect(old.json.data).toMatchObject({ status: 'error', code: 'ENGINE_FAILED' });
    expect(old.json.data.retries.map((t: Json) => t.id)).toEqual([retry.id]);

    const exp = await createTask(stack, key, 'export/url', { input: retry.id });
    const files = await exportedFiles(await waitTask(stack, key, exp.id));
    expect(files.map((f) => f.bytes.toString())).toEqual(['second:retry me']);
  });

  it('retries a cancelled upload as a new upload task whose form accepts a file', async () => {
    const first = await createTask(stack, key, 'import/upload', {});
    expect((await api(stack, key, 'POST', `/v2/tasks/${first.id}/cancel`)).status).toBe(200);

    const res = await api(stack, key, 'POST', `/v2/tasks/${first.id}/retry`);
    expect(res.status).toBe(201);
    const retry = res.json.data as Json;
    expect(retry).toMatchObject({
      status: 'waiting',
      operation: 'import/upload',
      retry_of_task_id: first.id,
      copy_of_task_id: first.id,
    });
    expect(retry.result.form.url).toMatch(new RegExp(`^${stack.url}/upload/${retry.id}\\?`));
    expect(retry.result.form.url).not.toBe(first.result.form.url);

    expect((await upload(first.result.form.url, 'old form', 'old.txt')).status).toBe(409);
    const sent = await upload(retry.result.form.url, 'uploaded after retry', 'retried.txt');
    expect(sent.status).toBe(201);
    const done = await waitTask(stack, key, retry.id);
    expect(done.status).toBe('finished');
    expect(done.result.files).toMatchObject([
      { filename: 'retried.txt', size: 'uploaded after retry'.length },
    ]);
    expect((await api(stack, key, 'GET', `/v2/tasks/${first.id}`)).json.data).toMatchObject({
      status: 'error',
      code: 'CANCELLED',
    });

    const exp = await createTask(stack, key, 'export/url', { input: retry.id });
    const files = await exportedFiles(await waitTask(stack, key, exp.id));
    expect(files.map((f) => [f.filename, f.bytes.toString()])).toEqual([
      ['retried.txt', 'uploaded after retry'],
    ]);
  });

  it('leaves no task directory in the work dir', async () => {
    await expectNoTaskDirs(stack.env.WORK_DIR!);
  });
});
