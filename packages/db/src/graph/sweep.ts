import { transaction, type Db } from '../client';
import { emptyOutcome, refreshJob, releaseIfReady, type TaskRow } from './status';
import type { Outcome, Router } from './types';

/** Tasks handed to a queue more than `olderThanMs` ago that no worker has taken yet. */
export async function findStrandedTasks(db: Db, olderThanMs: number, limit = 500) {
  return db.task.findMany({
    where: {
      status: 'waiting',
      queue: { not: null },
      queuedAt: { lt: new Date(Date.now() - olderThanMs) },
    },
    select: { id: true, queue: true },
    orderBy: { queuedAt: 'asc' },
    take: limit,
  });
}

/** Tasks `processing` on a queue (not uploads) that started more than `olderThanMs` ago. */
export async function findLostTasks(db: Db, olderThanMs: number, limit = 500) {
  return db.task.findMany({
    where: {
      status: 'processing',
      queue: { not: null },
      startedAt: { lt: new Date(Date.now() - olderThanMs) },
    },
    select: { id: true, queue: true },
    take: limit,
  });
}

/** `import/upload` tasks that took an upload more than `olderThanMs` ago and have not ended. */
export async function findUploadsInProgress(db: Db, olderThanMs: number, limit = 500) {
  return db.task.findMany({
    where: {
      operation: 'import/upload',
      status: 'processing',
      startedAt: { lt: new Date(Date.now() - olderThanMs) },
    },
    select: { id: true, attempts: true },
    take: limit,
  });
}

/**
 * Routes again a task still waiting on `queue` (which nobody consumes any more, or never did):
 * it moves to the queue the router picks now, or fails with the router's code. Null when the
 * task left that queue meanwhile.
 */
export async function rerouteStranded(
  db: Db,
  id: string,
  queue: string,
  route: Router,
): Promise<Outcome | null> {
  return transaction(db, async (tx) => {
    const rows = await tx.$queryRaw<TaskRow[]>`
      SELECT id, job_id, user_id, status, ignore_error, operation, payload FROM tasks
      WHERE id = ${id}::uuid AND status = 'waiting' AND queue = ${queue} FOR UPDATE`;
    const row = rows[0];
    if (!row) {
      return null;
    }

    const out = emptyOutcome();
    await releaseIfReady(tx, row, route, out);
    await refreshJob(tx, row.job_id, out);

    return out;
  });
}
