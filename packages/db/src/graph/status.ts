// Shared steps of every transaction that changes a task: the job's status, and the release or
// failure of the dependants of a task that just ended.
import type { Tx } from '../client';
import { finishInstant } from './instant';
import { enqueueWebhooks } from '../webhooks/outbox';
import type { Change, JobStatusName, Outcome, Router } from './types';

const INPUT_FAILED_MESSAGE = 'Input task has failed';

interface TaskRow {
  id: string;
  job_id: string | null;
  user_id: number;
  status: JobStatusName;
  ignore_error: boolean;
  operation: string;
  payload: unknown;
}

/**
 * Called in the transaction that ended task `taskId`: fails the dependants it leaves without an
 * input, and queues those whose inputs are now all done. Dependants are locked first, so two
 * inputs ending at once cannot both release the same task.
 */
export async function settleDependants(
  tx: Tx,
  taskId: string,
  route: Router,
  out: Outcome,
): Promise<void> {
  const ended = await tx.$queryRaw<TaskRow[]>`
    SELECT id, job_id, user_id, status, ignore_error, operation, payload FROM tasks WHERE id = ${taskId}::uuid`;
  const task = ended[0];
  if (task) {
    await settleDependantsOf(tx, task, route, out);
  }
}

/** settleDependants for a task whose row (as it is now in this transaction) the caller has. */
export async function settleDependantsOf(
  tx: Tx,
  task: Pick<TaskRow, 'id' | 'status' | 'ignore_error'>,
  route: Router,
  out: Outcome,
): Promise<void> {
  const taskId = task.id;
  const failedHard = task.status === 'error' && !task.ignore_error;
  const dependants = await tx.$queryRaw<TaskRow[]>`
    SELECT t.id, t.job_id, t.user_id, t.status, t.ignore_error, t.operation, t.payload
    FROM tasks t JOIN task_edges e ON e.task_id = t.id
    WHERE e.input_task_id = ${taskId}::uuid AND t.status = 'waiting' AND t.queued_at IS NULL
    ORDER BY t.id
    FOR UPDATE OF t`;

  for (const dependant of dependants) {
    if (failedHard) {
      await failWaiting(tx, dependant, 'INPUT_TASK_FAILED', INPUT_FAILED_MESSAGE, route, out);
      continue;
    }

    await releaseIfReady(tx, dependant, route, out);
  }
}

/** Queues `task` if every input has ended well (or failed with ignore_error). */
export async function releaseIfReady(
  tx: Tx,
  task: TaskRow,
  route: Router,
  out: Outcome,
): Promise<void> {
  const inputs = await tx.$queryRaw<{ status: JobStatusName; ignore_error: boolean }[]>`
    SELECT i.status, i.ignore_error FROM task_edges e JOIN tasks i ON i.id = e.input_task_id
    WHERE e.task_id = ${task.id}::uuid`;
  if (inputs.some((i) => i.status === 'error' && !i.ignore_error)) {
    await failWaiting(tx, task, 'INPUT_TASK_FAILED', INPUT_FAILED_MESSAGE, route, out);
    return;
  }
  if (!inputs.every((i) => i.status === 'finished' || i.status === 'error')) {
    return;
  }
  const instant = await finishInstant(tx, task, route.creditsOf?.(task.operation) ?? 0);
  if (instant === 'finished') {
    out.changes.push(taskChange(task, 'finished'));
    await settleDependantsOf(tx, { ...task, status: 'finished' }, route, out);
    return;
  }
  if (instant !== null) {
    await failWaiting(tx, task, instant.code, instant.message, route, out);
    return;
  }

  const files = await tx.$queryRaw<{ filename: string }[]>`
    SELECT f.filename FROM task_edges e JOIN task_files f ON f.task_id = e.input_task_id
    WHERE e.task_id = ${task.id}::uuid ORDER BY e.position, f.position LIMIT 1000`;
  const [first] = files;
  const queue = route({
    id: task.id,
    operation: task.operation,
    payload: task.payload as never,
    inputFormat: first ? formatOf(first.filename) : null,
    inputFormats: files.map((f) => formatOf(f.filename) ?? ''),
  });
  if (queue === null) {
    return;
  }
  if (typeof queue !== 'string') {
    await failWaiting(tx, task, queue.code, queue.message, route, out);
    return;
  }

  await tx.$executeRaw`UPDATE tasks SET queue = ${queue}, queued_at = now() WHERE id = ${task.id}::uuid`;
  out.ready.push({ id: task.id, queue });
}

async function failWaiting(
  tx: Tx,
  task: TaskRow,
  code: string,
  message: string,
  route: Router,
  out: Outcome,
): Promise<void> {
  await tx.$executeRaw`
    UPDATE tasks SET status = 'error', code = ${code}, message = ${message}, ended_at = now()
    WHERE id = ${task.id}::uuid`;
  out.changes.push(taskChange(task, 'error'));
  await settleDependants(tx, task.id, route, out);
}

/** The common tail of every transaction that ends a task: its event, its dependants, its job. */
export async function recordEnd(
  tx: Tx,
  task: { id: string; job_id: string | null; user_id: number },
  status: 'finished' | 'error',
  route: Router,
  out: Outcome,
): Promise<void> {
  out.changes.push(taskChange(task, status));
  if (status === 'finished') {
    // ignore_error only matters for a failed input: no need to read the row back.
    await settleDependantsOf(tx, { id: task.id, status, ignore_error: false }, route, out);
  } else {
    await settleDependants(tx, task.id, route, out);
  }
  await refreshJob(tx, task.job_id, out);
}

export function taskChange(
  task: { id: string; job_id: string | null; user_id: number },
  status: JobStatusName,
): Change {
  return {
    kind: 'task',
    id: task.id,
    jobId: task.job_id,
    userId: task.user_id,
    status,
    event: status === 'finished' ? 'finished' : status === 'error' ? 'failed' : 'updated',
  };
}

/**
 * Derives the job's status from its current tasks (a task replaced by a retry no longer counts):
 * `error` as soon as a task without ignore_error failed, `finished` when all ended, `processing`
 * once anything started, else `waiting`.
 */
export async function refreshJob(tx: Tx, jobId: string | null, out: Outcome): Promise<void> {
  if (jobId === null) {
    return;
  }

  const jobs = await tx.$queryRaw<{ id: string; user_id: number; status: JobStatusName }[]>`
    SELECT id, user_id, status FROM jobs WHERE id = ${jobId}::uuid FOR UPDATE`;
  const job = jobs[0];
  if (!job) {
    return;
  }

  const tasks = await tx.$queryRaw<{ status: JobStatusName; ignore_error: boolean }[]>`
    SELECT t.status, t.ignore_error FROM tasks t
    WHERE t.job_id = ${jobId}::uuid
      AND NOT EXISTS (SELECT 1 FROM tasks r WHERE r.retry_of_task_id = t.id)`;
  const status = jobStatus(tasks);
  if (status === job.status) {
    return;
  }

  const terminal = status === 'finished' || status === 'error';
  await tx.$executeRaw`
    UPDATE jobs SET status = ${status}::"JobStatus",
      started_at = CASE WHEN ${status} <> 'waiting' THEN COALESCE(started_at, now()) ELSE started_at END,
      ended_at = CASE WHEN ${terminal} THEN now() ELSE NULL END
    WHERE id = ${jobId}::uuid`;
  out.changes.push({
    kind: 'job',
    id: jobId,
    jobId,
    userId: job.user_id,
    status,
    event: status === 'finished' ? 'finished' : status === 'error' ? 'failed' : 'updated',
  });
  if (terminal) {
    await enqueueWebhooks(tx, jobId, status === 'finished' ? 'job.finished' : 'job.failed');
  }
}

export function jobStatus(
  tasks: { status: JobStatusName; ignore_error: boolean }[],
): JobStatusName {
  if (tasks.some((t) => t.status === 'error' && !t.ignore_error)) {
    return 'error';
  }
  if (tasks.every((t) => t.status === 'finished' || t.status === 'error')) {
    return 'finished';
  }
  if (tasks.some((t) => t.status !== 'waiting')) {
    return 'processing';
  }

  return 'waiting';
}

export function emptyOutcome(): Outcome {
  return { changes: [], ready: [] };
}

export type { TaskRow };

/** The lower-case extension of a file name (what routing calls its format), or null. */
function formatOf(filename: string): string | null {
  const dot = filename.lastIndexOf('.');
  const ext = dot > 0 ? filename.slice(dot + 1).toLowerCase() : '';
  return /^[a-z0-9]{1,10}$/.test(ext) ? ext : null;
}
