// Periodic repairs that keep Postgres and Redis in agreement (ARCHITECTURE.md decision 1).
import {
  deleteExpired,
  findLostTasks,
  findStrandedTasks,
  findUploadsInProgress,
  rerouteStranded,
  revertUpload,
} from '@convertd/db';
import {
  listEngines,
  servedVersions,
  UPLOAD_LEASE_SEC,
  uploadLeaseKey,
  type ServedVersions,
} from '@convertd/queue';
import { versionMatches } from '@convertd/api';

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

/** Batches of expired jobs and tasks one sweep deletes at most (the rest wait for the next). */
const EXPIRY_BATCH = 100;
const EXPIRY_ROUNDS = 10;

/**
 * Re-queues ready tasks that Redis lost and running tasks whose queue entry vanished, routes
 * again tasks left on a version queue nobody consumes, and gives back uploads whose gateway died
 * mid-upload, and deletes jobs and standalone tasks (with their files) RETENTION_HOURS after they
 * ended.
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
  const stranded = await findStrandedTasks(ctx.db, grace);
  const dead = await unconsumed(ctx, stranded);
  const candidates = [
    ...stranded.filter((t) => !dead.has(t.id)),
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
  await expireEnded(ctx);

  return missing.length;
}

/**
 * Waiting tasks whose queue pins a version of an engine that live workers serve, but in no such
 * version (it was routed before the gateway knew the workers, or that worker went away): they
 * are routed again, which fails them with ENGINE_VERSION_UNAVAILABLE rather than leaving them
 * waiting for good. An engine nobody serves at all is left alone: its workers may be starting.
 */
async function unconsumed(
  ctx: WorkerContext,
  tasks: readonly { id: string; queue: string | null }[],
): Promise<Set<string>> {
  const pinned = tasks.filter(
    (t) => t.queue?.startsWith('engine.') && t.queue.split('.').length > 2,
  );
  if (pinned.length === 0) {
    return new Set();
  }

  const served = servedVersions(await listEngines(ctx.redis, ctx.config.queuePrefix));
  const rerouted = new Set<string>();
  for (const task of pinned) {
    if (!isConsumed(task.queue!, served)) {
      const outcome = await rerouteStranded(ctx.db, task.id, task.queue!, ctx.route);
      if (outcome) {
        ctx.logger.warn(
          { taskId: task.id, queue: task.queue },
          'sweep routed a stranded task again',
        );
        await publish(ctx, outcome);
      }
      rerouted.add(task.id);
    }
  }

  return rerouted;
}

/** `engine.<name>.<version prefix>`: consumed unless the engine is served, in other versions only. */
function isConsumed(queue: string, served: ServedVersions): boolean {
  const [, engine = '', ...version] = queue.split('.');
  const versions = served.get(engine);

  return versions === undefined || versions.some((v) => versionMatches(v, version.join('.')));
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

/** Jobs and standalone tasks that ended more than RETENTION_HOURS ago go, files first. */
async function expireEnded(ctx: WorkerContext): Promise<void> {
  if (ctx.config.retentionHours <= 0) {
    return;
  }
  const cutoff = new Date(Date.now() - ctx.config.retentionHours * 3_600_000);
  for (let round = 0; round < EXPIRY_ROUNDS; round += 1) {
    const gone = await deleteExpired(
      ctx.db,
      cutoff,
      (keys) => ctx.storage.delete(keys),
      EXPIRY_BATCH,
    );
    if (gone.jobs + gone.tasks > 0) {
      ctx.logger.info(gone, 'sweep deleted expired jobs and tasks');
    }
    if (gone.jobs < EXPIRY_BATCH && gone.tasks < EXPIRY_BATCH) {
      return;
    }
  }
}
