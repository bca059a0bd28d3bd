// The rows of a new job graph, written by one statement: job, tasks, edges and the files of
// tasks created ended. One round trip instead of four Prisma queries (docs/performance.md).
import type { Tx } from '../client';
import type { TaskEnd, TaskSpec } from './types';

export interface GraphRows {
  id: string;
  userId: number;
  tag: string | null;
  webhookUrl: string | null;
  sandbox: boolean;
  tasks: TaskSpec[];
  /** Task i is created at `createdAt + i` ms: readers list a job's tasks in definition order. */
  createdAt: number;
}

export async function insertGraph(tx: Tx, job: GraphRows): Promise<void> {
  const ids = new Map(job.tasks.map((t) => [t.name, t.id]));
  const tasks = job.tasks.map((t, index) => ({
    id: t.id,
    created_at: new Date(job.createdAt + index).toISOString(),
    name: t.name,
    operation: t.operation,
    payload: t.payload,
    ignore_error: t.ignoreError,
    priority: t.priority ?? 0,
    ...(t.result ? { result: t.result } : {}),
    ...(t.ended
      ? endedColumns(t.ended, job.createdAt)
      : { status: 'waiting', message: waitingMessage(t.operation) }),
  }));
  const edges = job.tasks.flatMap((t) =>
    t.inputs.map((name, position) => ({ task_id: t.id, input_task_id: ids.get(name)!, position })),
  );
  const files = job.tasks.flatMap((t) =>
    t.ended?.status === 'finished'
      ? t.ended.files.map((f, position) => ({
          id: f.id,
          task_id: t.id,
          position,
          filename: f.filename,
          storage_key: f.storageKey,
          size: String(f.size),
          md5: f.md5,
          content_type: f.contentType,
        }))
      : [],
  );

  await tx.$executeRaw`
    WITH job AS (
      INSERT INTO jobs (id, user_id, tag, webhook_url, sandbox, created_at)
      VALUES (${job.id}::uuid, ${job.userId}, ${job.tag}, ${job.webhookUrl}, ${job.sandbox},
        ${new Date(job.createdAt).toISOString()}::timestamptz)
    ), task AS (
      INSERT INTO tasks (id, user_id, job_id, created_at, name, operation, payload, ignore_error,
        sandbox, priority, result, status, code, message, credits, started_at, ended_at)
      SELECT t.id, ${job.userId}, ${job.id}::uuid, t.created_at, t.name, t.operation, t.payload,
        t.ignore_error, ${job.sandbox}, t.priority, t.result, t.status::"TaskStatus", t.code, t.message, t.credits,
        t.started_at, t.ended_at
      FROM jsonb_to_recordset(${JSON.stringify(tasks)}::jsonb) AS t(id uuid,
        created_at timestamptz, name text, operation text, payload jsonb, ignore_error boolean,
        priority int, result jsonb, status text, code text, message text, credits int,
        started_at timestamptz, ended_at timestamptz)
    ), edge AS (
      INSERT INTO task_edges (task_id, input_task_id, position)
      SELECT e.task_id, e.input_task_id, e.position
      FROM jsonb_to_recordset(${JSON.stringify(edges)}::jsonb)
        AS e(task_id uuid, input_task_id uuid, position int)
    )
    INSERT INTO task_files (id, task_id, position, filename, storage_key, size, md5, content_type)
    SELECT f.id, f.task_id, f.position, f.filename, f.storage_key, f.size, f.md5, f.content_type
    FROM jsonb_to_recordset(${JSON.stringify(files)}::jsonb) AS f(id uuid, task_id uuid,
      position int, filename text, storage_key text, size bigint, md5 text, content_type text)`;
}

/** The columns of a task created ended, as completeTask and failTask would have written them. */
export function endedColumns(ended: TaskEnd, at: number) {
  const times = { started_at: new Date(at).toISOString(), ended_at: new Date(at).toISOString() };
  return ended.status === 'finished'
    ? { ...times, status: 'finished', result: ended.result, credits: 0, message: null }
    : {
        ...times,
        status: 'error',
        code: ended.code,
        message: ended.message,
        ...(ended.result ? { result: ended.result } : {}),
      };
}

/** What a new task says while it waits (CloudConvert's wording for uploads). */
export function waitingMessage(operation: string): string | null {
  return operation === 'import/upload' ? 'Waiting for file upload' : null;
}
