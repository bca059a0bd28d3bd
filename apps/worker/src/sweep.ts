// Periodic repairs that keep Postgres and Redis in agreement (ARCHITECTURE.md decision 1).
import {
  findLostTasks,
  findStrandedTasks,
  findUploadsInProgress,
  revertUpload,
} from '@convertd/db';
import { UPLOAD_LEASE_SEC, uploadLeaseKey } from '@convertd/queue';

import type { WorkerContext } from './context';
import { publish } from './runner';

/** Only one process of the deployment sweeps at a time. */
const LOCK_KEY = 'sweep-lock';

export function startSweeps(ctx: WorkerContext): { stop(): void } {
  const timer = setInterval(
    () => void sweepOnce(ctx).catch((err: unknown) => ctx.logger.warn({ err }, 'sweep failed')),
    ctx.config.sweepIntervalMs,
  );
  timer.unref();

  return { stop: () => clearInterval(timer) };
}

/**
 * Re-queues ready tasks that Redis lost and running tasks whose queue entry vanished, and gives
 * back uploads whose gateway died mid-upload.
 */
export async function sweepOnce(ctx: WorkerContext): Promise<number> {
  const locked = await ctx.redis.set(
    `${ctx.config.queuePrefix}:${LOCK_KEY}`,
    ctx.hostName,
    'PX',
    ctx.config.sweepIntervalMs,
    'NX',
  );
  if (locked !== 'OK') {
    return 0;
  }

  const grace = ctx.config.sweepIntervalMs;
  const candidates = [
    ...(await findStrandedTasks(ctx.db, grace)),
    ...(await findLostTasks(ctx.db, ctx.config.lockDurationMs * 2)),
  ];
  const missing = [];
  for (const task of candidates) {
    if (task.queue && !(await ctx.dispatcher.isQueued(task.queue, task.id))) {
      missing.push({ id: task.id, queue: task.queue });
    }
  }
  if (missing.length > 0) {
    ctx.logger.warn({ tasks: missing.length }, 'sweep re-queued tasks that Redis lost');
    await ctx.dispatcher.enqueue(missing);
  }

  await releaseAbandonedUploads(ctx);

  return missing.length;
}

async function releaseAbandonedUploads(ctx: WorkerContext): Promise<void> {
  for (const upload of await findUploadsInProgress(ctx.db, UPLOAD_LEASE_SEC * 1000)) {
    if ((await ctx.redis.exists(uploadLeaseKey(ctx.config.queuePrefix, upload.id))) === 1) {
      continue;
    }

    const outcome = await revertUpload(
      ctx.db,
      upload.id,
      upload.attempts,
      'The upload was interrupted; upload the file again.',
    );
    if (outcome) {
      ctx.logger.warn({ taskId: upload.id }, 'upload abandoned by its gateway; task waits again');
      await publish(ctx, outcome);
    }
  }
}
