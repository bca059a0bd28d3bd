import { randomUUID } from 'node:crypto';

import { isProcessingOperation, parseJob } from '@convertd/api';
import { createJob, type Prisma } from '@convertd/db';
import { AppError } from '@convertd/errors';
import { webhookUrlError } from '@convertd/webhooks';

import type { Deps } from '../deps';
import { requireCredits, type Principal } from '../plugins/auth';
import { applyOutcome } from './effects';
import { checkEnginesServed } from './engines';
import { isInlineImport, storeInlineImport, withStored } from './imports';
import { uploadResult } from './urls';

/**
 * Validates a job body as `POST /v2/jobs` does, writes the job and queues its first tasks (also
 * used by signed URLs): 402 when the balance is used up, 422 for a bad body or `webhook_url`.
 * Imports that carry their bytes are stored first and created ended. `deprecated`: some task
 * runs on an engine version the operator deprecated.
 */
export async function submitJob(
  deps: Deps,
  user: Pick<Principal, 'userId' | 'sandbox' | 'credits'>,
  body: unknown,
): Promise<{ jobId: string; deprecated: boolean }> {
  requireCredits(user);
  const input = parseJob(body);
  const hookError =
    input.webhookUrl === null
      ? null
      : webhookUrlError(input.webhookUrl, deps.config.allowPrivateUrls);
  if (hookError !== null) {
    throw new AppError('INVALID_DATA', { errors: { webhook_url: [hookError] } });
  }
  const check = await checkEnginesServed(
    deps,
    input.tasks
      .filter((t) => isProcessingOperation(t.operation))
      .map((t) => ({
        at: `tasks.${t.name}`,
        payload: t.payload,
        operation: t.operation,
        inputFormat: t.inputFormat,
      })),
  );
  const jobId = randomUUID();
  const stored: string[] = [];
  const outcome = await withStored(deps, stored, async () => {
    const tasks = await Promise.all(
      input.tasks.map(async (t) => {
        const id = randomUUID();
        const payload = t.payload as Prisma.InputJsonObject;
        return {
          ...t,
          id,
          payload,
          ...(t.operation === 'import/upload' ? { result: uploadResult(id) } : {}),
          ...(isInlineImport(t.operation)
            ? { ended: await storeInlineImport(deps, id, t.operation, payload, stored) }
            : {}),
        };
      }),
    );
    return createJob(
      deps.db,
      {
        id: jobId,
        userId: user.userId,
        tag: input.tag,
        webhookUrl: input.webhookUrl,
        sandbox: user.sandbox,
        tasks,
      },
      deps.route,
      deps.cipher,
    );
  });
  await applyOutcome(deps, outcome);

  return { jobId, deprecated: check.deprecated };
}
