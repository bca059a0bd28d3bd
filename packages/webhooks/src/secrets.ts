// Which secret signs a delivery. An account webhook's own; for a job's `webhook_url`, the
// secret of the user's newest webhook, or, for a user without webhooks, a per-user default
// secret kept in `settings` (shown by `pnpm cli webhooks secret --email E`).
import { getOrCreateSetting, type Db } from '@convertd/db';

import { newSigningSecret } from './signature';

export type SecretChoice = { secret: string } | { refused: string };

export async function secretFor(
  db: Db,
  delivery: { kind: 'account' | 'job'; webhookId: string | null; userId: number },
): Promise<SecretChoice> {
  if (delivery.kind === 'account') {
    const hook =
      delivery.webhookId === null
        ? null
        : await db.webhook.findUnique({ where: { id: delivery.webhookId } });
    if (!hook) {
      return { refused: 'The webhook was deleted.' };
    }
    if (hook.disabled) {
      return { refused: 'The webhook is disabled.' };
    }

    return { secret: hook.signingSecret };
  }

  const newest = await db.webhook.findFirst({
    where: { userId: delivery.userId },
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    select: { signingSecret: true },
  });

  return { secret: newest?.signingSecret ?? (await defaultSecret(db, delivery.userId)) };
}

/** The user's default secret for job webhook_url deliveries, created on first use. */
export function defaultSecret(db: Db, userId: number): Promise<string> {
  return getOrCreateSetting(db, `webhook_secret:user:${userId}`, newSigningSecret);
}
