import { AppError } from '@convertd/errors';

import { chargeCredits } from '../account/credits';
import { sandboxRefusal } from '../account/sandbox';
import { transaction, type Db } from '../client';
import type { Prisma } from '../generated/prisma/client';
import { createTask } from './create';
import { emptyOutcome, recordEnd, refreshJob, taskChange } from './status';
import type { Outcome, PayloadSealer, Router, StoredFile } from './types';

interface ClaimedRow {
  id: string;
  job_id: string | null;
  user_id: number;
  operation: string;
  payload: Prisma.JsonValue;
  attempts: number;
}

export interface ClaimedTask {
  id: string;
  jobId: string | null;
  userId: number;
  operation: string;
  payload: Prisma.JsonObject;
  /** Fencing token: only the holder of the latest attempt may end the task. */
  attempt: number;
  /** Files of the inputs, in input order then file order. */
  inputFiles: InputFile[];
}

export type ClaimResult =
  | { kind: 'claimed'; task: ClaimedTask; outcome: Outcome }
  | { kind: 'gone' }
  | { kind: 'exhausted'; outcome: Outcome };

/**
 * Moves a queued task to `processing` for this worker. A task already `processing` is claimed
 * again only when its queue entry came back (its worker died), until `maxAttempts` is reached.
 */
export async function claimTask(
  db: Db,
  id: string,
  hostName: string,
  maxAttempts: number,
  route: Router,
  /** The engine that will run the task, shown while it runs (null for imports and exports). */
  engineOf: (task: {
    operation: string;
    payload: Prisma.JsonValue;
    inputFormat: string | null;
  }) => { name: string; version: string } | null = () => null,
): Promise<ClaimResult> {
  return transaction(db, async (tx) => {
    const out = emptyOutcome();
    const rows = await tx.$queryRaw<(ClaimedRow & { status: string })[]>`
      SELECT id, job_id, user_id, operation, payload, attempts, status FROM tasks
      WHERE id = ${id}::uuid FOR UPDATE`;
    const row = rows[0];
    if (!row || !(row.status === 'processing' || row.status === 'waiting')) {
      return { kind: 'gone' as const };
    }

    if (row.attempts >= maxAttempts) {
      await endTask(tx, row, 'error', {
        code: 'WORKER_LOST',
        message: 'The worker running this task stopped',
      });
      await recordEnd(tx, row, 'error', route, out);
      return { kind: 'exhausted' as const, outcome: out };
    }

    const inputFiles = await tx.$queryRaw<StoredFileRow[]>`
      SELECT f.id, f.filename, f.storage_key, f.size, f.md5, f.content_type,
        i.id AS input_task_id, i.name AS input_task_name
      FROM task_edges e JOIN task_files f ON f.task_id = e.input_task_id
        JOIN tasks i ON i.id = e.input_task_id
      WHERE e.task_id = ${id}::uuid
      ORDER BY e.position, f.position`;
    const first = inputFiles[0]?.filename;
    const ext = first ? (/\.([a-z0-9]{1,10})$/i.exec(first)?.[1]?.toLowerCase() ?? null) : null;
    const engine = engineOf({ operation: row.operation, payload: row.payload, inputFormat: ext });
    await tx.$executeRaw`
      UPDATE tasks SET status = 'processing', started_at = COALESCE(started_at, now()),
        host_name = ${hostName}, attempts = attempts + 1, code = NULL, message = NULL,
        engine = ${engine?.name ?? null}, engine_version = ${engine?.version ?? null}
      WHERE id = ${id}::uuid`;
    out.changes.push(taskChange(row, 'processing'));
    await refreshJob(tx, row.job_id, out);

    return {
      kind: 'claimed' as const,
      outcome: out,
      task: {
        id,
        jobId: row.job_id,
        userId: row.user_id,
        operation: row.operation,
        payload: (row.payload ?? {}) as Prisma.JsonObject,
        attempt: row.attempts + 1,
        inputFiles: inputFiles.map(fromRow),
      },
    };
  });
}

interface StoredFileRow {
  id: string;
  filename: string;
  storage_key: string;
  size: bigint;
  md5: string | null;
  content_type: string | null;
  input_task_id: string;
  input_task_name: string | null;
}

/** A file of an input task, and which task made it (its name inside a job, else its id). */
export interface InputFile extends StoredFile {
  source: string;
  sourceTaskId: string;
}

function fromRow(r: StoredFileRow): InputFile {
  return {
    source: r.input_task_name ?? r.input_task_id,
    sourceTaskId: r.input_task_id,
    id: r.id,
    filename: r.filename,
    storageKey: r.storage_key,
    size: BigInt(r.size),
    md5: r.md5,
    contentType: r.content_type,
  };
}

export interface Completion {
  result: Prisma.InputJsonObject;
  files: StoredFile[];
  engine?: string | null;
  engineVersion?: string | null;
  /** What the task costs by the credit model; charged unless it is a sandbox task. */
  credits?: number;
  message?: string | null;
}

/**
 * Records a finished task and releases its dependants in one transaction. Returns null when the
 * task is no longer this attempt's to end (cancelled, deleted, or claimed again): the caller then
 * deletes the files it stored. A sandbox import of a file not whitelisted ends in error instead,
 * its files listed in `outcome.discarded` for the caller to delete.
 */
export async function completeTask(
  db: Db,
  id: string,
  attempt: number,
  done: Completion,
  route: Router,
): Promise<Outcome | null> {
  return transaction(db, async (tx) => {
    const row = await lockOwned(tx, id, attempt);
    if (!row) {
      return null;
    }

    const out = emptyOutcome();
    const refusal = await sandboxRefusal(tx, row, done.files);
    if (refusal) {
      await endTask(tx, row, 'error', refusal);
      await recordEnd(tx, row, 'error', route, out);
      out.discarded = done.files.map((f) => f.storageKey);
      return out;
    }

    await tx.taskFile.createMany({
      data: done.files.map((f, position) => ({
        id: f.id,
        taskId: id,
        position,
        filename: f.filename,
        storageKey: f.storageKey,
        size: f.size,
        md5: f.md5,
        contentType: f.contentType,
      })),
    });
    await tx.task.update({
      where: { id },
      data: {
        status: 'finished',
        result: done.result,
        engine: done.engine ?? null,
        engineVersion: done.engineVersion ?? null,
        credits: await chargeCredits(tx, id, done.credits ?? 0),
        message: done.message ?? null,
        code: null,
        percent: 100,
        endedAt: new Date(),
      },
    });
    await recordEnd(tx, row, 'finished', route, out);

    return out;
  });
}

/** Ends a task in error (attempt null: whatever attempt holds it). Null if it already ended. */
export async function failTask(
  db: Db,
  id: string,
  attempt: number | null,
  error: {
    code: string;
    message: string;
    result?: Prisma.InputJsonObject;
    engine?: string | null;
    engineVersion?: string | null;
  },
  route: Router,
): Promise<Outcome | null> {
  return transaction(db, async (tx) => {
    const row = await lockOwned(tx, id, attempt);
    if (!row) {
      return null;
    }

    const out = emptyOutcome();
    await endTask(tx, row, 'error', error);
    await recordEnd(tx, row, 'error', route, out);

    return out;
  });
}

/** Takes an `import/upload` task for one upload: only one request can hold it at a time. */
export async function beginUpload(
  db: Db,
  id: string,
): Promise<{
  attempt: number;
  userId: number;
  payload: Prisma.JsonValue;
  outcome: Outcome;
} | null> {
  return transaction(db, async (tx) => {
    const rows = await tx.$queryRaw<(ClaimedRow & { status: string })[]>`
      UPDATE tasks SET status = 'processing', started_at = now(), attempts = attempts + 1, message = NULL
      WHERE id = ${id}::uuid AND operation = 'import/upload' AND status = 'waiting'
      RETURNING id, job_id, user_id, operation, payload, attempts, status`;
    const row = rows[0];
    if (!row) {
      return null;
    }

    const out = emptyOutcome();
    out.changes.push(taskChange(row, 'processing'));
    await refreshJob(tx, row.job_id, out);

    return { attempt: row.attempts, userId: row.user_id, payload: row.payload, outcome: out };
  });
}

/** Gives an upload task back after a failed upload, so that the client can try again. */
export async function revertUpload(
  db: Db,
  id: string,
  attempt: number,
  message: string,
): Promise<Outcome | null> {
  return transaction(db, async (tx) => {
    const row = await lockOwned(tx, id, attempt);
    if (!row) {
      return null;
    }

    const out = emptyOutcome();
    await tx.$executeRaw`
      UPDATE tasks SET status = 'waiting', started_at = NULL, message = ${message} WHERE id = ${id}::uuid`;
    out.changes.push(taskChange(row, 'waiting'));
    await refreshJob(tx, row.job_id, out);

    return out;
  });
}

/** Cancels a waiting or processing task; a worker running it is told through the outcome. */
export async function cancelTask(
  db: Db,
  id: string,
  userId: number,
  route: Router,
): Promise<Outcome> {
  const out = await failTaskOfUser(db, id, userId, route);
  if (out === 'missing') {
    throw new AppError('NOT_FOUND');
  }
  if (out === 'ended') {
    throw new AppError('INVALID_DATA', {
      errors: { status: ['Cannot change status: task already completed.'] },
    });
  }

  return out;
}

async function failTaskOfUser(
  db: Db,
  id: string,
  userId: number,
  route: Router,
): Promise<Outcome | 'missing' | 'ended'> {
  return transaction(db, async (tx) => {
    const rows = await tx.$queryRaw<(ClaimedRow & { status: string })[]>`
      SELECT id, job_id, user_id, operation, payload, attempts, status FROM tasks
      WHERE id = ${id}::uuid AND user_id = ${userId} FOR UPDATE`;
    const row = rows[0];
    if (!row) {
      return 'missing' as const;
    }
    if (row.status !== 'waiting' && row.status !== 'processing') {
      return 'ended' as const;
    }

    const out = emptyOutcome();
    await endTask(tx, row, 'error', { code: 'CANCELLED', message: 'The task has been cancelled' });
    await recordEnd(tx, row, 'error', route, out);

    return out;
  });
}

/** A retry copies the stored payload, whose secrets are sealed already. */
const COPY_SEALED: PayloadSealer = { seal: (_operation, _userId, payload) => payload };

/** Creates a new task doing the same work on the same inputs; the old one stays as it was. */
export async function retryTask(
  db: Db,
  id: string,
  newId: string,
  userId: number,
  route: Router,
  initialResult?: (operation: string) => Prisma.InputJsonObject | undefined,
): Promise<Outcome> {
  const old = await db.task.findFirst({
    where: { id, userId },
    include: { inputs: { orderBy: { position: 'asc' } } },
  });
  if (!old) {
    throw new AppError('NOT_FOUND');
  }
  if (old.status === 'waiting' || old.status === 'processing') {
    throw new AppError('INVALID_DATA', {
      errors: { status: ['Cannot retry: task has not ended yet.'] },
    });
  }

  return createTask(
    db,
    {
      id: newId,
      userId,
      name: old.name,
      jobId: old.jobId,
      operation: old.operation,
      payload: (old.payload ?? {}) as Prisma.InputJsonObject,
      inputIds: old.inputs.map((e) => e.inputTaskId),
      retryOfTaskId: old.id,
      ignoreError: old.ignoreError,
      sandbox: old.sandbox,
      priority: old.priority,
      ...(initialResult?.(old.operation) ? { result: initialResult(old.operation)! } : {}),
    },
    route,
    COPY_SEALED,
  );
}

type TxOf = Parameters<Parameters<Db['$transaction']>[0]>[0];

async function lockOwned(tx: TxOf, id: string, attempt: number | null) {
  const rows = await tx.$queryRaw<(ClaimedRow & { status: string })[]>`
    SELECT id, job_id, user_id, operation, payload, attempts, status FROM tasks
    WHERE id = ${id}::uuid FOR UPDATE`;
  const row = rows[0];
  if (!row || row.status !== 'processing' || (attempt !== null && row.attempts !== attempt)) {
    return null;
  }

  return row;
}

async function endTask(
  tx: TxOf,
  row: { id: string },
  status: 'error',
  error: {
    code: string;
    message: string;
    result?: Prisma.InputJsonObject;
    engine?: string | null;
    engineVersion?: string | null;
  },
): Promise<void> {
  await tx.task.update({
    where: { id: row.id },
    data: {
      status,
      code: error.code,
      message: error.message,
      endedAt: new Date(),
      ...(error.result === undefined ? {} : { result: error.result }),
      ...(error.engine === undefined
        ? {}
        : { engine: error.engine, engineVersion: error.engineVersion ?? null }),
    },
  });
}
