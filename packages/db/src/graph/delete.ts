import { AppError } from '@convertd/errors';

import { archiveUsage } from '../account/usage';
import { transaction, type Db, type Tx } from '../client';
import { emptyOutcome, refreshJob, settleDependants, taskChange } from './status';
import type { Outcome, Router } from './types';

export interface Deletion {
  /** Storage keys of the files that belonged to the deleted tasks: the caller removes them. */
  storageKeys: string[];
  /** Tasks that were running: the caller tells their workers to stop. */
  stoppedTaskIds: string[];
  outcome: Outcome;
}

/** Deletes a task (failing the tasks that still waited for it) and reports what to clean up. */
export async function deleteTask(
  db: Db,
  id: string,
  userId: number,
  route: Router,
): Promise<Deletion> {
  return transaction(db, async (tx) => {
    const rows = await tx.$queryRaw<
      { id: string; job_id: string | null; user_id: number; status: string }[]
    >`
      SELECT id, job_id, user_id, status FROM tasks WHERE id = ${id}::uuid AND user_id = ${userId} FOR UPDATE`;
    const row = rows[0];
    if (!row) {
      throw new AppError('NOT_FOUND');
    }

    const out = emptyOutcome();
    const active = row.status === 'waiting' || row.status === 'processing';
    if (active) {
      await tx.$executeRaw`
        UPDATE tasks SET status = 'error', code = 'CANCELLED', message = 'The task has been deleted', ended_at = now()
        WHERE id = ${id}::uuid`;
      out.changes.push(taskChange(row, 'error'));
      await settleDependants(tx, id, route, out);
    }

    const files = await tx.taskFile.findMany({
      where: { taskId: id },
      select: { storageKey: true },
    });
    await archiveUsage(tx, { taskId: id });
    await tx.task.delete({ where: { id } });
    await refreshJob(tx, row.job_id, out);

    return {
      storageKeys: await unlisted(
        tx,
        files.map((f) => f.storageKey),
      ),
      stoppedTaskIds: row.status === 'processing' ? [id] : [],
      outcome: out,
    };
  });
}

/**
 * Deletes a job with all its tasks and reports what to clean up. Its running tasks end first, so
 * that tasks outside the job that wait for them (standalone tasks may take a job's task as
 * input) fail with INPUT_TASK_FAILED instead of waiting forever.
 */
export async function deleteJob(
  db: Db,
  id: string,
  userId: number,
  route: Router,
): Promise<Deletion> {
  return transaction(db, async (tx) => {
    const job = await tx.job.findFirst({ where: { id, userId }, select: { id: true } });
    if (!job) {
      throw new AppError('NOT_FOUND');
    }

    // Locked first: a task that ends right now either commits its files before we read them, or
    // finds its row gone and deletes its own files.
    const active = await tx.$queryRaw<
      { id: string; job_id: string; user_id: number; status: string }[]
    >`
      SELECT id, job_id, user_id, status FROM tasks WHERE job_id = ${id}::uuid ORDER BY id FOR UPDATE`;
    const out = emptyOutcome();
    for (const task of active.filter((t) => t.status === 'waiting' || t.status === 'processing')) {
      await tx.$executeRaw`
        UPDATE tasks SET status = 'error', code = 'CANCELLED', message = 'The job has been deleted', ended_at = now()
        WHERE id = ${task.id}::uuid`;
      await settleDependants(tx, task.id, route, out);
    }
    const tasks = await tx.task.findMany({
      where: { jobId: id },
      select: { files: { select: { storageKey: true } } },
    });
    await archiveUsage(tx, { jobId: id });
    await tx.job.delete({ where: { id } });

    return {
      storageKeys: await unlisted(
        tx,
        tasks.flatMap((t) => t.files.map((f) => f.storageKey)),
      ),
      stoppedTaskIds: active.filter((t) => t.status === 'processing').map((t) => t.id),
      outcome: {
        // The job's own change wakes sync waiters on it (they then find it gone: 404).
        changes: [
          ...out.changes,
          { kind: 'job', id, jobId: id, userId, status: 'error', event: 'failed' },
        ],
        ready: out.ready.filter((r) => !active.some((t) => t.id === r.id)),
      },
    };
  });
}

/**
 * The keys of deleted files that no remaining task lists: an instant `export/url` shares the
 * storage keys of its inputs' files (instant.ts), which must outlive whichever of them goes
 * first. The rows found are locked, so two deletions that share a key cannot both keep it.
 */
export async function unlisted(tx: Tx, keys: string[]): Promise<string[]> {
  const unique = [...new Set(keys)];
  if (unique.length === 0) {
    return [];
  }

  const listed = await tx.$queryRaw<{ storage_key: string }[]>`
    SELECT storage_key FROM task_files WHERE storage_key = ANY(${unique}::text[]) FOR SHARE`;
  const kept = new Set(listed.map((r) => r.storage_key));

  return unique.filter((key) => !kept.has(key));
}
