// The list envelope of API.md §3.6 over real HTTP: Laravel's simple paginator with absolute
// links that clients follow verbatim, the filters of §2.2/§2.3 in both bracket encodings.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { eventually, startStack, type Stack } from '../../../test/harness';
import { call, expectError } from './wire-helpers';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ workerOptions: { engines: [] } });
});

afterAll(async () => {
  await stack?.close();
});

const RAW = { operation: 'import/raw', file: 'hello', filename: 'hello.txt' };
const UPLOAD = { operation: 'import/upload' };

async function job(key: string, tasks: Record<string, unknown>, tag: string | null = null) {
  const res = await call(stack, key, 'POST', '/v2/jobs', { body: { tasks, tag } });
  expect(res.status).toBe(201);
  return res.json.data;
}

async function list(key: string, route: string) {
  const res = await call(stack, key, 'GET', route);
  expect([route, res.status, res.statusText]).toEqual([route, 200, 'OK']);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  expect(res.text).toBe(JSON.stringify(res.json));
  expect(Object.keys(res.json)).toEqual(['data', 'links', 'meta']);
  expect(Object.keys(res.json.links)).toEqual(['first', 'last', 'prev', 'next']);
  expect(Object.keys(res.json.meta)).toEqual(['current_page', 'from', 'path', 'per_page', 'to']);
  expect(res.json.links.last).toBeNull();
  return res.json as {
    data: any[];
    links: { first: string; last: null; prev: string | null; next: string | null };
    meta: Record<string, any>;
  };
}

const ids = (items: { id: string }[]) => items.map((i) => i.id);

describe('list envelope', () => {
  it('has absolute links and meta, and job items without tasks', async () => {
    const { key } = await stack.createUser();
    const a = await job(key, { up: UPLOAD });
    const b = await job(key, { up: UPLOAD });
    const page = await list(key, '/v2/jobs');
    expect(ids(page.data)).toEqual([b.id, a.id]);
    expect(page.links).toEqual({
      first: `${stack.url}/v2/jobs?per_page=100&page=1`,
      last: null,
      prev: null,
      next: null,
    });
    expect(page.meta).toEqual({
      current_page: 1,
      from: 1,
      path: `${stack.url}/v2/jobs`,
      per_page: 100,
      to: 2,
    });
    expect(Object.keys(page.data[0])).toEqual([
      'id',
      'tag',
      'status',
      'created_at',
      'started_at',
      'ended_at',
      'links',
    ]);

    const tasks = await list(key, '/v2/tasks');
    expect(tasks.meta).toEqual({
      current_page: 1,
      from: 1,
      path: `${stack.url}/v2/tasks`,
      per_page: 100,
      to: 2,
    });
    expect(tasks.data[0]).not.toHaveProperty('payload');

    const empty = await list(key, '/v2/jobs?page=3');
    expect(empty.data).toEqual([]);
    expect(empty.meta).toMatchObject({ current_page: 3, from: null, to: null });
    expect(empty.links).toMatchObject({
      prev: `${stack.url}/v2/jobs?per_page=100&page=2`,
      next: null,
    });
  });

  it('walks per_page=1 pages by following links.next verbatim, filters carried along', async () => {
    const { key } = await stack.createUser();
    const created = [];
    for (let i = 0; i < 3; i++) {
      created.push((await job(key, { up: UPLOAD }, 'paged')).id);
    }
    await job(key, { up: UPLOAD }, 'other');

    const seen: string[] = [];
    let url: string | null = `${stack.url}/v2/jobs?filter[tag]=paged&per_page=1`;
    for (let n = 1; url; n++) {
      const page = await list(key, url);
      expect(page.meta).toEqual({
        current_page: n,
        from: n,
        path: `${stack.url}/v2/jobs`,
        per_page: 1,
        to: n,
      });
      expect(page.links.first).toBe(`${stack.url}/v2/jobs?filter%5Btag%5D=paged&per_page=1&page=1`);
      expect(page.links.prev).toBe(
        n === 1 ? null : `${stack.url}/v2/jobs?filter%5Btag%5D=paged&per_page=1&page=${n - 1}`,
      );
      expect(page.data).toHaveLength(1);
      seen.push(page.data[0].id);
      url = page.links.next;
      if (url) {
        expect(url).toBe(`${stack.url}/v2/jobs?filter%5Btag%5D=paged&per_page=1&page=${n + 1}`);
      }
      expect(n).toBeLessThanOrEqual(3);
    }
    expect(seen).toEqual([...created].reverse());
  });

  it('walks the tasks of one job page by page', async () => {
    const { key } = await stack.createUser();
    const j = await job(key, { a: UPLOAD, b: UPLOAD, c: UPLOAD });
    await job(key, { x: UPLOAD });
    const seen: string[] = [];
    let url: string | null = `${stack.url}/v2/tasks?filter%5Bjob_id%5D=${j.id}&per_page=1`;
    while (url) {
      const page = await list(key, url);
      seen.push(...ids(page.data));
      url = page.links.next;
      expect(seen.length).toBeLessThanOrEqual(3);
    }
    expect([...seen].sort()).toEqual(ids(j.tasks).sort());
  });

  it('rejects per_page above 1000 and non-numeric pages with 422', async () => {
    const { key } = await stack.createUser();
    expectError(
      await call(stack, key, 'GET', '/v2/jobs?per_page=1001'),
      422,
      'INVALID_DATA',
      'Unprocessable Entity',
    );
    expect(
      expectError(await call(stack, key, 'GET', '/v2/tasks?page=x'), 422, 'INVALID_DATA').errors,
    ).toEqual({
      page: ['The page must be a positive integer.'],
    });
  });
});

describe('filters', () => {
  let key: string;
  let waiting: any;
  let finished: any;
  let failed: any;

  beforeAll(async () => {
    ({ key } = await stack.createUser());
    waiting = await job(key, { up: UPLOAD }, 'tag-a');
    finished = await job(
      key,
      { raw: RAW, out: { operation: 'export/url', input: 'raw' } },
      'tag-b',
    );
    failed = await job(key, { up: UPLOAD }, 'tag-b');
    expect((await call(stack, key, 'POST', `/v2/tasks/${failed.tasks[0].id}/cancel`)).status).toBe(
      200,
    );
    await eventually(
      async () =>
        (await call(stack, key, 'GET', `/v2/jobs/${finished.id}`)).json.data.status === 'finished',
    );
  });

  it('filters jobs by status and tag in encoded and raw brackets', async () => {
    for (const [open, close] of [
      ['%5B', '%5D'],
      ['[', ']'],
    ]) {
      const f = (name: string, value: string) => `filter${open}${name}${close}=${value}`;
      expect(ids((await list(key, `/v2/jobs?${f('status', 'waiting')}`)).data)).toEqual([
        waiting.id,
      ]);
      expect(ids((await list(key, `/v2/jobs?${f('status', 'finished')}`)).data)).toEqual([
        finished.id,
      ]);
      expect(ids((await list(key, `/v2/jobs?${f('status', 'error')}`)).data)).toEqual([failed.id]);
      expect(ids((await list(key, `/v2/jobs?${f('status', 'processing')}`)).data)).toEqual([]);
      expect(ids((await list(key, `/v2/jobs?${f('tag', 'tag-b')}`)).data)).toEqual([
        failed.id,
        finished.id,
      ]);
      expect(
        ids((await list(key, `/v2/jobs?${f('tag', 'tag-b')}&${f('status', 'error')}`)).data),
      ).toEqual([failed.id]);
    }
    const bad = expectError(
      await call(stack, key, 'GET', '/v2/jobs?filter[status]=done'),
      422,
      'INVALID_DATA',
      'Unprocessable Entity',
    );
    expect(bad.errors).toEqual({ 'filter.status': ['The selected filter.status is invalid.'] });
  });

  it('include=tasks lists each job with its tasks in definition order', async () => {
    const page = await list(key, '/v2/jobs?filter[tag]=tag-b&include=tasks');
    const byId = new Map(page.data.map((j) => [j.id, j]));
    expect(byId.get(finished.id).tasks.map((t: any) => [t.name, t.status])).toEqual([
      ['raw', 'finished'],
      ['out', 'finished'],
    ]);
    expect(byId.get(failed.id).tasks.map((t: any) => [t.name, t.status, t.code])).toEqual([
      ['up', 'error', 'CANCELLED'],
    ]);
    expect(byId.get(finished.id).tasks[0]).not.toHaveProperty('payload');
  });

  it('filters tasks by job_id, status and operation', async () => {
    const fin = (await list(key, `/v2/tasks?filter[job_id]=${finished.id}`)).data;
    expect(fin.map((t) => t.name).sort()).toEqual(['out', 'raw']);
    expect(ids((await list(key, '/v2/tasks?filter%5Bstatus%5D=waiting')).data)).toEqual([
      waiting.tasks[0].id,
    ]);
    expect(ids((await list(key, '/v2/tasks?filter[status]=error')).data)).toEqual([
      failed.tasks[0].id,
    ]);
    expect(ids((await list(key, '/v2/tasks?filter[operation]=export/url')).data)).toEqual([
      finished.tasks[1].id,
    ]);
    expect(
      ids(
        (await list(key, '/v2/tasks?filter%5Boperation%5D=import%2Fraw&filter[status]=finished'))
          .data,
      ),
    ).toEqual([finished.tasks[0].id]);
    expect(
      ids(
        (await list(key, `/v2/tasks?filter[job_id]=${finished.id}&filter[operation]=import/upload`))
          .data,
      ),
    ).toEqual([]);
    expect((await list(key, '/v2/tasks?filter[job_id]=not-a-uuid')).data).toEqual([]);
  });

  it('treats empty filter, include and page values as absent (.NET)', async () => {
    const all = await list(key, '/v2/jobs');
    const dotnet = await list(
      key,
      '/v2/jobs?filter[status]=&filter[tag]=&include=&per_page=&page=',
    );
    expect(ids(dotnet.data)).toEqual(ids(all.data));
    expect(dotnet.meta).toEqual(all.meta);
    expect(dotnet.data[0]).not.toHaveProperty('tasks');
    const tasks = await list(
      key,
      '/v2/tasks?filter[job_id]=&filter[status]=&filter[operation]=&include=&per_page=&page=',
    );
    expect(tasks.data).toHaveLength(4);
    const shown = await call(stack, key, 'GET', `/v2/tasks/${waiting.tasks[0].id}?include=`);
    expect(shown.status).toBe(200);
    expect(shown.json.data).not.toHaveProperty('payload');
  });
});
