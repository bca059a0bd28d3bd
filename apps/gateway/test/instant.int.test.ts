// Tasks that take no queue trip (docs/architecture.md, decision 2): `import/raw` and
// `import/base64` are stored by the gateway and created finished, and an `export/url` that only
// lists files finishes in the transaction that releases it. No worker runs in this file: what
// finishes here finished in the gateway.
import fs from 'node:fs';
import path from 'node:path';

import { deleteExpired } from '@convertd/db';
import type { TaskEvent } from '@convertd/queue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { eventually, startStack, type Stack } from '../../../test/harness';
import { call, TIMESTAMP } from './wire-helpers';

let stack: Stack;
let key: string;
const events: TaskEvent[] = [];

beforeAll(async () => {
  stack = await startStack({ worker: false, env: { MAX_UPLOAD_BYTES: '1000' } });
  ({ key } = await stack.createUser());
  stack.deps.events.on('event', (e) => events.push(e));
});

afterAll(async () => {
  await stack?.close();
});

async function createJob(tasks: Record<string, unknown>, base = stack.url) {
  const res = await call(stack, key, 'POST', '/v2/jobs', { body: { tasks }, base });
  expect(res.status).toBe(201);
  return res.json.data;
}

function byName(job: any, name: string): any {
  return job.tasks.find((t: any) => t.name === name);
}

async function download(url: string): Promise<{ status: number; text: string }> {
  const res = await fetch(url);
  return { status: res.status, text: await res.text() };
}

function objectPath(key: string): string {
  return path.join(stack.config.dataDir, 'objects', key);
}

async function storageKeys(taskId: string): Promise<string[]> {
  const files = await stack.deps.db.taskFile.findMany({ where: { taskId } });
  return files.map((f) => f.storageKey);
}

describe('a job of import/raw -> export/url', () => {
  it('is finished when POST /v2/jobs answers, with the download working', async () => {
    const job = await createJob({
      raw: { operation: 'import/raw', file: 'made in the gateway ✓', filename: 'made.txt' },
      out: { operation: 'export/url', input: 'raw' },
    });
    expect(job.status).toBe('finished');
    expect(job.started_at).toMatch(TIMESTAMP);
    expect(job.ended_at).toMatch(TIMESTAMP);
    const raw = byName(job, 'raw');
    const out = byName(job, 'out');
    expect(raw).toMatchObject({
      status: 'finished',
      credits: 0,
      code: null,
      message: null,
      percent: 100,
      result: {
        files: [{ filename: 'made.txt', size: Buffer.byteLength('made in the gateway ✓') }],
      },
    });
    expect(raw.result.files[0].md5).toMatch(/^[0-9a-f]{32}$/);
    expect(out).toMatchObject({
      status: 'finished',
      credits: 0,
      percent: 100,
      depends_on_task_ids: [raw.id],
    });
    for (const task of [raw, out]) {
      expect(task.created_at).toMatch(TIMESTAMP);
      expect(task.started_at).toMatch(TIMESTAMP);
      expect(task.ended_at).toMatch(TIMESTAMP);
    }
    const [file] = out.result.files;
    expect(file).toMatchObject({ filename: 'made.txt', size: raw.result.files[0].size });
    expect(file.url).toMatch(new RegExp(`/download/${out.id}/[0-9a-f-]{36}/made\\.txt\\?expires=`));
    expect(await download(file.url)).toEqual({ status: 200, text: 'made in the gateway ✓' });

    // Shown again later, it is the same job.
    const again = await call(stack, key, 'GET', `/v2/jobs/${job.id}`);
    expect(again.json.data.status).toBe('finished');
    expect(byName(again.json.data, 'out').result.files[0].filename).toBe('made.txt');
  });

  it('answers a sync POST with the finished job, or a redirect to its export', async () => {
    const tasks = {
      raw: { operation: 'import/raw', file: 'sync', filename: 'sync.txt' },
      out: { operation: 'export/url', input: 'raw', inline: true },
    };
    const job = await createJob(tasks, stack.syncUrl);
    expect(job.status).toBe('finished');
    expect(byName(job, 'out').result.files[0].url).toMatch(/\/inline\/sync\.txt\?/);

    const res = await fetch(`${stack.syncUrl}/v2/jobs`, {
      method: 'POST',
      redirect: 'manual',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ tasks, redirect: true }),
    });
    expect(res.status).toBe(302);
    expect(await download(res.headers.get('location')!)).toEqual({ status: 200, text: 'sync' });
  });

  it('publishes created and finished events of both tasks and the job, after commit', async () => {
    const job = await createJob({
      raw: { operation: 'import/raw', file: 'events', filename: 'e.txt' },
      out: { operation: 'export/url', input: 'raw' },
    });
    const [raw, out] = [byName(job, 'raw').id, byName(job, 'out').id];
    const seen = await eventually(async () => {
      const mine = events.filter((e) => e.jobId === job.id).map((e) => `${e.id} ${e.event}`);
      return mine.includes(`${job.id} finished`) ? mine : null;
    });
    expect(seen).toEqual(
      expect.arrayContaining([
        `${job.id} created`,
        `${raw} created`,
        `${out} created`,
        `${raw} finished`,
        `${out} finished`,
        `${job.id} finished`,
      ]),
    );
    // Each task is created before it finishes.
    expect(seen.indexOf(`${out} created`)).toBeLessThan(seen.indexOf(`${out} finished`));
    expect(seen.filter((e) => e === `${out} finished`)).toHaveLength(1);
  });

  it('keeps the exported file when the import task is deleted, and removes it with the export', async () => {
    const job = await createJob({
      raw: { operation: 'import/raw', file: 'outlives its import', filename: 'keep.txt' },
      out: { operation: 'export/url', input: 'raw' },
    });
    const [raw, out] = [byName(job, 'raw'), byName(job, 'out')];
    const [stored] = await storageKeys(out.id);
    expect(fs.existsSync(objectPath(stored!))).toBe(true);

    expect((await call(stack, key, 'DELETE', `/v2/tasks/${raw.id}`)).status).toBe(204);
    expect((await call(stack, key, 'GET', `/v2/tasks/${raw.id}`)).status).toBe(404);
    expect(await download(out.result.files[0].url)).toEqual({
      status: 200,
      text: 'outlives its import',
    });

    expect((await call(stack, key, 'DELETE', `/v2/tasks/${out.id}`)).status).toBe(204);
    expect(fs.existsSync(objectPath(stored!))).toBe(false);
  });

  it('removes the shared file once with the whole job', async () => {
    const job = await createJob({
      raw: { operation: 'import/raw', file: 'gone with the job', filename: 'g.txt' },
      out: { operation: 'export/url', input: 'raw' },
    });
    const [stored] = await storageKeys(byName(job, 'raw').id);
    expect(fs.existsSync(objectPath(stored!))).toBe(true);
    expect((await call(stack, key, 'DELETE', `/v2/jobs/${job.id}`)).status).toBe(204);
    expect(fs.existsSync(objectPath(stored!))).toBe(false);
  });

  it('keeps the file of a standalone export of a job task when the job is deleted', async () => {
    const job = await createJob({
      raw: { operation: 'import/raw', file: 'outlives its job', filename: 'j.txt' },
    });
    const exported = await call(stack, key, 'POST', '/v2/export/url', {
      body: { input: byName(job, 'raw').id },
    });
    expect(exported.json.data.status).toBe('finished');
    const [stored] = await storageKeys(exported.json.data.id);

    expect((await call(stack, key, 'DELETE', `/v2/jobs/${job.id}`)).status).toBe(204);
    expect(fs.existsSync(objectPath(stored!))).toBe(true);
    expect(await download(exported.json.data.result.files[0].url)).toEqual({
      status: 200,
      text: 'outlives its job',
    });
  });

  it('expiry keeps a file a standalone export shares until the export expires too, and counts both', async () => {
    const { id: userId, key: own } = await stack.createUser();
    const res = await call(stack, own, 'POST', '/v2/jobs', {
      body: {
        tasks: { raw: { operation: 'import/raw', file: 'outlives expiry', filename: 'x.txt' } },
      },
    });
    const job = res.json.data;
    const exported = await call(stack, own, 'POST', '/v2/export/url', {
      body: { input: byName(job, 'raw').id },
    });
    const out = exported.json.data;
    expect(out.status).toBe('finished');
    const [stored] = await storageKeys(out.id);
    const removed: string[] = [];
    const remove = async (keys: string[]) => {
      removed.push(...keys);
      await stack.deps.storage.delete(keys);
    };
    const cutoff = new Date(Date.now() - 3_600_000);
    const age = (sql: 'jobs' | 'tasks', id: string) =>
      stack.deps.db.$executeRawUnsafe(
        `UPDATE ${sql} SET ended_at = now() - interval '2 hours' WHERE id = $1::uuid`,
        id,
      );

    // Only the job is old enough: it goes, the export and the file they share stay.
    await age('jobs', job.id);
    await age('tasks', byName(job, 'raw').id);
    expect(await deleteExpired(stack.deps.db, cutoff, remove)).toEqual({ jobs: 1, tasks: 0 });
    expect((await call(stack, own, 'GET', `/v2/jobs/${job.id}`)).status).toBe(404);
    expect(removed).toEqual([]);
    expect(await download(out.result.files[0].url)).toEqual({
      status: 200,
      text: 'outlives expiry',
    });

    await age('tasks', out.id);
    expect(await deleteExpired(stack.deps.db, cutoff, remove)).toEqual({ jobs: 0, tasks: 1 });
    expect(removed).toEqual([stored]);
    expect(fs.existsSync(objectPath(stored!))).toBe(false);
    const usage = await stack.deps.db.usageDay.findMany({
      where: { userId },
      orderBy: { operation: 'asc' },
    });
    expect(usage.map((u) => [u.operation, u.tasks, Number(u.credits)])).toEqual([
      ['export/url', 1, 0],
      ['import/raw', 1, 0],
    ]);
  });

  it('fails an import over MAX_UPLOAD_BYTES and the export that waited for it', async () => {
    const job = await createJob({
      big: { operation: 'import/raw', file: 'x'.repeat(1001), filename: 'big.txt' },
      out: { operation: 'export/url', input: 'big' },
    });
    expect(job.status).toBe('error');
    expect(byName(job, 'big')).toMatchObject({
      status: 'error',
      code: 'PAYLOAD_TOO_LARGE',
      message: 'The file is larger than 1000 bytes.',
      result: null,
    });
    expect(byName(job, 'out')).toMatchObject({ status: 'error', code: 'INPUT_TASK_FAILED' });
    expect(await stack.deps.db.taskFile.count({ where: { taskId: byName(job, 'big').id } })).toBe(
      0,
    );
  });

  it('exports several inputs in input order, each file listed once', async () => {
    const job = await createJob({
      a: { operation: 'import/raw', file: 'first', filename: 'a.txt' },
      b: {
        operation: 'import/base64',
        file: Buffer.from('second').toString('base64'),
        filename: 'b.bin',
      },
      out: { operation: 'export/url', input: ['b', 'a'] },
    });
    expect(job.status).toBe('finished');
    const files = byName(job, 'out').result.files;
    expect(files.map((f: any) => f.filename)).toEqual(['b.bin', 'a.txt']);
    expect(await download(files[0].url)).toEqual({ status: 200, text: 'second' });
    expect(await download(files[1].url)).toEqual({ status: 200, text: 'first' });
  });

  it('leaves a zip of several files (archive_multiple_files) to the io queue', async () => {
    const job = await createJob({
      a: { operation: 'import/raw', file: 'first', filename: 'a.txt' },
      b: { operation: 'import/raw', file: 'second', filename: 'b.txt' },
      zip: { operation: 'export/url', input: ['a', 'b'], archive_multiple_files: true },
    });
    expect(job.status).toBe('processing');
    const zip = byName(job, 'zip');
    expect(zip.status).toBe('waiting');
    const row = await stack.deps.db.task.findUniqueOrThrow({ where: { id: zip.id } });
    expect(row.queue).toBe('io');
  });

  it('waits for an upload before exporting, and exports in the upload request', async () => {
    const job = await createJob({
      up: { operation: 'import/upload' },
      out: { operation: 'export/url', input: 'up' },
    });
    const form = byName(job, 'up').result.form;
    const body = new FormData();
    for (const [name, value] of Object.entries(form.parameters as Record<string, string>)) {
      body.append(name, value);
    }
    body.append('file', new Blob(['uploaded']), 'up.txt');
    expect((await fetch(form.url, { method: 'POST', body })).status).toBe(201);
    const done = (await call(stack, key, 'GET', `/v2/jobs/${job.id}`)).json.data;
    expect(done.status).toBe('finished');
    const [file] = byName(done, 'out').result.files;
    expect(await download(file.url)).toEqual({ status: 200, text: 'uploaded' });
  });
});

describe('standalone imports', () => {
  it('import/raw and import/base64 answer 201 with the stored file, as the worker made it', async () => {
    const bytes = Buffer.from([0, 1, 2, 255, 254]);
    const made = [
      await call(stack, key, 'POST', '/v2/import/raw', {
        body: { file: 'alone', filename: '../alone.txt' },
      }),
      await call(stack, key, 'POST', '/v2/import/base64', {
        body: { file: bytes.toString('base64'), filename: 'bytes.bin' },
      }),
    ];
    for (const res of made) {
      expect(res.status).toBe(201);
      expect(res.json.data).toMatchObject({ job_id: null, status: 'finished', credits: 0 });
      expect(res.json.data).not.toHaveProperty('name');
    }
    const [raw, base64] = made.map((res) => res.json.data);
    expect(raw.result.files).toEqual([
      { filename: 'alone.txt', size: 5, md5: expect.stringMatching(/^[0-9a-f]{32}$/) },
    ]);
    expect(base64.result.files[0]).toMatchObject({ filename: 'bytes.bin', size: bytes.length });

    // A standalone export of them finishes when it is created, too.
    const exported = await call(stack, key, 'POST', '/v2/export/url', {
      body: { input: [raw.id, base64.id] },
    });
    expect(exported.status).toBe(201);
    expect(exported.json.data.status).toBe('finished');
    const files = exported.json.data.result.files;
    expect(await download(files[0].url)).toEqual({ status: 200, text: 'alone' });
    const res = await fetch(files[1].url);
    expect(Buffer.from(await res.arrayBuffer()).equals(bytes)).toBe(true);
  });

  it('refuses bad base64 with 422 and stores nothing', async () => {
    const before = fs.readdirSync(path.join(stack.config.dataDir, 'objects', 'tasks')).length;
    const res = await call(stack, key, 'POST', '/v2/import/base64', {
      body: { file: '***', filename: 'x.bin' },
    });
    expect(res.status).toBe(422);
    expect(res.json.errors.file).toEqual(['The file must be base64 encoded.']);
    expect(fs.readdirSync(path.join(stack.config.dataDir, 'objects', 'tasks'))).toHaveLength(
      before,
    );
  });

  it('fails a standalone import over MAX_UPLOAD_BYTES with its code', async () => {
    const res = await call(stack, key, 'POST', '/v2/import/raw', {
      body: { file: 'y'.repeat(1001), filename: 'big.txt' },
    });
    expect(res.status).toBe(201);
    expect(res.json.data).toMatchObject({ status: 'error', code: 'PAYLOAD_TOO_LARGE' });
  });
});
