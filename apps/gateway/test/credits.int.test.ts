// Credits and usage (API.md §7): finished processing tasks take their cost from the balance
// (imports and exports are free, sandbox tasks too), a used-up balance answers 402, and usage per
// day and operation is served at /v2/users/me/usage, through the official node SDK where it can.
import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

import { ConvertdCloudConvert } from '@convertd/cloudconvert-node';
import { claimTask, completeTask, createApiKey, createTask } from '@convertd/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { api, CORPUS, eventually, startStack, type Stack } from '../../../test/harness';

const PNG = fs.readFileSync(path.join(CORPUS, 'image/basn6a16.png')).toString('base64');

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack?.close();
});

const TODAY = new Date().toISOString().slice(0, 10);

function pngToJpgJob() {
  return {
    tasks: {
      in: { operation: 'import/base64', file: PNG, filename: 'pic.png' },
      jpg: { operation: 'convert', input: 'in', output_format: 'jpg' },
      out: { operation: 'export/url', input: 'jpg' },
    },
  } as const;
}

const byName = (job: { tasks: any[] }, name: string) => job.tasks.find((t) => t.name === name);

function client(key: string) {
  return new ConvertdCloudConvert(key, { url: stack.url, syncUrl: stack.syncUrl });
}

/** What the official SDK's error carries: the Response it failed on. */
async function failure(promise: Promise<unknown>): Promise<{ status: number; body: any }> {
  const err = await promise.then(
    () => {
      throw new Error('expected the SDK call to fail');
    },
    (e: unknown) => e as { cause?: Response },
  );
  return { status: err.cause!.status, body: await err.cause!.json() };
}

describe('credits', () => {
  it('charges a processing task 1 credit per started minute and leaves imports and exports free', async () => {
    const user = await stack.createUser({ credits: 10 });
    const cc = client(user.key);
    const created = await cc.jobs.create(pngToJpgJob());
    // The base64 import is stored and finished at creation (free); the others have not ended.
    expect(byName(created, 'in')).toMatchObject({ status: 'finished', credits: 0 });
    expect(byName(created, 'jpg').credits).toBeNull();
    expect(byName(created, 'out').credits).toBeNull();
    const done = await cc.jobs.wait(created.id);

    expect(done.status).toBe('finished');
    expect(byName(done, 'in').credits).toBe(0);
    expect(byName(done, 'jpg').credits).toBe(1);
    expect(byName(done, 'out').credits).toBe(0);
    expect((await cc.users.me()).credits).toBe(9);
    expect((await cc.tasks.get(byName(done, 'jpg').id)).credits).toBe(1);
  });

  it('answers 402 CREDITS_EXCEEDED on job and task creation once the balance is used up', async () => {
    const user = await stack.createUser({ credits: 1 });
    const cc = client(user.key);
    const done = await cc.jobs.wait((await cc.jobs.create(pngToJpgJob())).id);
    expect(done.status).toBe('finished');
    expect((await cc.users.me()).credits).toBe(0);

    const refused = await failure(cc.jobs.create(pngToJpgJob()));
    expect(refused).toEqual({
      status: 402,
      body: { message: 'Your account has run out of conversion minutes', code: 'CREDITS_EXCEEDED' },
    });
    const task = await api(stack, user.key, 'POST', '/v2/import/raw', {
      file: 'x',
      filename: 'x.txt',
    });
    expect(task.status).toBe(402);
    expect(task.json.code).toBe('CREDITS_EXCEEDED');
    const retry = await api(stack, user.key, 'POST', `/v2/tasks/${byName(done, 'jpg').id}/retry`);
    expect(retry.status).toBe(402);
    // Reading still works.
    expect((await cc.jobs.get(done.id)).status).toBe('finished');
    expect(await stack.deps.db.job.count({ where: { userId: user.id } })).toBe(1);
  });

  it('charges a task once, by the attempt that finishes it, even after a lost worker', async () => {
    const user = await stack.createUser({ credits: 10 });
    const id = randomUUID();
    // Not queued (the router says so), so only this test claims it: twice, as after a lost worker.
    const held = () => null;
    await createTask(
      stack.deps.db,
      { id, userId: user.id, name: null, operation: 'optimize', payload: {}, inputIds: [] },
      held,
      stack.deps.cipher,
    );
    const first = await claimTask(stack.deps.db, id, 'lost-worker', 3, held);
    const second = await claimTask(stack.deps.db, id, 'other-worker', 3, held);
    expect([first.kind, second.kind]).toEqual(['claimed', 'claimed']);
    const done = { result: {}, files: [], credits: 3 };

    expect(await completeTask(stack.deps.db, id, 1, done, held)).toBeNull();
    expect(await completeTask(stack.deps.db, id, 2, done, held)).not.toBeNull();
    expect(await completeTask(stack.deps.db, id, 2, done, held)).toBeNull();
    const task = await stack.deps.db.task.findUniqueOrThrow({ where: { id } });
    expect([task.status, task.credits]).toEqual(['finished', 3]);
    expect((await stack.deps.db.user.findUniqueOrThrow({ where: { id: user.id } })).credits).toBe(
      7,
    );
  });

  it('lets sandbox keys work for free at a zero balance', async () => {
    const user = await stack.createUser({ credits: 0, sandbox: true });
    await api(stack, user.key, 'POST', '/v2/users/me/sandbox/files', {
      md5: createHash('md5').update(Buffer.from(PNG, 'base64')).digest('hex'),
    });
    const cc = client(user.key);
    const done = await cc.jobs.wait((await cc.jobs.create(pngToJpgJob())).id);

    expect(done.status).toBe('finished');
    expect(byName(done, 'jpg').credits).toBe(0);
    expect((await cc.users.me()).credits).toBe(0);
  });
});

describe('credits of retries', () => {
  it('answers 402 to a sandbox key retrying a live task once the balance is used up', async () => {
    const user = await stack.createUser({ credits: 1 });
    const { key: sandboxKey } = await createApiKey(stack.deps.db, {
      userId: user.id,
      scopes: ['task.read', 'task.write'],
      sandbox: true,
    });
    const cc = client(user.key);
    const done = await cc.jobs.wait((await cc.jobs.create(pngToJpgJob())).id);
    expect(byName(done, 'jpg').credits).toBe(1);

    const retry = await api(stack, sandboxKey, 'POST', `/v2/tasks/${byName(done, 'jpg').id}/retry`);

    expect(retry.status).toBe(402);
    expect(retry.json).toMatchObject({ code: 'CREDITS_EXCEEDED' });
    expect(
      await stack.deps.db.task.count({ where: { retryOfTaskId: byName(done, 'jpg').id } }),
    ).toBe(0);
    expect((await stack.deps.db.user.findUniqueOrThrow({ where: { id: user.id } })).credits).toBe(
      0,
    );
  });

  it('lets a live key at a zero balance retry a sandbox task, for free', async () => {
    const user = await stack.createUser({ credits: 0, sandbox: true });
    const { key: liveKey } = await createApiKey(stack.deps.db, {
      userId: user.id,
      scopes: ['task.read', 'task.write'],
      sandbox: false,
    });
    await api(stack, user.key, 'POST', '/v2/users/me/sandbox/files', {
      md5: createHash('md5').update(Buffer.from(PNG, 'base64')).digest('hex'),
    });
    const cc = client(user.key);
    const done = await cc.jobs.wait((await cc.jobs.create(pngToJpgJob())).id);
    expect(done.status).toBe('finished');

    const retry = await api(stack, liveKey, 'POST', `/v2/tasks/${byName(done, 'jpg').id}/retry`);

    expect(retry.status).toBe(201);
    const ended = await cc.tasks.wait(retry.json.data.id);
    expect(ended).toMatchObject({ status: 'finished', credits: 0 });
    expect((await stack.deps.db.user.findUniqueOrThrow({ where: { id: user.id } })).credits).toBe(
      0,
    );
  });
});

describe('usage', () => {
  it('counts tasks, credits and engine seconds per day and operation, and keeps them after a deletion', async () => {
    const user = await stack.createUser();
    const cc = client(user.key);
    const jobs = [];
    for (let i = 0; i < 2; i += 1) {
      jobs.push(await cc.jobs.wait((await cc.jobs.create(pngToJpgJob())).id));
    }
    const usage = async (query = '') => {
      const res = await api(stack, user.key, 'GET', `/v2/users/me/usage${query}`);
      expect(res.status).toBe(200);
      return res.json as { data: any[]; meta: { from: string; to: string } };
    };

    const before = await usage();
    expect(before.meta.to).toBe(TODAY);
    const convert = before.data.find((r) => r.operation === 'convert');
    expect(convert).toMatchObject({ date: TODAY, tasks: 2, credits: 2 });
    expect(convert.engine_seconds).toBeGreaterThanOrEqual(0);
    expect(before.data.find((r) => r.operation === 'import/base64')).toMatchObject({
      tasks: 2,
      credits: 0,
    });
    expect(before.data.find((r) => r.operation === 'export/url')).toMatchObject({ tasks: 2 });

    await cc.jobs.delete(jobs[0]!.id);
    expect((await usage()).data).toEqual(before.data);
    expect((await usage(`?filter[from]=${TODAY}&filter[to]=${TODAY}`)).data).toEqual(before.data);
    expect((await usage('?filter[from]=2020-01-01&filter[to]=2020-01-31')).data).toEqual([]);
    expect((await usage('?filter[sandbox]=true')).data).toEqual([]);
  });

  it('refuses bad dates and ranges with 422', async () => {
    const user = await stack.createUser();
    for (const query of [
      '?filter[from]=2026-02-30',
      '?filter[to]=yesterday',
      '?filter[from]=2026-03-01&filter[to]=2026-02-01',
      '?filter[from]=2020-01-01&filter[to]=2026-01-01',
    ]) {
      const res = await api(stack, user.key, 'GET', `/v2/users/me/usage${query}`);
      expect([query, res.status, res.json.code]).toEqual([query, 422, 'INVALID_DATA']);
    }
  });
});

describe('CREDITS_PER_OPERATION on instant tasks', () => {
  let priced: Stack;

  beforeAll(async () => {
    priced = await startStack({
      workerOptions: { engines: [] },
      env: { CREDITS_PER_OPERATION: 'import/base64=2,import/raw=1,export/url=3' },
    });
  });

  afterAll(async () => {
    await priced?.close();
  });

  const balance = async (id: number) =>
    (await priced.deps.db.user.findUniqueOrThrow({ where: { id } })).credits;

  it('charges inline imports and instant exports, in jobs and alone', async () => {
    const user = await priced.createUser({ credits: 20 });
    const created = await api(priced, user.key, 'POST', '/v2/jobs', {
      tasks: {
        in: { operation: 'import/base64', file: PNG, filename: 'pic.png' },
        out: { operation: 'export/url', input: 'in' },
      },
    });
    expect(created.status).toBe(201);
    const job = created.json.data;
    expect(job.status).toBe('finished');
    expect([byName(job, 'in').credits, byName(job, 'out').credits]).toEqual([2, 3]);

    const raw = await api(priced, user.key, 'POST', '/v2/import/raw', {
      file: 'text',
      filename: 't.txt',
    });
    expect(raw.json.data).toMatchObject({ status: 'finished', credits: 1 });
    const out = await api(priced, user.key, 'POST', '/v2/export/url', { input: raw.json.data.id });
    expect(out.json.data).toMatchObject({ status: 'finished', credits: 3 });
    expect(await balance(user.id)).toBe(20 - 2 - 3 - 1 - 3);
  });

  it('charges an instant export that a worker’s import released', async () => {
    const user = await priced.createUser({ credits: 20 });
    const source = http.createServer((_req, res) => res.end('fetched by the worker'));
    await new Promise<void>((resolve) => source.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = source.address() as AddressInfo;
      const created = await api(priced, user.key, 'POST', '/v2/jobs', {
        tasks: {
          get: { operation: 'import/url', url: `http://127.0.0.1:${port}/w.txt` },
          out: { operation: 'export/url', input: 'get' },
        },
      });
      // import/url always runs on a worker: the export is released by its completion.
      expect(byName(created.json.data, 'out').status).toBe('waiting');
      const done = await eventually(async () => {
        const res = await api(priced, user.key, 'GET', `/v2/jobs/${created.json.data.id}`);
        return res.json.data.status === 'finished' ? res.json.data : null;
      });
      expect([byName(done, 'get').credits, byName(done, 'out').credits]).toEqual([0, 3]);
      expect(await balance(user.id)).toBe(20 - 3);
    } finally {
      source.closeAllConnections();
      await new Promise((resolve) => source.close(resolve));
    }
  });

  it('charges sandbox tasks nothing', async () => {
    const user = await priced.createUser({ credits: 20, sandbox: true });
    const created = await api(priced, user.key, 'POST', '/v2/jobs', {
      tasks: {
        in: { operation: 'import/raw', file: 'free', filename: 'f.txt' },
        out: { operation: 'export/url', input: 'in' },
      },
    });
    expect(created.json.data.status).toBe('finished');
    expect(created.json.data.tasks.map((t: { credits: number }) => t.credits)).toEqual([0, 0]);
    expect(await balance(user.id)).toBe(20);
  });
});
