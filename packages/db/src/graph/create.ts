import { AppError } from '@convertd/errors';

import { transaction, type Db, type Tx } from '../client';
import type { Prisma } from '../generated/prisma/client';
import {
  emptyOutcome,
  refreshJob,
  releaseIfReady,
  settleDependants,
  taskChange,
  type TaskRow,
} from './status';
import type { Outcome, Router, TaskEnd, TaskSpec } from './types';

export interface CreateJobInput {
  id: string;
  userId: number;
  tag: string | null;
  webhookUrl: string | null;
  sandbox: boolean;
  tasks: TaskSpec[];
}

/**
 * Writes a whole job graph in one transaction and queues the tasks that have no inputs. The graph
 * must already be validated (names resolve, no cycles): see the api package. Tasks created
 * ended (stored imports) release their dependants at once.
 */
export async function createJob(db: Db, input: CreateJobInput, route: Router): Promise<Outcome> {
  const ids = new Map(input.tasks.map((t) => [t.name, t.id]));

  // Readers list a job's tasks by `created_at`: 1 ms apart keeps them in the order of definition.
  const createdAt = Date.now();

  return transaction(db, async (tx) => {
    const out = emptyOutcome();
    await tx.job.create({
      data: {
        id: input.id,
        createdAt: new Date(createdAt),
        userId: input.userId,
        tag: input.tag,
        webhookUrl: input.webhookUrl,
        sandbox: input.sandbox,
      },
    });
    await tx.task.createMany({
      data: input.tasks.map((t, index) => ({
        id: t.id,
        userId: input.userId,
        jobId: input.id,
        createdAt: new Date(createdAt + index),
        name: t.name,
        operation: t.operation,
        payload: t.payload,
        ignoreError: t.ignoreError,
        priority: t.priority ?? 0,
        ...(t.result ? { result: t.result } : {}),
        ...(t.ended ? endedColumns(t.ended, createdAt) : { message: waitingMessage(t.operation) }),
      })),
    });
    await createEndedFiles(tx, input.tasks);
    await tx.taskEdge.createMany({
      data: input.tasks.flatMap((t) =>
        t.inputs.map((name, position) => ({ taskId: t.id, inputTaskId: ids.get(name)!, position })),
      ),
    });

    out.changes.push({
      kind: 'job',
      id: input.id,
      jobId: input.id,
      userId: input.userId,
      status: 'waiting',
      event: 'created',
    });
    const rows = input.tasks.map((t) => taskRow(t, input.userId, input.id));
    for (const row of rows) {
      out.changes.push({ ...taskChange(row, 'waiting'), event: 'created' });
    }
    for (const [index, t] of input.tasks.entries()) {
      if (t.ended) {
        out.changes.push(taskChange(rows[index]!, t.ended.status));
        await settleDependants(tx, t.id, route, out);
      } else if (t.inputs.length === 0) {
        await releaseIfReady(tx, rows[index]!, route, out);
      }
    }
    await refreshJob(tx, input.id, out);

    return out;
  });
}

export interface CreateTaskInput {
  id: string;
  userId: number;
  name: string | null;
  operation: string;
  payload: Prisma.InputJsonObject;
  inputIds: string[];
  retryOfTaskId?: string | null;
  jobId?: string | null;
  ignoreError?: boolean;
  priority?: number;
  result?: Prisma.InputJsonObject;
  /** Set when the task is created already ended (an import whose bytes are stored). */
  ended?: TaskEnd;
}

/**
 * Creates one task outside a job (or a retry inside one). Its inputs are task ids of the same
 * user; they are locked while their status is read, so an input that ends at this moment either
 * sees our edge or we see its end: the task cannot be left waiting forever.
 */
export async function createTask(db: Db, input: CreateTaskInput, route: Router): Promise<Outcome> {
  return transaction(db, async (tx) => {
    const out = emptyOutcome();
    if (input.inputIds.length > 0) {
      const found = await tx.$queryRaw<{ id: string }[]>`
        SELECT id FROM tasks
        WHERE id = ANY(${input.inputIds}::uuid[]) AND user_id = ${input.userId}
        ORDER BY id FOR SHARE`;
      if (found.length !== new Set(input.inputIds).size) {
        throw new AppError('INVALID_DATA', { errors: { input: ['Invalid input task.'] } });
      }
    }

    await tx.task.create({
      data: {
        id: input.id,
        userId: input.userId,
        jobId: input.jobId ?? null,
        name: input.name,
        operation: input.operation,
        payload: input.payload,
        retryOfTaskId: input.retryOfTaskId ?? null,
        copyOfTaskId: input.retryOfTaskId ?? null,
        ignoreError: input.ignoreError ?? false,
        priority: input.priority ?? 0,
        ...(input.result ? { result: input.result } : {}),
        ...(input.ended
          ? endedColumns(input.ended, Date.now())
          : { message: waitingMessage(input.operation) }),
      },
    });
    await createEndedFiles(tx, [input]);
    await tx.taskEdge.createMany({
      data: [...new Set(input.inputIds)].map((inputTaskId, position) => ({
        taskId: input.id,
        inputTaskId,
        position,
      })),
    });

    const row: TaskRow = {
      id: input.id,
      job_id: input.jobId ?? null,
      user_id: input.userId,
      status: 'waiting',
      ignore_error: input.ignoreError ?? false,
      operation: input.operation,
      payload: input.payload,
    };
    out.changes.push({ ...taskChange(row, 'waiting'), event: 'created' });
    if (input.ended) {
      // A new task has no dependants yet: nothing else to settle.
      out.changes.push(taskChange(row, input.ended.status));
    } else {
      await releaseIfReady(tx, row, route, out);
    }
    await refreshJob(tx, row.job_id, out);

    return out;
  });
}

function taskRow(t: TaskSpec, userId: number, jobId: string): TaskRow {
  return {
    id: t.id,
    job_id: jobId,
    user_id: userId,
    status: 'waiting',
    ignore_error: t.ignoreError,
    operation: t.operation,
    payload: t.payload,
  };
}

/** The columns of a task created ended, as completeTask and failTask would have written them. */
function endedColumns(ended: TaskEnd, at: number) {
  const times = { startedAt: new Date(at), endedAt: new Date(at) };
  return ended.status === 'finished'
    ? { ...times, status: 'finished' as const, result: ended.result, credits: 0, message: null }
    : { ...times, status: 'error' as const, code: ended.code, message: ended.message };
}

async function createEndedFiles(
  tx: Tx,
  tasks: readonly { id: string; ended?: TaskEnd | undefined }[],
): Promise<void> {
  const data = tasks.flatMap((t) =>
    t.ended?.status === 'finished'
      ? t.ended.files.map((f, position) => ({
          id: f.id,
          taskId: t.id,
          position,
          filename: f.filename,
          storageKey: f.storageKey,
          size: f.size,
          md5: f.md5,
          contentType: f.contentType,
        }))
      : [],
  );
  if (data.length > 0) {
    await tx.taskFile.createMany({ data });
  }
}

/** What a new task says while it waits (CloudConvert's wording for uploads). */
function waitingMessage(operation: string): string | null {
  return operation === 'import/upload' ? 'Waiting for file upload' : null;
}
