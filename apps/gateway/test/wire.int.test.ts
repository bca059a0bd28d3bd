// The wire contract of API.md §2-§3 and §10 over real HTTP: status lines and reason phrases,
// envelope bytes, key order against recorded responses, types and `include=`. Lists: lists.int.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startStack, type Stack } from '../../../test/harness';
import {
  call,
  expectEnvelope,
  expectError,
  expectKeyOrder,
  fixtureKeys,
  TIMESTAMP,
  UUID,
} from './wire-helpers';

let stack: Stack;
let key: string;
let userId: number;

beforeAll(async () => {
  // No engines: convert tasks stay queued, imports and exports run on the io queue.
  stack = await startStack({ workerOptions: { engines: [] } });
  ({ key, id: userId } = await stack.createUser());
});

afterAll(async () => {
  await stack?.close();
});

const UPLOAD_JOB = {
  'import-it': { operation: 'import/upload' },
  'export-it': { operation: 'export/url', input: 'import-it' },
};

async function createJob(tasks: Record<string, unknown> = UPLOAD_JOB, tag: string | null = 'wire') {
  const res = await call(stack, key, 'POST', '/v2/jobs', { body: { tasks, tag } });
  expect(res.status).toBe(201);
  return res.json.data;
}

async function createTask(operation: string, body: Record<string, unknown> = {}) {
  const res = await call(stack, key, 'POST', `/v2/${operation}`, { body });
  expect(res.status).toBe(201);
  return res.json.data;
}

function expectTaskTypes(task: Record<string, any>): void {
  for (const field of ['percent', 'user_id', 'priority']) {
    expect(Number.isInteger(task[field])).toBe(true);
  }
  expect(task.user_id).toBe(userId);
  expect(task.created_at).toMatch(TIMESTAMP);
  for (const field of ['started_at', 'ended_at']) {
    expect(task[field] === null || TIMESTAMP.test(task[field])).toBe(true);
  }
  expect(task.links).toEqual({ self: `${stack.url}/v2/tasks/${task.id}` });
  for (const optional of ['payload', 'retries', 'depends_on_tasks', 'job']) {
    expect(task).not.toHaveProperty(optional);
  }
}

describe('status codes and reason phrases', () => {
  it('POST /v2/jobs answers 201 Created with the job, its named tasks and a ready upload form', async () => {
    const res = await call(stack, key, 'POST', '/v2/jobs', {
      body: { tasks: UPLOAD_JOB, tag: 'created' },
    });
    expect([res.status, res.statusText]).toEqual([201, 'Created']);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const job = expectEnvelope(res.text);
    expect(job.id).toMatch(UUID);
    expect(job.tag).toBe('created');
    expect(job.status).toBe('waiting');
    expect(job.created_at).toMatch(TIMESTAMP);
    expect([job.started_at, job.ended_at]).toEqual([null, null]);
    expect(job.links).toEqual({ self: `${stack.url}/v2/jobs/${job.id}` });
    expect(job.tasks.map((t: any) => t.name)).toEqual(['import-it', 'export-it']);
    const [upload, exp] = job.tasks;
    expect(upload.job_id).toBe(job.id);
    expect(upload.result.form.url).toMatch(
      new RegExp(`^${stack.url}/upload/${upload.id}\\?expires=\\d+&signature=[0-9a-f]{64}$`),
    );
    expect(upload.result.form.parameters).toEqual({});
    expect(exp.depends_on_task_ids).toEqual([upload.id]);
    expect(exp.result).toBeNull();
    for (const t of job.tasks) {
      expectTaskTypes(t);
    }
    expectKeyOrder(
      upload,
      fixtureKeys('cloudconvert-dotnet__upload_task_created.json', (r) => r.data),
    );
  });

  it('every POST /v2/{operation} answers 201 Created with a standalone task', async () => {
    const upload = await createTask('import/upload');
    const bodies: Record<string, Record<string, unknown>> = {
      'import/upload': {},
      'import/url': { url: `${stack.url}/healthz`, filename: 'health.json' },
      'import/base64': { file: Buffer.from('hello').toString('base64'), filename: 'hello.txt' },
      'import/raw': { file: 'hello', filename: 'hello.txt' },
      convert: { input: upload.id, output_format: 'pdf' },
      'export/url': { input: [upload.id] },
    };
    for (const [operation, body] of Object.entries(bodies)) {
      const res = await call(stack, key, 'POST', `/v2/${operation}`, { body });
      expect([operation, res.status, res.statusText]).toEqual([operation, 201, 'Created']);
      const task = expectEnvelope(res.text);
      expect(task.operation).toBe(operation);
      expect(task.job_id).toBeNull();
      expect(task).not.toHaveProperty('name');
      // Imports that carry their bytes are stored by the gateway: finished when created.
      const inline = operation === 'import/raw' || operation === 'import/base64';
      expect(inline ? ['finished'] : ['waiting', 'processing']).toContain(task.status);
      expectTaskTypes(task);
      if (operation === 'convert' || operation === 'export/url') {
        expect(task.status).toBe('waiting');
        expect(task.depends_on_task_ids).toEqual([upload.id]);
      }
      const recorded = fixtureKeys('cloudconvert-dotnet__task_created.json', (r) => r.data);
      expectKeyOrder(task, recorded);
      expect('engine' in task).toBe(operation === 'convert');
    }
  });

  it('cancel answers 200 OK, retry 201 Created with a new task, a second cancel 422', async () => {
    const task = await createTask('import/upload');
    const cancelled = await call(stack, key, 'POST', `/v2/tasks/${task.id}/cancel`);
    expect([cancelled.status, cancelled.statusText]).toEqual([200, 'OK']);
    const data = expectEnvelope(cancelled.text);
    expect(data).toMatchObject({
      id: task.id,
      status: 'error',
      code: 'CANCELLED',
      message: 'The task has been cancelled',
    });
    expect(data.ended_at).toMatch(TIMESTAMP);

    const again = await call(stack, key, 'POST', `/v2/tasks/${task.id}/cancel`);
    expect(expectError(again, 422, 'INVALID_DATA', /Unprocessable/).errors).toEqual({
      status: ['Cannot change status: task already completed.'],
    });

    const retried = await call(stack, key, 'POST', `/v2/tasks/${task.id}/retry`);
    expect([retried.status, retried.statusText]).toEqual([201, 'Created']);
    const retry = expectEnvelope(retried.text);
    expect(retry.id).toMatch(UUID);
    expect(retry.id).not.toBe(task.id);
    expect(retry).toMatchObject({
      status: 'waiting',
      operation: 'import/upload',
      retry_of_task_id: task.id,
      copy_of_task_id: task.id,
    });
    expect(retry.result.form.url).toContain(`/upload/${retry.id}?`);
  });

  it('DELETE of a task and of a job answers 204 No Content with an empty body', async () => {
    const task = await createTask('import/upload');
    const job = await createJob();
    for (const route of [`/v2/tasks/${task.id}`, `/v2/jobs/${job.id}`]) {
      const res = await call(stack, key, 'DELETE', route);
      expect([res.status, res.statusText, res.text]).toEqual([204, 'No Content', '']);
      expect(res.headers.get('content-type')).toBeNull();
      expectError(await call(stack, key, 'GET', route), 404, 'NOT_FOUND', 'Not Found');
    }
    // The job's tasks went with it.
    expectError(await call(stack, key, 'GET', `/v2/tasks/${job.tasks[0].id}`), 404, 'NOT_FOUND');
  });
});

describe('envelope and object shapes', () => {
  it('single objects are compact {"data":…} on the main and on the sync port', async () => {
    const job = await createJob();
    const task = await createTask('import/upload');
    await call(stack, key, 'POST', `/v2/tasks/${task.id}/cancel`);
    for (const [base, route] of [
      [stack.url, `/v2/jobs/${job.id}`],
      [stack.url, `/v2/tasks/${task.id}`],
      [stack.url, '/v2/users/me'],
      [stack.syncUrl, `/v2/tasks/${task.id}`],
      [stack.syncUrl, '/v2/users/me'],
    ] as const) {
      const res = await call(stack, key, 'GET', route, { base });
      expect([route, res.status]).toEqual([route, 200]);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      const data = expectEnvelope(res.text);
      expect(data.links.self.startsWith(`${stack.url}/v2/`)).toBe(true);
    }
  });

  it('a job shows its tasks without payload, retries, depends_on_tasks or job', async () => {
    const job = await createJob({
      'import-it': { operation: 'import/upload' },
      'convert-it': { operation: 'convert', input: 'import-it', output_format: 'pdf' },
    });
    const res = await call(stack, key, 'GET', `/v2/jobs/${job.id}`);
    const shown = expectEnvelope(res.text);
    expect(Object.keys(shown)).toEqual([
      'id',
      'tag',
      'status',
      'created_at',
      'started_at',
      'ended_at',
      'tasks',
      'links',
    ]);
    const convert = shown.tasks.find((t: any) => t.name === 'convert-it');
    expectTaskTypes(convert);
    expect([convert.engine, convert.engine_version]).toEqual([null, null]);
    expectKeyOrder(
      convert,
      fixtureKeys('cloudconvert-dotnet__webhook_job_created_payload.json', (r) => r.job.tasks[1]),
    );
  });

  it('include= adds payload, retries, depends_on_tasks and job, in the recorded positions', async () => {
    const job = await createJob({
      'import-it': { operation: 'import/upload' },
      'convert-it': { operation: 'convert', input: 'import-it', output_format: 'pdf' },
    });
    const [upload, convert] = job.tasks;
    const res = await call(
      stack,
      key,
      'GET',
      `/v2/tasks/${convert.id}?include=payload,depends_on_tasks,job,retries`,
    );
    const task = expectEnvelope(res.text);
    expect(task.payload).toEqual({
      operation: 'convert',
      input: ['import-it'],
      output_format: 'pdf',
    });
    expect(task.depends_on_tasks.map((t: any) => t.id)).toEqual([upload.id]);
    expect(task.depends_on_tasks[0]).not.toHaveProperty('payload');
    expect(task.job).toMatchObject({ id: job.id, tag: 'wire', status: 'waiting' });
    expect(task.retries).toEqual([]);
    const keys = Object.keys(task);
    expect(keys.indexOf('payload')).toBe(keys.indexOf('engine_version') + 1);
    expect(keys.indexOf('result')).toBe(keys.indexOf('payload') + 1);

    await call(stack, key, 'POST', `/v2/tasks/${upload.id}/cancel`);
    const retry = (await call(stack, key, 'POST', `/v2/tasks/${upload.id}/retry`)).json.data;
    const withRetries = (await call(stack, key, 'GET', `/v2/tasks/${upload.id}?include=retries`))
      .json.data;
    expect(withRetries.retries.map((t: any) => t.id)).toEqual([retry.id]);
    expect(withRetries).not.toHaveProperty('payload');
  });

  it('the user has an integer id and the recorded keys', async () => {
    const res = await call(stack, key, 'GET', '/v2/users/me');
    expect([res.status, res.statusText]).toEqual([200, 'OK']);
    const me = expectEnvelope(res.text);
    expect(me.id).toBe(userId);
    expect(Number.isInteger(me.credits)).toBe(true);
    expect(me.created_at).toMatch(TIMESTAMP);
    expect(Object.keys(me)).toEqual([
      'id',
      'username',
      'email',
      'created_at',
      'credits',
      'paying',
      'task_priority',
      'tasks_per_minute',
      'links',
    ]);
    expect(me.links).toEqual({ self: `${stack.url}/v2/users/${userId}` });
  });
});
