// Claiming and settling outbox rows. A claim is a lease: it pushes `next_attempt_at` past the
// attempt's deadline, so a dispatcher that dies mid-send leaves the row to be claimed again
// (at-least-once). `attempts` is the fencing token: only the attempt that claimed a row settles it.
import type { Db, DbOrTx } from '../client';
import type { JobSnapshot } from './outbox';

export interface ClaimedDelivery {
  id: number;
  attempt: number;
  userId: number;
  webhookId: string | null;
  kind: 'account' | 'job';
  jobId: string;
  event: string;
  url: string;
  snapshot: JobSnapshot;
}

/** Claims up to `limit` due deliveries that no other dispatcher holds. */
export async function claimDeliveries(
  db: Db,
  options: { limit: number; leaseMs: number; ids?: number[] },
): Promise<ClaimedDelivery[]> {
  const only = options.ids ?? null;
  const rows = await db.$queryRaw<
    {
      id: number;
      attempts: number;
      user_id: number;
      webhook_id: string | null;
      kind: string;
      job_id: string;
      event: string;
      url: string;
      snapshot: JobSnapshot;
    }[]
  >`
    WITH due AS (
      SELECT id FROM webhook_deliveries
      WHERE status = 'pending' AND next_attempt_at <= now()
        AND (${only}::int[] IS NULL OR id = ANY(${only}::int[]))
        -- A job's events reach a URL one at a time, in the order they happened: job.created
        -- goes before the job.finished of a job that ended in the transaction creating it,
        -- even while it waits for a retry or is being sent by another dispatcher. Rows named
        -- by ids (an operator resending one) go at once.
        AND (${only}::int[] IS NOT NULL OR NOT EXISTS (
          SELECT 1 FROM webhook_deliveries e
          WHERE e.job_id = webhook_deliveries.job_id AND e.url = webhook_deliveries.url
            AND e.status = 'pending' AND e.id < webhook_deliveries.id))
      ORDER BY next_attempt_at, id
      LIMIT ${options.limit}
      FOR UPDATE SKIP LOCKED
    )
    UPDATE webhook_deliveries d
    SET attempts = d.attempts + 1, last_attempt_at = now(),
      next_attempt_at = now() + ${options.leaseMs} * interval '1 millisecond'
    FROM due WHERE d.id = due.id
    RETURNING d.id, d.attempts, d.user_id, d.webhook_id::text AS webhook_id, d.kind,
      d.job_id::text AS job_id, d.event, d.url, d.snapshot`;

  return rows.map((r) => ({
    id: r.id,
    attempt: r.attempts,
    userId: r.user_id,
    webhookId: r.webhook_id,
    kind: r.kind === 'job' ? 'job' : 'account',
    jobId: r.job_id,
    event: r.event,
    url: r.url,
    snapshot: r.snapshot,
  }));
}

/** What one attempt came to. */
export interface AttemptResult {
  statusCode: number | null;
  error: string | null;
  durationMs: number;
  /** delivered; retry at `retryAt`; or failed for good (`disable`: the receiver said 410). */
  outcome: 'delivered' | 'retry' | 'failed';
  retryAt?: Date;
  disable?: boolean;
}

/**
 * Records an attempt and settles the delivery, unless another attempt took the row over (its
 * lease ran out): that attempt's result is the one that counts. Returns whether it was recorded.
 */
export async function recordAttempt(
  db: Db,
  claim: Pick<ClaimedDelivery, 'id' | 'attempt' | 'webhookId'>,
  result: AttemptResult,
): Promise<boolean> {
  return db.$transaction(async (tx) => {
    const status = result.outcome === 'retry' ? 'pending' : result.outcome;
    const updated = await tx.webhookDelivery.updateMany({
      where: { id: claim.id, attempts: claim.attempt, status: 'pending' },
      data: {
        status,
        lastStatusCode: result.statusCode,
        lastError: result.error,
        ...(result.outcome === 'retry' ? { nextAttemptAt: result.retryAt ?? new Date() } : {}),
        ...(result.outcome === 'delivered' ? { deliveredAt: new Date() } : {}),
      },
    });
    await tx.webhookAttempt.create({
      data: {
        deliveryId: claim.id,
        attempt: claim.attempt,
        statusCode: result.statusCode,
        error: result.error,
        durationMs: Math.round(result.durationMs),
      },
    });
    if (updated.count === 0) {
      return false;
    }

    if (claim.webhookId !== null && result.outcome !== 'retry') {
      await tx.webhook.updateMany({
        where: { id: claim.webhookId },
        data: {
          failing: result.outcome === 'failed',
          ...(result.disable === true ? { disabled: true } : {}),
        },
      });
    }

    return true;
  });
}

/**
 * A new pending delivery with the same event, URL and job snapshot as delivery `id` (the admin's
 * resend); the old row and its attempts stay as they are. Null when there is no such delivery.
 */
export async function copyDelivery(db: DbOrTx, id: number): Promise<number | null> {
  const old = await db.webhookDelivery.findUnique({ where: { id } });
  if (!old) {
    return null;
  }

  const copy = await db.webhookDelivery.create({
    data: {
      userId: old.userId,
      webhookId: old.webhookId,
      kind: old.kind,
      jobId: old.jobId,
      event: old.event,
      url: old.url,
      snapshot: old.snapshot ?? {},
    },
  });

  return copy.id;
}
