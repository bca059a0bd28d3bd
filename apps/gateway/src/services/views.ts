// Reads jobs and tasks in the shapes the serializers take.
import { extensionOf, type JobView, type TaskView } from '@convertd/api';
import type { Db, Prisma } from '@convertd/db';

const TASK_INCLUDE = {
  inputs: { select: { inputTaskId: true }, orderBy: { position: 'asc' } },
} as const satisfies Prisma.TaskInclude;

type TaskRow = Prisma.TaskGetPayload<{ include: typeof TASK_INCLUDE }>;

export function toTaskView(t: TaskRow): TaskView {
  return {
    id: t.id,
    jobId: t.jobId,
    name: t.name,
    operation: t.operation,
    status: t.status,
    code: t.code,
    message: t.message,
    percent: t.percent,
    payload: t.payload,
    result: t.result,
    engine: t.engine,
    engineVersion: t.engineVersion,
    credits: t.credits,
    priority: t.priority,
    hostName: t.hostName,
    retryOfTaskId: t.retryOfTaskId,
    copyOfTaskId: t.copyOfTaskId,
    userId: t.userId,
    createdAt: t.createdAt,
    startedAt: t.startedAt,
    endedAt: t.endedAt,
    dependsOnTaskIds: t.inputs.map((e) => e.inputTaskId),
  };
}

export async function findTasks(
  db: Db,
  where: Prisma.TaskWhereInput,
  page?: { skip: number; take: number },
): Promise<TaskView[]> {
  const rows = await db.task.findMany({
    where,
    include: TASK_INCLUDE,
    orderBy: [{ createdAt: 'desc' }, { id: 'asc' }],
    ...(page ?? {}),
  });

  return rows.map(toTaskView);
}

/**
 * The format of a standalone task's first input, as the router will see it: the extension of
 * the first file of its first input task, else of the file name that import was given. Null
 * when not known yet.
 */
export async function inputFormatOf(
  db: Db,
  inputIds: readonly string[],
  userId: number,
): Promise<string | null> {
  const first = inputIds[0];
  if (first === undefined || !isUuid(first)) {
    return null;
  }

  const row = await db.task.findFirst({
    where: { id: first, userId },
    select: {
      operation: true,
      payload: true,
      files: { select: { filename: true }, orderBy: { position: 'asc' }, take: 1 },
    },
  });
  const payload = (row?.payload ?? {}) as Record<string, unknown>;
  const name =
    row?.files[0]?.filename ??
    (row?.operation.startsWith('import/') && typeof payload.filename === 'string'
      ? payload.filename
      : null);

  return name === null ? null : extensionOf(name) || null;
}

export async function findTask(db: Db, id: string, userId: number): Promise<TaskView | null> {
  if (!isUuid(id)) {
    return null;
  }

  const row = await db.task.findFirst({ where: { id, userId }, include: TASK_INCLUDE });
  return row ? toTaskView(row) : null;
}

/** Tasks of one job, in the order they were defined. */
export async function jobTasks(db: Db, jobIds: string[]): Promise<Map<string, TaskView[]>> {
  const rows = await db.task.findMany({
    where: { jobId: { in: jobIds } },
    include: TASK_INCLUDE,
    orderBy: [{ createdAt: 'asc' }, { name: 'asc' }],
  });
  const byJob = new Map<string, TaskView[]>(jobIds.map((id) => [id, []]));
  for (const row of rows) {
    byJob.get(row.jobId!)?.push(toTaskView(row));
  }

  return byJob;
}

export async function findJob(
  db: Db,
  id: string,
  userId: number,
): Promise<{ job: JobView; tasks: TaskView[] } | null> {
  if (!isUuid(id)) {
    return null;
  }

  const job = await db.job.findFirst({ where: { id, userId } });
  if (!job) {
    return null;
  }

  const tasks = (await jobTasks(db, [id])).get(id) ?? [];
  return { job, tasks };
}

export function isUuid(id: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id);
}

export function isTerminal(status: string): boolean {
  return status === 'finished' || status === 'error';
}
