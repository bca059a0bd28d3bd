// Live events over socket.io (API.md §5.2): both client generations, every channel kind, who may
// listen, and that socket.io leaves Fastify's own routing alone.
import fs from 'node:fs';
import path from 'node:path';

import { ConvertdCloudConvert } from '@convertd/cloudconvert-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createLogger } from '@convertd/config';

import { CORPUS, eventually, freePort, startStack, type Stack } from '../../../test/harness';
import { buildApp } from '../src/app';
import { createDeps } from '../src/deps';
import { connect, unsigned, type LiveClient } from './live-helpers';
import { call, rawRequest, upload } from './wire-helpers';

const PNG = fs.readFileSync(path.join(CORPUS, 'image/basn6a16.png'));

let stack: Stack;
let alice: { id: number; key: string };
let bob: { id: number; key: string };
const clients: LiveClient[] = [];

beforeAll(async () => {
  stack = await startStack({ workerOptions: { engines: [] } });
  alice = await stack.createUser();
  bob = await stack.createUser();
});

afterAll(async () => {
  for (const c of clients) {
    c.close();
  }
  await stack?.close();
});

function client(...args: Parameters<typeof connect>): LiveClient {
  const c = connect(...args);
  clients.push(c);
  return c;
}

/** A job that waits for an upload, then exports it; `uploadIt` lets it run. */
async function uploadJob(key: string) {
  const res = await call(stack, key, 'POST', '/v2/jobs', {
    body: {
      tasks: {
        'import-it': { operation: 'import/upload' },
        'export-it': { operation: 'export/url', input: 'import-it' },
      },
    },
  });
  expect(res.status).toBe(201);
  const job = res.json.data;
  const importTask = job.tasks.find((t: any) => t.name === 'import-it');
  const exportTask = job.tasks.find((t: any) => t.name === 'export-it');
  return {
    id: job.id as string,
    importId: importTask.id as string,
    exportId: exportTask.id as string,
    async uploadIt(name = 'input.png') {
      expect((await upload(importTask.result.form.url, name, PNG)).status).toBe(201);
    },
  };
}

describe('socket.io live events', () => {
  it('sends job.finished with the job as GET shows it (socket.io-client 4, WebSocket)', async () => {
    const job = await uploadJob(alice.key);
    const c = client(stack.url);
    expect(await c.subscribe(`private-job.${job.id}`, alice.key)).toEqual({ ok: true });

    await job.uploadIt();
    const finished = await c.next('job.finished', `private-job.${job.id}`);
    const shown = await call(stack, alice.key, 'GET', `/v2/jobs/${job.id}`);
    expect(unsigned(finished.data)).toEqual(unsigned({ job: shown.json.data }));
    expect(finished.data.job.status).toBe('finished');

    const [file] = finished.data.job.tasks.find((t: any) => t.name === 'export-it').result.files;
    expect(file.url).toMatch(new RegExp(`^${stack.url}/download/.*signature=`));
    const body = Buffer.from(await (await fetch(file.url)).arrayBuffer());
    expect(body.equals(PNG)).toBe(true);
    // Only events of the job it asked for, on its channel.
    expect(new Set(c.log.map((r) => r.channel))).toEqual(new Set([`private-job.${job.id}`]));
    expect(c.log.every((r) => r.event.startsWith('job.'))).toBe(true);
  });

  it('serves Engine.IO 3 clients (socket.io-client 2) on job, job-tasks and task channels', async () => {
    const job = await uploadJob(alice.key);
    const c = client(stack.url, { version: 'v2' });
    for (const channel of [
      `private-job.${job.id}`,
      `private-job.${job.id}.tasks`,
      `private-task.${job.exportId}`,
    ]) {
      expect(await c.subscribe(channel, alice.key)).toEqual({ ok: true });
    }

    await job.uploadIt();
    const done = await c.next('job.finished', `private-job.${job.id}`);
    const imported = await c.next('task.finished', `private-job.${job.id}.tasks`);
    const exported = await c.next('task.finished', `private-task.${job.exportId}`);

    expect(done.data.job.tasks).toHaveLength(2);
    expect(imported.data.task.id).toBe(job.importId);
    expect(imported.data.task.result.files[0].filename).toBe('input.png');
    const shown = await call(stack, alice.key, 'GET', `/v2/tasks/${job.exportId}`);
    expect(unsigned(exported.data)).toEqual(unsigned({ task: shown.json.data }));
    // The job's task channel saw both tasks end; task events never carry a job.
    const ended = c.log.filter(
      (r) => r.event === 'task.finished' && r.channel === `private-job.${job.id}.tasks`,
    );
    expect(new Set(ended.map((r) => r.data.task.id))).toEqual(
      new Set([job.importId, job.exportId]),
    );
    expect(c.log.filter((r) => r.event.startsWith('task.')).every((r) => 'task' in r.data)).toBe(
      true,
    );
  });

  it('sends a user every job and task event of theirs on their user channels', async () => {
    const c = client(stack.url);
    expect(await c.subscribe(`private-user.${alice.id}.jobs`, alice.key)).toEqual({ ok: true });
    expect(await c.subscribe(`private-user.${alice.id}.tasks`, alice.key)).toEqual({ ok: true });

    const job = await uploadJob(alice.key);
    const created = await c.next('job.created', `private-user.${alice.id}.jobs`);
    expect(created.data.job.id).toBe(job.id);
    expect(created.data.job.tasks.map((t: any) => t.name).sort()).toEqual([
      'export-it',
      'import-it',
    ]);
    await eventually(async () => c.log.filter((r) => r.event === 'task.created').length >= 2);
    const taskCreated = c.log.filter((r) => r.event === 'task.created');
    expect(new Set(taskCreated.map((r) => r.data.task.id))).toEqual(
      new Set([job.importId, job.exportId]),
    );
    expect(taskCreated.every((r) => r.channel === `private-user.${alice.id}.tasks`)).toBe(true);

    await job.uploadIt();
    const finished = await c.next('job.finished', `private-user.${alice.id}.jobs`);
    expect(finished.data.job.id).toBe(job.id);
    await c.next('task.finished', `private-user.${alice.id}.tasks`);
    expect(c.log.some((r) => r.event === 'job.updated' && r.data.job.status === 'processing')).toBe(
      true,
    );
  });

  it('sends the events of a standalone task on its task channel', async () => {
    const res = await call(stack, alice.key, 'POST', '/v2/import/upload');
    expect(res.status).toBe(201);
    const task = res.json.data;
    const c = client(stack.url);
    expect(await c.subscribe(`private-task.${task.id}`, alice.key)).toEqual({ ok: true });

    await upload(task.result.form.url, 'alone.png', PNG);
    const finished = await c.next('task.finished', `private-task.${task.id}`);
    expect(finished.data.task).toMatchObject({
      id: task.id,
      operation: 'import/upload',
      status: 'finished',
      result: { files: [{ filename: 'alone.png' }] },
    });
    expect(finished.data.task).not.toHaveProperty('name');
  });

  it('refuses bad keys, missing scopes, malformed messages and other users’ channels alike', async () => {
    const mine = await uploadJob(alice.key);
    const noScope = await stack.createUser({ scopes: ['task.write'] });
    const c = client(stack.url);

    expect(await c.subscribe(`private-job.${mine.id}`, 'cvd_not-a-key')).toMatchObject({
      ok: false,
      code: 'UNAUTHENTICATED',
    });
    expect(await c.subscribe(`private-job.${mine.id}`, noScope.key)).toMatchObject({
      ok: false,
      code: 'FORBIDDEN',
    });
    // Someone else's job and a job that does not exist get the very same answer.
    const foreign = await c.subscribe(`private-job.${mine.id}`, bob.key);
    const missing = await c.subscribe(`private-job.${crypto.randomUUID()}`, bob.key);
    expect(foreign).toEqual({ ok: false, code: 'NOT_FOUND', message: 'Not found.' });
    expect(missing).toEqual(foreign);
    expect(await c.subscribe(`private-job.${mine.id}.tasks`, bob.key)).toEqual(foreign);
    expect(await c.subscribe(`private-task.${mine.exportId}`, bob.key)).toEqual(foreign);
    expect(await c.subscribe(`private-user.${alice.id}.jobs`, bob.key)).toEqual(foreign);
    expect(await c.subscribe('private-job.../etc', bob.key)).toMatchObject({
      ok: false,
      code: 'INVALID_DATA',
    });
    const errors = c.log.filter((r) => r.event === 'subscription_error');
    expect(errors).toHaveLength(8);
    expect(errors[2]).toEqual({
      event: 'subscription_error',
      channel: `private-job.${mine.id}`,
      data: { code: 'NOT_FOUND', message: 'Not found.' },
    });

    // Alice's job runs to its end: Bob's refused subscriptions heard nothing of it.
    const watcher = client(stack.url);
    expect(await watcher.subscribe(`private-job.${mine.id}`, alice.key)).toEqual({ ok: true });
    await mine.uploadIt();
    await watcher.next('job.finished', `private-job.${mine.id}`);
    // A round trip on Bob's connection: anything sent to it before is in its log by now.
    expect(await c.subscribe(`private-user.${bob.id}.jobs`, bob.key)).toEqual({ ok: true });
    expect(c.log.filter((r) => r.event !== 'subscription_error')).toEqual([]);
  });

  it('refuses a revoked key, and stops a subscription whose key is revoked later', async () => {
    const carol = await stack.createUser();
    const carolJob = await uploadJob(carol.key);
    const c = client(stack.url);
    expect(await c.subscribe(`private-job.${carolJob.id}`, carol.key)).toEqual({ ok: true });

    await stack.deps.db.apiKey.updateMany({
      where: { userId: carol.id },
      data: { revokedAt: new Date() },
    });
    expect(await c.subscribe(`private-user.${carol.id}.jobs`, carol.key)).toMatchObject({
      ok: false,
      code: 'UNAUTHENTICATED',
    });

    await carolJob.uploadIt();
    const error = await c.next('subscription_error', `private-job.${carolJob.id}`);
    expect(error.data).toEqual({ code: 'UNAUTHENTICATED', message: 'Unauthenticated.' });
    expect(c.log.filter((r) => r.event.startsWith('job.'))).toEqual([]);
    expect(stack.deps.live.count(`private-job.${carolJob.id}`)).toBe(0);
  });

  it('forgets the subscriptions of a client on unsubscribe and on disconnect', async () => {
    const dave = await stack.createUser();
    const job = await uploadJob(dave.key);
    const c = connect(stack.url);
    const channel = `private-job.${job.id}`;
    const userChannel = `private-user.${dave.id}.tasks`;
    expect(await c.subscribe(channel, dave.key)).toEqual({ ok: true });
    expect(await c.subscribe(userChannel, dave.key)).toEqual({ ok: true });
    expect(await c.subscribe(`private-user.${dave.id}.jobs`, dave.key)).toEqual({ ok: true });
    expect([stack.deps.live.count(channel), stack.deps.live.count(userChannel)]).toEqual([1, 1]);

    expect(await c.unsubscribe(`private-user.${dave.id}.jobs`)).toEqual({ ok: true });
    expect(stack.deps.live.count(`private-user.${dave.id}.jobs`)).toBe(0);
    c.close();
    await eventually(async () => stack.deps.live.count(channel) === 0);
    expect(stack.deps.live.count(userChannel)).toBe(0);
  });

  it('handles a connection’s messages in order, up to 200 channels', async () => {
    const erin = await stack.createUser();
    const c = client(stack.url);
    const channel = `private-user.${erin.id}.jobs`;
    // Sent back to back: the unsubscribe does not overtake the subscribe.
    const subscribed = c.subscribe(channel, erin.key);
    const unsubscribed = c.unsubscribe(channel);
    expect(await subscribed).toEqual({ ok: true });
    expect(await unsubscribed).toEqual({ ok: true });
    expect(stack.deps.live.count(channel)).toBe(0);

    const tasks = Object.fromEntries(
      Array.from({ length: 200 }, (_, i) => [`in-${i}`, { operation: 'import/upload' }]),
    );
    const big = await call(stack, erin.key, 'POST', '/v2/jobs', { body: { tasks } });
    expect(big.status).toBe(201);
    const answers = await Promise.all(
      [...big.json.data.tasks.map((t: any) => `private-task.${t.id}`), channel].map((ch) =>
        c.subscribe(ch, erin.key),
      ),
    );
    expect(answers.filter((a) => a.ok)).toHaveLength(200);
    expect(answers.at(-1)).toMatchObject({ ok: false, code: 'INVALID_DATA' });
    expect(stack.deps.live.count(channel)).toBe(0);
  });

  it('works for the official node SDK: jobs.subscribeEvent(id, "finished")', async () => {
    const cc = new ConvertdCloudConvert(alice.key, { url: stack.url, syncUrl: stack.syncUrl });
    let jobId = '';
    try {
      const job = await cc.jobs.create({
        tag: 'integration-test-socket',
        tasks: {
          'import-it': { operation: 'import/upload' },
          'export-it': { operation: 'export/url', input: 'import-it' },
        },
      });
      jobId = job.id;
      const finished = new Promise<any>((resolve) => {
        void cc.jobs.subscribeEvent(job.id, 'finished', resolve);
      });
      await eventually(async () => stack.deps.live.count(`private-job.${job.id}`) === 1);

      const importTask = job.tasks.find((t) => t.name === 'import-it')!;
      await cc.tasks.upload(importTask, PNG, 'input.png');
      const event = await finished;
      expect(event.job.status).toBe('finished');
      expect(cc.jobs.getExportUrls(event.job)[0]?.filename).toBe('input.png');
    } finally {
      cc.closeSocket();
    }
    await eventually(async () => stack.deps.live.count(`private-job.${jobId}`) === 0);
  });
});

describe('socket.io with several gateways', () => {
  it('reaches a client of another gateway, through Redis, with that gateway’s origin', async () => {
    const deps = await createDeps(stack.config, createLogger('test', 'silent'));
    const other = buildApp(deps, { mode: 'main' });
    const port = await freePort();
    await other.listen({ port, host: '127.0.0.1' });
    const c = connect(`http://127.0.0.1:${port}`);
    try {
      const job = await uploadJob(alice.key);
      expect(await c.subscribe(`private-job.${job.id}`, alice.key)).toEqual({ ok: true });
      // Uploaded through the first gateway, finished by the worker: neither is this gateway.
      await job.uploadIt();
      const finished = await c.next('job.finished', `private-job.${job.id}`);
      expect(finished.data.job.links.self).toBe(`http://127.0.0.1:${port}/v2/jobs/${job.id}`);
      expect(stack.deps.live.count(`private-job.${job.id}`)).toBe(0);
    } finally {
      c.close();
      await other.close();
      await deps.close();
    }
  });
});

describe('socket.io beside the HTTP API', () => {
  it('answers on a socketio. host name, with URLs on the origin the client used', async () => {
    const port = new URL(stack.url).port;
    const job = await uploadJob(alice.key);
    const origin = `http://socketio.convert.test:${port}`;
    const c = client(stack.url, { headers: { host: `socketio.convert.test:${port}` } });
    expect(await c.subscribe(`private-job.${job.id}`, alice.key)).toEqual({ ok: true });

    await job.uploadIt();
    const finished = await c.next('job.finished', `private-job.${job.id}`);
    expect(finished.data.job.links.self).toBe(`${origin}/v2/jobs/${job.id}`);
    const exported = finished.data.job.tasks.find((t: any) => t.name === 'export-it');
    const url = new URL(exported.result.files[0].url);
    expect(url.origin).toBe(origin);
    // Any host name that reaches this port serves the download.
    const res = await rawRequest(`${stack.url}${url.pathname}${url.search}`, {
      headers: { host: url.host },
    });
    expect(res.status).toBe(200);
    expect(res.body.equals(PNG)).toBe(true);
  });

  it('accepts long-polling clients too', async () => {
    const job = await uploadJob(alice.key);
    const c = client(stack.url, { transports: ['polling'] });
    expect(await c.subscribe(`private-job.${job.id}`, alice.key)).toEqual({ ok: true });
    await job.uploadIt();
    expect((await c.next('job.finished', `private-job.${job.id}`)).data.job.id).toBe(job.id);
  });

  it('leaves unknown routes to Fastify’s JSON 404, and the API working', async () => {
    const missing = await rawRequest(`${stack.url}/socket.io.txt`);
    expect(missing.status).toBe(404);
    expect(missing.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(missing.body.toString())).toMatchObject({ code: 'NOT_FOUND' });

    const me = await call(stack, alice.key, 'GET', '/v2/users/me');
    expect(me.status).toBe(200);
    // The sync port serves no socket.io.
    const sync = await rawRequest(`${stack.syncUrl}/socket.io/?EIO=4&transport=polling`);
    expect(sync.status).toBe(404);
    expect(JSON.parse(sync.body.toString())).toMatchObject({ code: 'NOT_FOUND' });
  });
});
