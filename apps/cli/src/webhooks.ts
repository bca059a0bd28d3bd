// `pnpm cli webhooks ...`: the operator's view of the webhook outbox.
import { createLogger, type Config } from '@convertd/config';
import { copyDelivery, type Db, type Prisma } from '@convertd/db';
import { defaultSecret, WebhookDispatcher } from '@convertd/webhooks';

import { UsageError } from './account';

const STATUSES = new Set(['pending', 'delivered', 'failed']);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** One line per delivery, newest first: id, time, event, job, status, attempts, last answer. */
export async function listDeliveries(
  db: Db,
  filters: { email?: string; job?: string; status?: string; limit?: number },
): Promise<void> {
  const where: Prisma.WebhookDeliveryWhereInput = {};
  if (filters.email) {
    const user = await db.user.findUnique({ where: { email: filters.email } });
    if (!user) {
      throw new UsageError(`no user with email ${filters.email}`);
    }
    where.userId = user.id;
  }
  if (filters.job) {
    if (!UUID.test(filters.job)) {
      throw new UsageError(`--job must be a job id (a UUID), got "${filters.job}"`);
    }
    where.jobId = filters.job;
  }
  if (filters.status) {
    if (!STATUSES.has(filters.status)) {
      throw new UsageError(`--status must be one of ${[...STATUSES].join(', ')}`);
    }
    where.status = filters.status as 'pending' | 'delivered' | 'failed';
  }

  const rows = await db.webhookDelivery.findMany({
    where,
    orderBy: { id: 'desc' },
    take: filters.limit ?? 100,
  });
  console.log('id\tcreated\tevent\tjob\tkind\turl\tstatus\tattempts\tlast_attempt\tcode\terror');
  for (const d of rows) {
    console.log(
      [
        d.id,
        d.createdAt.toISOString(),
        d.event,
        d.jobId,
        d.kind,
        d.url,
        d.status,
        d.attempts,
        d.lastAttemptAt?.toISOString() ?? '-',
        d.lastStatusCode ?? '-',
        d.lastError ?? '-',
      ].join('\t'),
    );
  }
}

/**
 * Queues a copy of delivery `id` (same event, URL and job snapshot) and sends it at once; if that
 * attempt fails, the dispatchers retry the copy as usual.
 */
export async function resendDelivery(db: Db, config: Config, rawId: string): Promise<void> {
  const id = Number(rawId);
  if (!Number.isSafeInteger(id) || id < 1) {
    throw new UsageError(`DELIVERY_ID must be a delivery id, got "${rawId}"`);
  }

  const copy = await copyDelivery(db, id);
  if (copy === null) {
    throw new UsageError(`no delivery with id ${id}`);
  }

  const dispatcher = new WebhookDispatcher(db, config, createLogger('cli', 'silent'));
  await dispatcher.deliverDue([copy]);
  const row = await db.webhookDelivery.findUniqueOrThrow({ where: { id: copy } });
  const answer = row.lastStatusCode === null ? '' : ` (HTTP ${row.lastStatusCode})`;
  console.log(
    `delivery ${id} re-sent as delivery ${copy}: ${row.status}${answer}${row.lastError ? `: ${row.lastError}` : ''}`,
  );
}

/** The secret that signs a user's job webhook_url deliveries when the user has no webhook. */
export async function printDefaultSecret(db: Db, email: string): Promise<void> {
  const user = await db.user.findUnique({ where: { email } });
  if (!user) {
    throw new UsageError(`no user with email ${email}`);
  }

  console.log(await defaultSecret(db, user.id));
}
