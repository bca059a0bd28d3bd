import { randomUUID } from 'node:crypto';

import { isProcessingOperation, parseJob } from '@convertd/api';
import { createJob, type Prisma } from '@convertd/db';

import type { Deps } from '../deps';
import { applyOutcome } from './effects';
import { checkEnginesServed } from './engines';
import { uploadResult } from './urls';

/**
 * Validates a job body as `POST /v2/jobs` does, writes the job and queues its first tasks (also
 * used by signed URLs). `deprecated`: some task runs on an engine version the operator deprecated.
 */
export async function submitJob(
  deps: Deps,
  user: { userId: number; sandbox: boolean },
  body: unknown,
): Promise<{ jobId: string; deprecated: boolean }> {
  const input = parseJob(body);
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
  const tasks = input.tasks.map((t) => {
    const id = randomUUID();
    return {
      ...t,
      id,
      payload: t.payload as Prisma.InputJsonObject,
      ...(t.operation === 'import/upload' ? { result: uploadResult(id) } : {}),
    };
  });
  const outcome = await createJob(
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
  await applyOutcome(deps, outcome);

  return { jobId, deprecated: check.deprecated };
}
