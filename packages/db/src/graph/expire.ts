import { archiveUsage } from '../account/usage';
import type { Db } from '../client';
import { unlisted } from './delete';

/** Removing a batch's files from object storage may take a while; the rows stay locked meanwhile. */
const TIMEOUT_MS = 60_000;

export interface Expired {
  jobs: number;
  tasks: number;
}

/**
 * Deletes up to `limit` jobs and up to `limit` standalone tasks that ended before `cutoff`, with
 * their files (those no remaining task lists: an instant export shares its inputs' keys), their
 * usage folded into `usage_days` first: `removeFiles` runs inside the transaction, so rows go
 * only once their files are gone, and a failed removal leaves both for the next try. Rows another process holds are
 * skipped, so several sweepers never wait on each other. A job or task whose files a task
 * still waiting or running elsewhere reads is kept until that task ends.
 */
export async function deleteExpired(
  db: Db,
  cutoff: Date,
  removeFiles: (storageKeys: string[]) => Promise<void>,
  limit = 100,
): Promise<Expired> {
  // A failure (a deadlock with a user's delete, say) is tried again by the next sweep.
  return db.$transaction(
    async (tx) => {
      const jobs = await tx.$queryRaw<{ id: string }[]>`
      SELECT j.id FROM jobs j
      WHERE j.status IN ('finished', 'error') AND j.ended_at < ${cutoff}
        AND NOT EXISTS (
          SELECT 1 FROM tasks t
          JOIN task_edges e ON e.input_task_id = t.id
          JOIN tasks d ON d.id = e.task_id
          WHERE t.job_id = j.id AND d.status IN ('waiting', 'processing'))
      ORDER BY j.ended_at LIMIT ${limit}
      FOR UPDATE SKIP LOCKED`;
      const tasks = await tx.$queryRaw<{ id: string }[]>`
      SELECT t.id FROM tasks t
      WHERE t.job_id IS NULL AND t.status IN ('finished', 'error') AND t.ended_at < ${cutoff}
        AND NOT EXISTS (
          SELECT 1 FROM task_edges e
          JOIN tasks d ON d.id = e.task_id
          WHERE e.input_task_id = t.id AND d.status IN ('waiting', 'processing'))
      ORDER BY t.ended_at LIMIT ${limit}
      FOR UPDATE SKIP LOCKED`;
      if (jobs.length === 0 && tasks.length === 0) {
        return { jobs: 0, tasks: 0 };
      }

      const jobIds = jobs.map((j) => j.id);
      const taskIds = tasks.map((t) => t.id);
      const files = await tx.taskFile.findMany({
        where: { OR: [{ task: { jobId: { in: jobIds } } }, { taskId: { in: taskIds } }] },
        select: { storageKey: true },
      });
      await archiveUsage(tx, { jobIds, taskIds });
      await tx.job.deleteMany({ where: { id: { in: jobIds } } });
      await tx.task.deleteMany({ where: { id: { in: taskIds } } });
      await removeFiles(
        await unlisted(
          tx,
          files.map((f) => f.storageKey),
        ),
      );

      return { jobs: jobIds.length, tasks: taskIds.length };
    },
    { timeout: TIMEOUT_MS },
  );
}
