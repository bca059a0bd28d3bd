// A worker process killed in the middle of a task, and queue entries that Redis lost: the task is
// run again elsewhere or ends in error with a code, never stays `processing` or `waiting` forever.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { beginUpload } from '../../../packages/db/src/index';
import { holdUploadLease } from '../../../packages/queue/src/index';
import type { WorkerRuntime } from '../src/runtime';
import { api, eventually, startStack, type Stack } from '../../../test/harness';
import { FakeEngine } from './fixtures/fake-engine';
import {
  byName,
  createJob,
  createTask,
  exportedFiles,
  expectNoTaskDirs,
  waitJob,
  waitTask,
} from './support';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const CHILD = path.join(import.meta.dirname, 'fixtures/slow-worker.ts');

let stack: Stack;
let key: string;
let redis: Redis;
let tmp: string;
const children = new Set<ChildProcess>();

// Child workers serve the engine `slow`; the gateway here checks tasks against the catalogue.
new FakeEngine({ name: 'slow' });

beforeAll(async () => {
  stack = await startStack();
  ({ key } = await stack.createUser());
  redis = new Redis(stack.env.REDIS_URL!, { maxRetriesPerRequest: null });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'convertd-faults-'));
});

afterAll(async () => {
  for (const child of children) {
    child.kill('SIGKILL');
  }
  redis?.disconnect();
  await stack?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** A worker in its own process serving a fake `slow` engine that takes 60 s per conversion. */
async function startChildWorker(
  hostName: string,
  workDir = path.join(tmp, `${hostName}-work`),
): Promise<{ child: ChildProcess; marker: string; workDir: string }> {
  const marker = path.join(tmp, `${hostName}.started`);
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    cwd: ROOT,
    env: {
      ...process.env,
      ...stack.env,
      WORK_DIR: workDir,
      WORKER_HOST_NAME: hostName,
      FAKE_ENGINE: 'slow',
      FAKE_DELAY_MS: '60000',
      FAKE_LABEL: hostName,
      FAKE_START_MARKER: marker,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`child worker not ready: ${stderr}`)), 30_000);
    child.stdout.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`child worker exited (${code}): ${stderr}`)));
  });

  return { child, marker, workDir };
}

async function kill(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

async function row(id: string) {
  return stack.deps.db.task.findUniqueOrThrow({ where: { id } });
}

async function slowJob(content: string): Promise<{ jobId: string; convId: string }> {
  const job = await createJob(stack, key, {
    src: { operation: 'import/raw', file: content, filename: 'input.txt' },
    conv: { operation: 'convert', input: 'src', output_format: 'out', engine: 'slow' },
    exp: { operation: 'export/url', input: 'conv' },
  });
  return { jobId: job.id, convId: byName(job, 'conv').id };
}

/** Waits until `host` runs the task and its engine has started. */
async function runningOn(convId: string, host: string, marker: string): Promise<void> {
  await eventually(async () => {
    const res = await api(stack, key, 'GET', `/v2/tasks/${convId}`);
    return (
      res.json.data.status === 'processing' &&
      res.json.data.host_name === host &&
      fs.existsSync(marker)
    );
  }, 30_000);
}

describe('worker killed mid-task', () => {
  it('runs the task again on another worker once the dead worker lock expires', async () => {
    const first = await startChildWorker('child-1');
    const { jobId, convId } = await slowJob('killed once');
    await runningOn(convId, 'child-1', first.marker);
    expect((await row(convId)).attempts).toBe(1);

    await kill(first.child);
    const killedAt = Date.now();
    const rescuer = await stack.startWorker({
      engines: [new FakeEngine({ name: 'slow', label: 'rescuer' })],
      hostName: 'rescuer',
    });
    try {
      const job = await waitJob(stack, key, jobId, 40_000);
      expect(Date.now() - killedAt).toBeLessThan(40_000);
      expect(job.status).toBe('finished');
      expect(byName(job, 'conv')).toMatchObject({
        status: 'finished',
        code: null,
        host_name: 'rescuer',
        engine: 'slow',
      });
      expect((await row(convId)).attempts).toBe(2);
      const files = await exportedFiles(byName(job, 'exp'));
      expect(files.map((f) => [f.filename, f.bytes.toString()])).toEqual([
        ['input.out', 'rescuer:killed once'],
      ]);
    } finally {
      await rescuer.close();
    }
  }, 90_000);

  it('ends the task WORKER_LOST when its workers die more often than TASK_ATTEMPTS allows', async () => {
    expect(stack.config.maxTaskAttempts).toBe(2);
    const first = await startChildWorker('child-2');
    const { jobId, convId } = await slowJob('killed twice');
    await runningOn(convId, 'child-2', first.marker);
    await kill(first.child);

    const second = await startChildWorker('child-3');
    await runningOn(convId, 'child-3', second.marker);
    expect((await row(convId)).attempts).toBe(2);
    await kill(second.child);

    const engine = new FakeEngine({ name: 'slow', label: 'late' });
    const late = await stack.startWorker({ engines: [engine], hostName: 'late' });
    try {
      const job = await waitJob(stack, key, jobId, 40_000);
      expect(job.status).toBe('error');
      expect(byName(job, 'conv')).toMatchObject({
        status: 'error',
        code: 'WORKER_LOST',
        message: 'The worker running this task stopped',
      });
      expect(byName(job, 'exp')).toMatchObject({
        status: 'error',
        code: 'INPUT_TASK_FAILED',
        started_at: null,
      });
      expect(engine.calls).toEqual([]);
    } finally {
      await late.close();
    }
  }, 120_000);
});

describe('uploads whose gateway died', () => {
  it('go back to waiting once their lease lapses, and accept a new upload', async () => {
    const created = await api(stack, key, 'POST', '/v2/import/upload');
    const id: string = created.json.data.id;
    // A gateway took the upload and died: the task is processing, and no lease is held.
    expect(await beginUpload(stack.deps.db, id)).not.toBeNull();
    await stack.deps.db
      .$executeRaw`UPDATE tasks SET started_at = now() - interval '5 minutes' WHERE id = ${id}::uuid`;

    const waiting = await eventually(async () => {
      const task = await api(stack, key, 'GET', `/v2/tasks/${id}`);
      return task.json.data.status === 'waiting' ? task.json.data : null;
    }, 20_000);
    expect(waiting.message).toBe('The upload was interrupted; upload the file again.');

    const body = new FormData();
    body.append('file', new Blob(['second try']), 'again.txt');
    expect((await fetch(waiting.result.form.url, { method: 'POST', body })).status).toBe(201);
  }, 60_000);

  it('stay processing while their gateway holds the lease', async () => {
    const created = await api(stack, key, 'POST', '/v2/import/upload');
    const id: string = created.json.data.id;
    expect(await beginUpload(stack.deps.db, id)).not.toBeNull();
    await stack.deps.db
      .$executeRaw`UPDATE tasks SET started_at = now() - interval '5 minutes' WHERE id = ${id}::uuid`;
    const lease = holdUploadLease(redis, stack.env.QUEUE_PREFIX!, id);

    // Three sweeps (SWEEP_INTERVAL_MS=2000) pass without touching it.
    await new Promise((resolve) => setTimeout(resolve, 6500));
    expect((await api(stack, key, 'GET', `/v2/tasks/${id}`)).json.data.status).toBe('processing');

    await lease.release();
    await eventually(
      async () => (await api(stack, key, 'GET', `/v2/tasks/${id}`)).json.data.status === 'waiting',
      20_000,
    );
  }, 60_000);
});

describe('work dirs of dead workers', () => {
  it('are removed by the next worker that starts on the same WORK_DIR', async () => {
    const workDir = path.join(tmp, 'cleaner-work');
    const ours = path.join(workDir, 'tasks', stack.env.QUEUE_PREFIX!);
    const ghost = path.join(ours, 'ghost-host');
    fs.mkdirSync(path.join(ghost, 'some-task-1234'), { recursive: true });
    fs.writeFileSync(
      path.join(ghost, 'some-task-1234', 'in-0.docx'),
      'left behind by a killed worker',
    );
    const longAgo = new Date(Date.now() - 10 * 60_000);
    fs.utimesSync(ghost, longAgo, longAgo);
    // A worker that died a moment ago might still be writing its last files: wait for later.
    const fresh = path.join(ours, 'just-died');
    fs.mkdirSync(fresh, { recursive: true });
    // Another deployment sharing WORK_DIR: not ours to judge, whatever its age.
    const foreign = path.join(workDir, 'tasks', 'other-deployment', 'its-worker');
    fs.mkdirSync(foreign, { recursive: true });
    fs.utimesSync(foreign, longAgo, longAgo);

    const worker = await startChildWorker('cleaner', workDir);
    try {
      expect(fs.existsSync(ghost)).toBe(false);
      expect(fs.readdirSync(ours).sort()).toEqual(['cleaner', 'just-died']);
      expect(fs.existsSync(foreign)).toBe(true);
    } finally {
      await kill(worker.child);
    }
  }, 60_000);
});

describe('queue entries lost by Redis', () => {
  it('re-queues a ready task whose queue entry vanished, and it finishes', async () => {
    const src = await waitTask(
      stack,
      key,
      (await createTask(stack, key, 'import/raw', { file: 'lost and found', filename: 'lost.txt' }))
        .id,
    );
    // A worker of `lost` was here (its advertisement outlives it), so the task is accepted and
    // queued, but nobody takes it before Redis loses it.
    const earlier = await stack.startWorker({
      engines: [new FakeEngine({ name: 'lost' })],
      hostName: 'earlier',
    });
    await earlier.close();
    const conv = await createTask(stack, key, 'convert', {
      input: src.id,
      output_format: 'out',
      engine: 'lost',
    });
    expect((await row(conv.id)).queue).toBe('engine.lost');

    const queue = new Queue('engine.lost', { connection: redis, prefix: stack.env.QUEUE_PREFIX! });
    try {
      expect(await queue.getJob(conv.id)).toBeTruthy();
      await queue.obliterate({ force: true });
      expect(await queue.getJob(conv.id)).toBeUndefined();
    } finally {
      await queue.close();
    }

    await stack.startWorker({
      engines: [new FakeEngine({ name: 'lost', label: 'found' })],
      hostName: 'finder',
    });
    const done = await waitTask(stack, key, conv.id, 20_000);
    expect(done).toMatchObject({ status: 'finished', host_name: 'finder' });
    expect((await row(conv.id)).attempts).toBe(1);
    const exp = await waitTask(
      stack,
      key,
      (await createTask(stack, key, 'export/url', { input: conv.id })).id,
    );
    expect((await exportedFiles(exp)).map((f) => f.bytes.toString())).toEqual([
      'found:lost and found',
    ]);
  }, 60_000);

  it('re-queues a running task whose worker died and whose queue entry vanished', async () => {
    const child = await startChildWorker('child-4');
    const { jobId, convId } = await slowJob('worker and queue lost');
    await runningOn(convId, 'child-4', child.marker);
    await kill(child.child);
    await redis.del(...(await redis.keys(`${stack.env.QUEUE_PREFIX}:engine.slow:*`)));

    const worker: WorkerRuntime = await stack.startWorker({
      engines: [new FakeEngine({ name: 'slow', label: 'sweep' })],
      hostName: 'after-sweep',
    });
    try {
      const job = await waitJob(stack, key, jobId, 40_000);
      expect(job.status).toBe('finished');
      expect(byName(job, 'conv')).toMatchObject({ status: 'finished', host_name: 'after-sweep' });
      expect((await row(convId)).attempts).toBe(2);
      expect((await exportedFiles(byName(job, 'exp'))).map((f) => f.bytes.toString())).toEqual([
        'sweep:worker and queue lost',
      ]);
    } finally {
      await worker.close();
    }
  }, 90_000);

  it('leaves no task directory in the work dir of the workers that lived', async () => {
    await expectNoTaskDirs(stack.env.WORK_DIR!);
  });
});
