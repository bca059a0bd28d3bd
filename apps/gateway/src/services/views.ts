// Reads jobs and tasks in the shapes the serializers take.
import type { JobView, TaskView } from '@convertd/api';
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
