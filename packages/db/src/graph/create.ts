import { AppError } from '@convertd/errors';

import { chargeCredits } from '../account/credits';
import { sandboxFileRefusal } from '../account/sandbox';
import { transaction, type Db, type Tx } from '../client';
import type { Prisma } from '../generated/prisma/client';
import { enqueueWebhooks } from '../webhooks/outbox';
import {
  emptyOutcome,
  refreshJob,
  releaseIfReady,
  settleDependantsOf,
  taskChange,
  type TaskRow,
} from './status';
import { endedColumns as endedRow, insertGraph, waitingMessage } from './insert';
import type { Outcome, PayloadSealer, Router, TaskEnd, TaskSpec } from './types';

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
 * ended (stored imports) release their dependants at once. Secret fields of the payloads are
 * sealed here, so no writer can store them in the clear.
 */
export async function createJob(
  db: Db,
  input: CreateJobInput,
  route: Router,
  sealer: PayloadSealer,
): Promise<Outcome> {
  // TODO(#4): an import/raw -> export/url job still takes ~11 statements here at ~0.3 ms of
  // Prisma CPU each; 500 jobs/s on 2 cores needs the new graph settled in memory before the one
  // insert (docs/performance.md, "Orchestration after the instant tasks").
  // Readers list a job's tasks by `created_at`: 1 ms apart keeps them in the order of definition.
  const createdAt = Date.now();
  const sealedTasks = input.tasks.map((t) => ({
    ...t,
    payload: sealed(sealer, t.operation, input.userId, t.payload),
  }));

  return transaction(db, async (tx) => {
    const out = emptyOutcome();
    const tasks = await refuseUnlistedFiles(tx, { ...input, tasks: sealedTasks }, out);
    await insertGraph(tx, { ...input, tasks, createdAt });
    await chargeEnded(tx, tasks, route);
    // Before any task is released: the job as created, even if it ends in this transaction.
    await enqueueWebhooks(tx, input.id, 'job.created');

    out.changes.push({
      kind: 'job',
      id: input.id,
      jobId: input.id,
      userId: input.userId,
      status: 'waiting',
      event: 'created',
    });
    const rows = tasks.map((t) => taskRow(t, input.userId, input.id));
    for (const row of rows) {
      out.changes.push({ ...taskChange(row, 'waiting'), event: 'created' });
    }
    for (const [index, t] of tasks.entries()) {
      if (t.ended) {
        out.changes.push(taskChange(rows[index]!, t.ended.status));
        await settleDependantsOf(tx, { ...rows[index]!, status: t.ended.status }, route, out);
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
  /** Created with a sandbox key (a retry keeps its original's). */
  sandbox?: boolean;
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
export async function createTask(
  db: Db,
  input: CreateTaskInput,
  route: Router,
  sealer: PayloadSealer,
): Promise<Outcome> {
  const payload = sealed(sealer, input.operation, input.userId, input.payload);

  return transaction(db, async (tx) => {
    const out = emptyOutcome();
    const [task] = await refuseUnlistedFiles(
      tx,
      { userId: input.userId, sandbox: input.sandbox ?? false, tasks: [input] },
      out,
    );
    input = task!;
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
        payload,
        retryOfTaskId: input.retryOfTaskId ?? null,
        copyOfTaskId: input.retryOfTaskId ?? null,
        ignoreError: input.ignoreError ?? false,
        sandbox: input.sandbox ?? false,
        priority: input.priority ?? 0,
        ...(input.result ? { result: input.result } : {}),
        ...(input.ended
          ? endedColumns(input.ended, Date.now())
          : { message: waitingMessage(input.operation) }),
      },
    });
    await createEndedFiles(tx, input);
    await chargeEnded(tx, [input], route);
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
      payload,
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

/**
 * A sandbox task created ended with files (an inline import) whose md5 is not on the user's
 * whitelist ends in error instead, as `completeTask` would end it; its stored files are listed
 * in `out.discarded` for the caller to delete.
 */
async function refuseUnlistedFiles<T extends { operation: string; ended?: TaskEnd | undefined }>(
  tx: Tx,
  input: { userId: number; sandbox: boolean; tasks: T[] },
  out: Outcome,
): Promise<T[]> {
  if (!input.sandbox) {
    return input.tasks;
  }
  const tasks: T[] = [];
  for (const t of input.tasks) {
    const refusal =
      t.ended?.status === 'finished'
        ? await sandboxFileRefusal(tx, input.userId, t.operation, t.ended.files)
        : null;
    if (refusal && t.ended?.status === 'finished') {
      (out.discarded ??= []).push(...t.ended.files.map((f) => f.storageKey));
      tasks.push({ ...t, ended: { status: 'error', ...refusal } });
    } else {
      tasks.push(t);
    }
  }
  return tasks;
}

/**
 * Charges the tasks created finished (inline imports) what the operator's credit model says
 * they cost, as completeTask charges a worker's; nothing by default, nothing for sandbox tasks.
 */
async function chargeEnded(
  tx: Tx,
  tasks: { id: string; operation: string; ended?: TaskEnd | undefined }[],
  route: Router,
): Promise<void> {
  for (const t of tasks) {
    const price = t.ended?.status === 'finished' ? (route.creditsOf?.(t.operation) ?? 0) : 0;
    const credits = await chargeCredits(tx, t.id, price);
    if (credits > 0) {
      await tx.$executeRaw`UPDATE tasks SET credits = ${credits} WHERE id = ${t.id}::uuid`;
    }
  }
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

function sealed(
  sealer: PayloadSealer,
  operation: string,
  userId: number,
  payload: Prisma.InputJsonObject,
): Prisma.InputJsonObject {
  return sealer.seal(operation, userId, payload) as Prisma.InputJsonObject;
}

/** insert.ts's columns of a task created ended, as Prisma fields. */
function endedColumns(ended: TaskEnd, at: number) {
  const row = endedRow(ended, at);
  return {
    status: ended.status,
    startedAt: new Date(row.started_at),
    endedAt: new Date(row.ended_at),
    message: row.message,
    ...(ended.status === 'finished'
      ? { result: ended.result, credits: 0 }
      : { code: ended.code, ...(ended.result ? { result: ended.result } : {}) }),
  };
}

async function createEndedFiles(tx: Tx, task: { id: string; ended?: TaskEnd | undefined }) {
  const data =
    task.ended?.status === 'finished'
      ? task.ended.files.map((f, position) => ({
          id: f.id,
          taskId: task.id,
          position,
          filename: f.filename,
          storageKey: f.storageKey,
          size: f.size,
          md5: f.md5,
          contentType: f.contentType,
        }))
      : [];
  if (data.length > 0) {
    await tx.taskFile.createMany({ data });
  }
}
