// Expiry on both storage drivers: the sweep deletes jobs and standalone tasks with their files
// RETENTION_HOURS after they ended (a few seconds here), keeps what has not ended, and a
// user's DELETE removes files at once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { api, eventually, startStack, type Stack } from '../../../test/harness';
import { createJob, createTask, waitJob, waitTask } from './support';

/** Five seconds: long enough to look at a finished job before it goes, even on a busy machine. */
const RETENTION_HOURS = String(5 / 3600);

describe.each(['local', 's3'] as const)('expiry on %s storage', (driver) => {
  let stack: Stack;
  let key: string;

  beforeAll(async () => {
    stack = await startStack({
      storage: driver,
      workerOptions: { engines: [] },
      env: { RETENTION_HOURS, SWEEP_INTERVAL_MS: '1000' },
    });
    key = (await stack.createUser()).key;
  });

  afterAll(async () => {
    await stack?.close();
  });

  /** Storage keys of the files of these tasks, from the database. */
  async function storageKeys(taskIds: string[]): Promise<string[]> {
    const files = await stack.deps.db.taskFile.findMany({ where: { taskId: { in: taskIds } } });
    return files.map((f) => f.storageKey);
  }

  async function allGone(keys: string[]): Promise<boolean> {
    const sizes = await Promise.all(keys.map((k) => stack.deps.storage.size(k)));
    return sizes.every((s) => s === null);
  }

  it('deletes an ended job, an ended standalone task and their files; keeps a waiting job', async () => {
    const waiting = await createJob(stack, key, { up: { operation: 'import/upload' } });
    const job = await createJob(stack, key, {
      raw: { operation: 'import/raw', file: 'expire me', filename: 'a.txt' },
      out: { operation: 'export/url', input: 'raw' },
    });
    const task = await createTask(stack, key, 'import/raw', { file: 'me too', filename: 'b.txt' });
    expect((await waitJob(stack, key, job.id)).status).toBe('finished');
    expect((await waitTask(stack, key, task.id)).status).toBe('finished');
    const keys = await storageKeys([...(job.tasks as { id: string }[]).map((t) => t.id), task.id]);
    expect(keys).toHaveLength(3);
    for (const k of keys) {
      expect(await stack.deps.storage.size(k)).not.toBeNull();
    }

    await eventually(async () => {
      const [j, t] = await Promise.all([
        api(stack, key, 'GET', `/v2/jobs/${job.id}`),
        api(stack, key, 'GET', `/v2/tasks/${task.id}`),
      ]);
      return j.status === 404 && t.status === 404;
    });
    expect(await allGone(keys)).toBe(true);
    expect(await stack.deps.db.task.count({ where: { jobId: job.id } })).toBe(0);
    const kept = await api(stack, key, 'GET', `/v2/jobs/${waiting.id}`);
    expect(kept.status).toBe(200);
    expect(kept.json.data.status).toBe('waiting');
  });

  it('deletes the files of a deleted job and a deleted task at once', async () => {
    // Expiry off here, so that only the user's DELETE may remove these files.
    const keep = await startStack({
      storage: driver,
      workerOptions: { engines: [] },
      env: { RETENTION_HOURS: '0' },
    });
    try {
      await deleteAtOnce(keep, (await keep.createUser()).key);
    } finally {
      await keep.close();
    }
  });
});

async function deleteAtOnce(stack: Stack, key: string): Promise<void> {
  {
    const job = await createJob(stack, key, {
      raw: { operation: 'import/raw', file: 'delete me', filename: 'c.txt' },
    });
    const task = await createTask(stack, key, 'import/raw', { file: 'and me', filename: 'd.txt' });
    await waitJob(stack, key, job.id);
    await waitTask(stack, key, task.id);
    const files = await stack.deps.db.taskFile.findMany({
      where: { taskId: { in: [(job.tasks as { id: string }[])[0]!.id, task.id] } },
    });
    const keys = files.map((f) => f.storageKey);
    expect(keys).toHaveLength(2);
    for (const k of keys) {
      expect(await stack.deps.storage.size(k)).not.toBeNull();
    }

    expect((await api(stack, key, 'DELETE', `/v2/jobs/${job.id}`)).status).toBe(204);
    expect((await api(stack, key, 'DELETE', `/v2/tasks/${task.id}`)).status).toBe(204);
    // No waiting: the 204 came after the files were removed.
    const sizes = await Promise.all(keys.map((k) => stack.deps.storage.size(k)));
    expect(sizes).toEqual([null, null]);
  }
}
