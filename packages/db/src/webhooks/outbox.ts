// The webhook outbox: rows written in the transaction that changed a job, so an event is never
// lost and never sent for a change that rolled back. Dispatchers deliver them (packages/webhooks).
// TODO(#6): deliveries and their attempts are kept as long as jobs are (forever, for now); prune
// them with the expiry of old jobs.
import type { Tx } from '../client';
import type { Prisma } from '../generated/prisma/client';

export const WEBHOOK_EVENTS = ['job.created', 'job.finished', 'job.failed'] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

/** Events a job's own `webhook_url` receives. */
const JOB_URL_EVENTS: ReadonlySet<WebhookEvent> = new Set(['job.finished', 'job.failed']);

/** A task as it was at the event, in the fields the serializer reads; dates as ISO strings. */
export interface TaskSnapshot {
  id: string;
  jobId: string | null;
  name: string | null;
  operation: string;
  status: string;
  code: string | null;
  message: string | null;
  percent: number;
  result: unknown;
  engine: string | null;
  engineVersion: string | null;
  credits: number | null;
  priority: number;
  hostName: string | null;
  retryOfTaskId: string | null;
  copyOfTaskId: string | null;
  userId: number;
  createdAt: string;
  startedAt: string | null;
  endedAt: string | null;
  dependsOnTaskIds: string[];
}

/** The job with its tasks when the event happened: the body is serialized from it at send time. */
export interface JobSnapshot {
  job: {
    id: string;
    tag: string | null;
    status: string;
    createdAt: string;
    startedAt: string | null;
    endedAt: string | null;
  };
  tasks: TaskSnapshot[];
}

/**
 * Writes one pending delivery of `event` for every account webhook of the job's user subscribed
 * to it, and for the job's `webhook_url` (finished and failed only). Call it inside the
 * transaction that made the change; it costs two small reads when nobody listens.
 */
export async function enqueueWebhooks(tx: Tx, jobId: string, event: WebhookEvent): Promise<void> {
  const job = await tx.job.findUnique({ where: { id: jobId } });
  if (!job) {
    return;
  }

  const hooks = await tx.webhook.findMany({
    where: { userId: job.userId, disabled: false, events: { has: event } },
    select: { id: true, url: true },
    orderBy: { createdAt: 'asc' },
  });
  const targets: { webhookId: string | null; kind: 'account' | 'job'; url: string }[] = hooks.map(
    (h) => ({ webhookId: h.id, kind: 'account', url: h.url }),
  );
  if (job.webhookUrl && JOB_URL_EVENTS.has(event)) {
    targets.push({ webhookId: null, kind: 'job', url: job.webhookUrl });
  }
  if (targets.length === 0) {
    return;
  }

  const tasks = await tx.task.findMany({
    where: { jobId },
    include: { inputs: { select: { inputTaskId: true }, orderBy: { position: 'asc' } } },
    orderBy: [{ createdAt: 'asc' }, { name: 'asc' }],
  });
  const snapshot: JobSnapshot = {
    job: {
      id: job.id,
      tag: job.tag,
      status: job.status,
      createdAt: job.createdAt.toISOString(),
      startedAt: iso(job.startedAt),
      endedAt: iso(job.endedAt),
    },
    tasks: tasks.map((t) => ({
      id: t.id,
      jobId: t.jobId,
      name: t.name,
      operation: t.operation,
      status: t.status,
      code: t.code,
      message: t.message,
      percent: t.percent,
      result: t.result,
      engine: t.engine,
      engineVersion: t.engineVersion,
      credits: t.credits,
      priority: t.priority,
      hostName: t.hostName,
      retryOfTaskId: t.retryOfTaskId,
      copyOfTaskId: t.copyOfTaskId,
      userId: t.userId,
      createdAt: t.createdAt.toISOString(),
      startedAt: iso(t.startedAt),
      endedAt: iso(t.endedAt),
      dependsOnTaskIds: t.inputs.map((e) => e.inputTaskId),
    })),
  };
  await tx.webhookDelivery.createMany({
    data: targets.map((target) => ({
      userId: job.userId,
      webhookId: target.webhookId,
      kind: target.kind,
      jobId,
      event,
      url: target.url,
      snapshot: snapshot as unknown as Prisma.InputJsonObject,
    })),
  });
}

function iso(date: Date | null): string | null {
  return date === null ? null : date.toISOString();
}
