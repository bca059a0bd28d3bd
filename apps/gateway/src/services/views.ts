// Reads jobs and tasks in the shapes the serializers take.
import { extensionOf, type JobView, type TaskView } from '@convertd/api';
import { Prisma, type Db } from '@convertd/db';

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

/** One task of the user: one statement (sync waiters and uploads read this). */
export async function findTask(db: Db, id: string, userId: number): Promise<TaskView | null> {
  if (!isUuid(id)) {
    return null;
  }

  const rows = await db.$queryRaw<(TaskColumns & { id: string; job_id: string | null })[]>`
    SELECT t.id, t.job_id::text AS job_id, ${TASK_COLUMNS}
    FROM tasks t WHERE t.id = ${id}::uuid AND t.user_id = ${userId}`;
  const row = rows[0];
  return row ? taskViewOf(row, row.id, row.job_id, userId) : null;
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

/**
 * A job and its tasks in the order they were defined: one statement (every sync waiter and every
 * job creation reads this), without Prisma's query building.
 */
export async function findJob(
  db: Db,
  id: string,
  userId: number,
): Promise<{ job: JobView; tasks: TaskView[] } | null> {
  if (!isUuid(id)) {
    return null;
  }

  const rows = await db.$queryRaw<JobTaskRow[]>`
    SELECT j.tag AS job_tag, j.status::text AS job_status, j.created_at AS job_created_at,
      j.started_at AS job_started_at, j.ended_at AS job_ended_at,
      t.id, ${TASK_COLUMNS}
    FROM jobs j LEFT JOIN tasks t ON t.job_id = j.id
    WHERE j.id = ${id}::uuid AND j.user_id = ${userId}
    ORDER BY t.created_at ASC, t.name ASC`;
  const first = rows[0];
  if (!first) {
    return null;
  }

  const job: JobView = {
    id,
    tag: first.job_tag,
    status: first.job_status,
    createdAt: first.job_created_at,
    startedAt: first.job_started_at,
    endedAt: first.job_ended_at,
  };
  const tasks = rows
    .filter((r): r is JobTaskRow & { id: string } => r.id !== null)
    .map((r) => taskViewOf(r, r.id, id, userId));

  return { job, tasks };
}

/** The columns of a task that findJob and findTask read besides its ids (table alias `t`). */
const TASK_COLUMNS = Prisma.sql`t.name, t.operation, t.status::text AS status, t.code, t.message,
  t.percent, t.payload, t.result, t.engine, t.engine_version, t.credits, t.priority, t.host_name,
  t.retry_of_task_id::text AS retry_of_task_id, t.copy_of_task_id::text AS copy_of_task_id,
  t.created_at, t.started_at, t.ended_at,
  ARRAY(SELECT e.input_task_id::text FROM task_edges e WHERE e.task_id = t.id
    ORDER BY e.position) AS depends_on`;

interface TaskColumns {
  name: string | null;
  operation: string;
  status: string;
  code: string | null;
  message: string | null;
  percent: number;
  payload: unknown;
  result: unknown;
  engine: string | null;
  engine_version: string | null;
  credits: number | null;
  priority: number;
  host_name: string | null;
  retry_of_task_id: string | null;
  copy_of_task_id: string | null;
  created_at: Date;
  started_at: Date | null;
  ended_at: Date | null;
  depends_on: string[];
}

/** A row of findJob: the job's columns, and one task's (all null for a job without tasks). */
interface JobTaskRow extends TaskColumns {
  job_tag: string | null;
  job_status: string;
  job_created_at: Date;
  job_started_at: Date | null;
  job_ended_at: Date | null;
  id: string | null;
}

function taskViewOf(r: TaskColumns, id: string, jobId: string | null, userId: number): TaskView {
  return {
    id,
    jobId,
    name: r.name,
    operation: r.operation,
    status: r.status,
    code: r.code,
    message: r.message,
    percent: r.percent,
    payload: r.payload,
    result: r.result,
    engine: r.engine,
    engineVersion: r.engine_version,
    credits: r.credits,
    priority: r.priority,
    hostName: r.host_name,
    retryOfTaskId: r.retry_of_task_id,
    copyOfTaskId: r.copy_of_task_id,
    userId,
    createdAt: r.created_at,
    startedAt: r.started_at,
    endedAt: r.ended_at,
    dependsOnTaskIds: r.depends_on,
  };
}

export function isUuid(id: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id);
}

export function isTerminal(status: string): boolean {
  return status === 'finished' || status === 'error';
}
