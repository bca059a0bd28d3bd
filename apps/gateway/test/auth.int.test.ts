// Authentication, scopes and isolation over real HTTP (API.md §1.2, §3.7, §7): the exact 401,
// 403 for a missing scope, 404 for what is not yours, and signed downloads.
import { signPath } from '@convertd/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { eventually, startStack, type Stack } from '../../../test/harness';
import { call, expectError, rawRequest } from './wire-helpers';

let stack: Stack;
let alice: { id: number; key: string };
let bob: { id: number; key: string };
/** Alice's job: an import/raw exported by URL, finished. */
let aliceJob: any;
let aliceUpload: any;

beforeAll(async () => {
  stack = await startStack({ workerOptions: { engines: [] } });
  alice = await stack.createUser();
  bob = await stack.createUser();
  const created = await call(stack, alice.key, 'POST', '/v2/jobs', {
    body: {
      tag: 'alice',
      tasks: {
        raw: { operation: 'import/raw', file: 'secret of alice', filename: 'alice.txt' },
        out: { operation: 'export/url', input: 'raw' },
      },
    },
  });
  expect(created.status).toBe(201);
  aliceJob = await eventually(async () => {
    const job = (await call(stack, alice.key, 'GET', `/v2/jobs/${created.json.data.id}`)).json.data;
    return job.status === 'finished' && job;
  });
  aliceUpload = (await call(stack, alice.key, 'POST', '/v2/import/upload')).json.data;
});

afterAll(async () => {
  await stack?.close();
});

const UNAUTHENTICATED = '{"message":"Unauthenticated.","code":"UNAUTHENTICATED"}';

describe('401 Unauthorized', () => {
  it('answers the exact body for no key, a bad key, a revoked key and an empty Bearer', async () => {
    const revoked = await stack.createUser();
    await stack.deps.db.apiKey.updateMany({
      where: { userId: revoked.id },
      data: { revokedAt: new Date() },
    });
    const cases: [string, Record<string, string>][] = [
      ['no header', {}],
      ['bad key', { authorization: 'Bearer cvd_not-a-key' }],
      ['revoked key', { authorization: `Bearer ${revoked.key}` }],
      ['empty Bearer', { authorization: 'Bearer' }],
      ['other scheme', { authorization: `Basic ${alice.key}` }],
      ['bare key', { authorization: alice.key }],
    ];
    for (const [name, headers] of cases) {
      for (const [method, route] of [
        ['GET', '/v2/users/me'],
        ['GET', '/v2/jobs'],
        ['POST', '/v2/jobs'],
        ['GET', `/v2/tasks/${aliceUpload.id}`],
        ['DELETE', `/v2/jobs/${aliceJob.id}`],
        ['POST', '/v2/import/upload'],
      ] as const) {
        const res = await call(stack, null, method, route, { headers });
        expect([name, method, route, res.status, res.statusText, res.text]).toEqual([
          name,
          method,
          route,
          401,
          'Unauthorized',
          UNAUTHENTICATED,
        ]);
        expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      }
      // The sync API authenticates the same way.
      const sync = await call(stack, null, 'GET', `/v2/jobs/${aliceJob.id}`, {
        headers,
        base: stack.syncUrl,
      });
      expect([name, sync.status, sync.statusText, sync.text]).toEqual([
        name,
        401,
        'Unauthorized',
        UNAUTHENTICATED,
      ]);
    }
    // Nothing was deleted by the refused calls.
    expect((await call(stack, alice.key, 'GET', `/v2/jobs/${aliceJob.id}`)).status).toBe(200);
  });

  it('accepts the scheme in any case and surrounding spaces', async () => {
    for (const header of [`bearer ${alice.key}`, `BEARER  ${alice.key}`]) {
      const res = await rawRequest(`${stack.url}/v2/users/me`, {
        headers: { authorization: header },
      });
      expect(res.status).toBe(200);
      expect(res.json.data.id).toBe(alice.id);
    }
  });
});

describe('403 Forbidden for a missing scope', () => {
  it('refuses task.write without it and users/me without user.read', async () => {
    const readOnly = await stack.createUser({ scopes: ['user.read'] });
    const res = await call(stack, readOnly.key, 'POST', '/v2/jobs', {
      body: { tasks: { up: { operation: 'import/upload' } } },
    });
    expect(expectError(res, 403, 'FORBIDDEN', 'Forbidden').message).toContain('task.write');
    expectError(await call(stack, readOnly.key, 'GET', '/v2/jobs'), 403, 'FORBIDDEN', 'Forbidden');
    expectError(
      await call(stack, readOnly.key, 'POST', '/v2/import/upload'),
      403,
      'FORBIDDEN',
      'Forbidden',
    );
    expectError(
      await call(stack, readOnly.key, 'GET', '/v2/tasks/00000000-0000-4000-8000-000000000000', {
        base: stack.syncUrl,
      }),
      403,
      'FORBIDDEN',
    );
    expect((await call(stack, readOnly.key, 'GET', '/v2/users/me')).status).toBe(200);
    expect(await stack.deps.db.job.count({ where: { userId: readOnly.id } })).toBe(0);

    const tasksOnly = await stack.createUser({ scopes: ['task.read', 'task.write'] });
    const me = expectError(
      await call(stack, tasksOnly.key, 'GET', '/v2/users/me'),
      403,
      'FORBIDDEN',
      'Forbidden',
    );
    expect(me.message).toContain('user.read');
    expect((await call(stack, tasksOnly.key, 'GET', '/v2/jobs')).status).toBe(200);

    const reader = await stack.createUser({ scopes: ['task.read'] });
    expectError(
      await call(stack, reader.key, 'DELETE', `/v2/jobs/${aliceJob.id}`),
      403,
      'FORBIDDEN',
    );
    expectError(
      await call(stack, reader.key, 'POST', `/v2/tasks/${aliceUpload.id}/cancel`),
      403,
      'FORBIDDEN',
    );
  });
});

describe('404 Not Found', () => {
  const unknown = '6f1c1b9e-8d1e-4c55-9a43-8d6a4d4e7b21';

  it('answers JSON 404 for unknown and malformed ids and unknown routes', async () => {
    const cases: [string, string][] = [
      ['GET', `/v2/jobs/${unknown}`],
      ['GET', `/v2/tasks/${unknown}`],
      ['DELETE', `/v2/jobs/${unknown}`],
      ['DELETE', `/v2/tasks/${unknown}`],
      ['POST', `/v2/tasks/${unknown}/cancel`],
      ['POST', `/v2/tasks/${unknown}/retry`],
      ['GET', `/v2/jobs/${unknown}/wait`],
      ['GET', `/v2/tasks/${unknown}/wait`],
      ['GET', '/v2/jobs/not-a-uuid'],
      ['GET', '/v2/tasks/123'],
      ['DELETE', '/v2/jobs/xyz'],
      ['DELETE', '/v2/tasks/xyz'],
      ['POST', '/v2/tasks/xyz/cancel'],
      ['POST', '/v2/tasks/xyz/retry'],
      ['GET', '/v2/jobs/not-a-uuid/wait'],
      ['GET', '/v2/nothing-here'],
      ['POST', '/v2/import/nothing'],
      ['GET', '/v3/jobs'],
      ['PUT', '/v2/jobs'],
    ];
    for (const [method, route] of cases) {
      const res = await call(stack, alice.key, method, route);
      expect([method, route, res.status, res.statusText]).toEqual([
        method,
        route,
        404,
        'Not Found',
      ]);
      expectError(res, 404, 'NOT_FOUND');
    }
    // Unknown routes answer the same without a key.
    expectError(await call(stack, null, 'GET', '/nothing'), 404, 'NOT_FOUND', 'Not Found');
  });

  it("treats another user's job and tasks as not found, and leaves them untouched", async () => {
    const task = aliceJob.tasks[0];
    const cases: [string, string][] = [
      ['GET', `/v2/jobs/${aliceJob.id}`],
      ['GET', `/v2/jobs/${aliceJob.id}/wait`],
      ['DELETE', `/v2/jobs/${aliceJob.id}`],
      ['GET', `/v2/tasks/${task.id}`],
      ['GET', `/v2/tasks/${aliceUpload.id}/wait`],
      ['DELETE', `/v2/tasks/${task.id}`],
      ['POST', `/v2/tasks/${aliceUpload.id}/cancel`],
      ['POST', `/v2/tasks/${task.id}/retry`],
    ];
    for (const [method, route] of cases) {
      const res = await call(stack, bob.key, method, route);
      expect([method, route, res.status]).toEqual([method, route, 404]);
      expectError(res, 404, 'NOT_FOUND', 'Not Found');
    }
    for (const route of [`/v2/jobs/${aliceJob.id}`, `/v2/tasks/${aliceUpload.id}`]) {
      expectError(
        await call(stack, bob.key, 'GET', route, { base: stack.syncUrl }),
        404,
        'NOT_FOUND',
        'Not Found',
      );
    }
    const mine = await call(stack, alice.key, 'GET', `/v2/tasks/${aliceUpload.id}`);
    expect(mine.json.data.status).toBe('waiting');
    expect(await stack.deps.db.task.count({ where: { retryOfTaskId: task.id } })).toBe(0);
  });

  it("refuses another user's task as input of a standalone task with 422 errors.input", async () => {
    for (const [operation, body] of [
      ['export/url', { input: aliceJob.tasks[0].id }],
      ['convert', { input: [aliceUpload.id], output_format: 'pdf' }],
    ] as const) {
      const res = await call(stack, bob.key, 'POST', `/v2/${operation}`, { body });
      expect(expectError(res, 422, 'INVALID_DATA', 'Unprocessable Entity').errors).toEqual({
        input: ['Invalid input task.'],
      });
    }
    expect(await stack.deps.db.task.count({ where: { userId: bob.id } })).toBe(0);
  });
});

describe('isolation', () => {
  it("never lists another user's jobs or tasks", async () => {
    const bobJob = (
      await call(stack, bob.key, 'POST', '/v2/jobs', {
        body: { tasks: { up: { operation: 'import/upload' } } },
      })
    ).json.data;
    const jobs = (await call(stack, bob.key, 'GET', '/v2/jobs?include=tasks')).json;
    expect(jobs.data.map((j: any) => j.id)).toEqual([bobJob.id]);
    const tasks = (await call(stack, bob.key, 'GET', '/v2/tasks')).json;
    expect(tasks.data.map((t: any) => t.id)).toEqual([bobJob.tasks[0].id]);
    const filtered = (await call(stack, bob.key, 'GET', `/v2/tasks?filter[job_id]=${aliceJob.id}`))
      .json;
    expect(filtered.data).toEqual([]);
    const tagged = (await call(stack, bob.key, 'GET', '/v2/jobs?filter[tag]=alice')).json;
    expect(tagged.data).toEqual([]);
    const aliceTasks = (await call(stack, alice.key, 'GET', '/v2/tasks')).json.data.map(
      (t: any) => t.id,
    );
    expect(aliceTasks).not.toContain(bobJob.tasks[0].id);
    expect(aliceTasks).toHaveLength(3);
  });

  it('serves a file only on its signed URL: tampered or expired signatures get 403 JSON', async () => {
    const file = aliceJob.tasks[1].result.files[0];
    expect(file.filename).toBe('alice.txt');
    const url = new URL(file.url);
    expect(url.origin).toBe(stack.url);

    const ok = await fetch(url);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('secret of alice');

    const pathOnly = `${url.origin}${url.pathname}`;
    const signature = url.searchParams.get('signature')!;
    const expires = url.searchParams.get('expires')!;
    const flipped = (signature[0] === 'a' ? 'b' : 'a') + signature.slice(1);
    const [, , taskId, fileId] = url.pathname.split('/');
    const past = signPath(
      stack.deps.urlSecret,
      `/download/${taskId}/${fileId}`,
      Date.now() / 1000 - 60,
    );
    const otherTask = signPath(
      stack.deps.urlSecret,
      `/download/${aliceJob.tasks[0].id}/${fileId}`,
      Date.now() / 1000 + 60,
    );
    for (const bad of [
      pathOnly,
      `${pathOnly}?expires=${expires}`,
      `${pathOnly}?expires=${expires}&signature=${flipped}`,
      `${pathOnly}?expires=${Number(expires) + 1}&signature=${signature}`,
      `${pathOnly}?expires=${past.expires}&signature=${past.signature}`,
      `${pathOnly.replace(`/${taskId}/`, `/${aliceJob.tasks[0].id}/`)}?expires=${expires}&signature=${signature}`,
      `${pathOnly.replace(`/${fileId}/`, `/${fileId}/inline/`)}?expires=${expires}&signature=${signature}`,
      `${stack.url}/download/${aliceJob.tasks[0].id}/${fileId}/x?expires=${otherTask.expires}&signature=x${otherTask.signature.slice(1)}`,
    ]) {
      const res = await call(stack, bob.key, 'GET', bad);
      expect([bad, res.status]).toEqual([bad, 403]);
      expectError(res, 403, 'INVALID_SIGNATURE', 'Forbidden');
    }
  });
});
