import { AppError } from '@convertd/errors';

import { transaction, type Db } from '../client';
import type { Prisma } from '../generated/prisma/client';
import { emptyOutcome, refreshJob, releaseIfReady, taskChange, type TaskRow } from './status';
import type { Outcome, PayloadSealer, Router, TaskSpec } from './types';

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
 * must already be validated (names resolve, no cycles): see the api package. Secret fields of the
 * payloads are sealed here, so no writer can store them in the clear.
 */
export async function createJob(
  db: Db,
  input: CreateJobInput,
  route: Router,
  sealer: PayloadSealer,
): Promise<Outcome> {
  const ids = new Map(input.tasks.map((t) => [t.name, t.id]));
  const tasks = input.tasks.map((t) => ({
    ...t,
    payload: sealed(sealer, t.operation, input.userId, t.payload),
  }));

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
      data: tasks.map((t, index) => ({
        id: t.id,
        userId: input.userId,
        jobId: input.id,
        createdAt: new Date(createdAt + index),
        name: t.name,
        operation: t.operation,
        payload: t.payload,
        ignoreError: t.ignoreError,
        priority: t.priority ?? 0,
        message: waitingMessage(t.operation),
        ...(t.result ? { result: t.result } : {}),
      })),
    });
    await tx.taskEdge.createMany({
      data: tasks.flatMap((t) =>
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
    for (const t of tasks) {
      const row = taskRow(t, input.userId, input.id);
      out.changes.push({ ...taskChange(row, 'waiting'), event: 'created' });
      if (t.inputs.length === 0) {
        await releaseIfReady(tx, row, route, out);
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
        priority: input.priority ?? 0,
        message: waitingMessage(input.operation),
        ...(input.result ? { result: input.result } : {}),
      },
    });
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
    await releaseIfReady(tx, row, route, out);
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

function sealed(
  sealer: PayloadSealer,
  operation: string,
  userId: number,
  payload: Prisma.InputJsonObject,
): Prisma.InputJsonObject {
  return sealer.seal(operation, userId, payload) as Prisma.InputJsonObject;
}

/** What a new task says while it waits (CloudConvert's wording for uploads). */
function waitingMessage(operation: string): string | null {
  return operation === 'import/upload' ? 'Waiting for file upload' : null;
}
