import type { Db } from '../client';

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
