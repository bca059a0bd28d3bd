// Rate limits per API key (API.md §7): X-Ratelimit-* on job and task creation, show and delete of
// the main origin, counted in Redis so that two gateways share one count; 429 with Retry-After
// and a JSON body past the limit; a Redis outage lets requests through instead of hanging them.
import { randomUUID } from 'node:crypto';

import { ConvertdCloudConvert } from '@convertd/cloudconvert-node';
import { createSigningKey, signingKeyAad } from '@convertd/db';
import CloudConvert from 'cloudconvert';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { buildApp } from '../src/app';
import { createDeps, type Deps } from '../src/deps';
import { connectRedis } from '../../../packages/queue/src/redis';
import { api, freePort, startStack, type Stack } from '../../../test/harness';

const LIMIT = 6;

let stack: Stack;
let second: { deps: Deps; app: FastifyInstance; url: string };

beforeAll(async () => {
  stack = await startStack({ worker: false, env: { RATE_LIMIT_PER_MINUTE: String(LIMIT) } });
  // A second gateway process on the same database and Redis prefix: its own connections.
  const deps = await createDeps(stack.config, stack.deps.logger);
  const app = buildApp(deps, { mode: 'main' });
  const port = await freePort();
  await app.listen({ port, host: '127.0.0.1' });
  second = { deps, app, url: `http://127.0.0.1:${port}` };
});

afterAll(async () => {
  await second?.app.close();
  await second?.deps.close();
  await stack?.close();
});

async function call(base: string, key: string, method: string, route: string, body?: unknown) {
  const res = await fetch(`${base}${route}`, {
    method,
    headers: {
      authorization: `Bearer ${key}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return {
    status: res.status,
    limit: res.headers.get('x-ratelimit-limit'),
    remaining: res.headers.get('x-ratelimit-remaining'),
    retryAfter: res.headers.get('retry-after'),
    json: text ? JSON.parse(text) : undefined,
  };
}

const RAW_JOB = {
  tasks: { raw: { operation: 'import/raw', file: 'x', filename: 'x.txt' } },
} as const;

describe('rate limits', () => {
  it('counts create, show and delete of jobs and tasks across two gateways, then answers 429', async () => {
    const user = await stack.createUser();
    const created = await call(stack.url, user.key, 'POST', '/v2/jobs', RAW_JOB);
    expect([created.status, created.limit, created.remaining]).toEqual([201, String(LIMIT), '5']);
    const jobId = created.json.data.id;
    const taskId = created.json.data.tasks[0].id;

    const shown = await call(second.url, user.key, 'GET', `/v2/jobs/${jobId}`);
    expect([shown.status, shown.remaining]).toEqual([200, '4']);
    const task = await call(stack.url, user.key, 'POST', '/v2/import/raw', RAW_JOB.tasks.raw);
    expect([task.status, task.remaining]).toEqual([201, '3']);
    const taskShown = await call(second.url, user.key, 'GET', `/v2/tasks/${taskId}`);
    expect([taskShown.status, taskShown.remaining]).toEqual([200, '2']);
    const deleted = await call(second.url, user.key, 'DELETE', `/v2/tasks/${task.json.data.id}`);
    expect([deleted.status, deleted.remaining]).toEqual([204, '1']);

    // Not limited: users/me, lists, the sync origin.
    for (const [base, route, status] of [
      [stack.url, '/v2/users/me', 200],
      [stack.url, '/v2/jobs', 200],
      // (The sync API would wait for this job to end: a missing one answers at once.)
      [stack.syncUrl, `/v2/jobs/${randomUUID()}`, 404],
    ] as const) {
      const free = await call(base, user.key, 'GET', route);
      expect([route, free.status, free.limit]).toEqual([route, status, null]);
    }

    const last = await call(stack.url, user.key, 'DELETE', `/v2/jobs/${jobId}`);
    expect([last.status, last.remaining]).toEqual([204, '0']);
    for (const base of [stack.url, second.url]) {
      const refused = await call(base, user.key, 'GET', `/v2/jobs/${randomUUID()}`);
      expect(refused.status).toBe(429);
      expect(refused.json).toEqual({
        message: 'Too many requests: the API key has used its requests of this minute.',
        code: 'RATE_LIMIT_EXCEEDED',
      });
      expect([refused.limit, refused.remaining]).toEqual([String(LIMIT), '0']);
      expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(1);
      expect(Number(refused.retryAfter)).toBeLessThanOrEqual(60);
    }
    // Refused requests did nothing.
    expect((await call(stack.url, user.key, 'POST', '/v2/jobs', RAW_JOB)).status).toBe(429);
    expect(await stack.deps.db.job.count({ where: { userId: user.id } })).toBe(0);

    // The official SDK sees the 429 too; another key has its own count.
    const cc = new ConvertdCloudConvert(user.key, { url: stack.url });
    const err = (await cc.jobs.create(RAW_JOB).catch((e: unknown) => e)) as { cause: Response };
    expect(err.cause.status).toBe(429);
    const other = await stack.createUser();
    const fresh = await call(second.url, other.key, 'POST', '/v2/jobs', RAW_JOB);
    expect([fresh.status, fresh.remaining]).toEqual([201, String(LIMIT - 1)]);
  });

  it('counts signed job URLs per signing key: each one runs a job', async () => {
    const user = await stack.createUser();
    const id = randomUUID();
    const secret = 'signing-secret-for-the-limit';
    await createSigningKey(stack.deps.db, {
      id,
      userId: user.id,
      sealedSecret: stack.deps.cipher.sealText(secret, signingKeyAad(id)),
    });
    const job = {
      tasks: {
        text: { operation: 'import/raw', file: 'limited\n', filename: 'l.txt' },
        out: { operation: 'export/url', input: 'text' },
      },
    } as const;
    const url = new CloudConvert('unused').signedUrls.sign(
      `${stack.url}/s/${id}`,
      secret,
      job,
      null,
    );

    const answers = [];
    for (let i = 0; i <= LIMIT; i++) {
      const res = await fetch(url, { redirect: 'manual' });
      answers.push({
        status: res.status,
        remaining: res.headers.get('x-ratelimit-remaining'),
        retryAfter: res.headers.get('retry-after'),
        body: res.status === 302 ? null : await res.json(),
      });
    }
    expect(answers.slice(0, LIMIT).map((a) => [a.status, a.remaining])).toEqual(
      Array.from({ length: LIMIT }, (_, i) => [302, String(LIMIT - 1 - i)]),
    );
    expect(answers[LIMIT]).toMatchObject({ status: 429, body: { code: 'RATE_LIMIT_EXCEEDED' } });
    expect(Number(answers[LIMIT]!.retryAfter)).toBeGreaterThan(0);
    // The refused request ran nothing.
    expect(await stack.deps.db.job.count({ where: { userId: user.id } })).toBe(LIMIT);
  });

  it('lets requests through, without the headers, while Redis cannot be reached', async () => {
    const dead = connectRedis(`redis://127.0.0.1:${await freePort()}`);
    dead.on('error', () => undefined);
    const app = buildApp({ ...stack.deps, redis: dead }, { mode: 'main' });
    try {
      const user = await stack.createUser();
      const created = await stack.deps.db.job.create({
        data: { id: randomUUID(), userId: user.id },
      });
      const started = Date.now();
      const res = await app.inject({
        method: 'GET',
        url: `/v2/jobs/${created.id}`,
        headers: { authorization: `Bearer ${user.key}` },
      });
      expect(res.statusCode).toBe(200);
      expect(res.headers['x-ratelimit-limit']).toBeUndefined();
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await app.close();
      dead.disconnect();
    }
  });

  it('is off with RATE_LIMIT_PER_MINUTE=0 (the harness default)', async () => {
    const off = await startStack({ worker: false });
    try {
      const user = await off.createUser();
      const res = await api(off, user.key, 'POST', '/v2/jobs', RAW_JOB);
      expect(res.status).toBe(201);
      expect(res.headers.get('x-ratelimit-limit')).toBeNull();
    } finally {
      await off.close();
    }
  });
});
