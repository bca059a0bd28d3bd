// Tasks that need no engine and no I/O outside our storage end in the transaction that makes
// them ready, without a queue trip: an `export/url` only lists the files of its inputs.
import { randomUUID } from 'node:crypto';

import { chargeCredits } from '../account/credits';
import type { Tx } from '../client';
import type { Prisma } from '../generated/prisma/client';
import type { TaskFailure } from './types';

interface InstantTask {
  id: string;
  operation: string;
  payload: unknown;
}

interface InputFileRow {
  filename: string;
  storage_key: string;
  size: bigint;
  md5: string | null;
  content_type: string | null;
}

/**
 * Ends `task` here if it is instant: records its files and result and returns how it ended.
 * Null when it must go to a queue (not instant, or an export that zips several files).
 *
 * The export's files share the storage keys of its inputs' files (no copy); a key is removed
 * only when no task lists it any more (see delete.ts), so deleting the input keeps them. The
 * input rows are locked: an input deleted at this moment either lists its files until we commit
 * (and its deletion then sees ours) or is gone before we read it.
 */
export async function finishInstant(
  tx: Tx,
  task: InstantTask,
  /** What the task costs (CREDITS_PER_OPERATION): charged here, unless it is a sandbox task. */
  price = 0,
): Promise<'finished' | TaskFailure | null> {
  if (task.operation !== 'export/url') {
    return null;
  }

  const payload = (task.payload ?? {}) as Record<string, unknown>;
  const files = await tx.$queryRaw<InputFileRow[]>`
    SELECT f.filename, f.storage_key, f.size, f.md5, f.content_type
    FROM task_edges e JOIN task_files f ON f.task_id = e.input_task_id
    WHERE e.task_id = ${task.id}::uuid ORDER BY e.position, f.position
    FOR SHARE OF f`;
  if (isTrue(payload.archive_multiple_files) && files.length > 1) {
    return null;
  }
  if (files.length === 0) {
    return {
      status: 'error',
      code: 'NO_INPUT_FILES',
      message: 'The input tasks produced no files',
    };
  }

  const inline = isTrue(payload.inline) ? '/inline' : '';
  const ids = files.map(() => randomUUID());
  const listed = files.map((f, i) => ({
    filename: f.filename,
    size: Number(f.size),
    url: `/download/${task.id}/${ids[i]}${inline}/${encodeURIComponent(f.filename)}`,
  }));
  const result: Prisma.InputJsonObject = { files: listed };
  const credits = await chargeCredits(tx, task.id, price);
  await tx.$executeRaw`
    WITH done AS (
      UPDATE tasks SET status = 'finished', result = ${JSON.stringify(result)}::jsonb,
        credits = ${credits}, percent = 100, code = NULL, message = NULL,
        started_at = now(), ended_at = now()
      WHERE id = ${task.id}::uuid
      RETURNING id
    )
    INSERT INTO task_files (id, task_id, position, filename, storage_key, size, md5, content_type)
    SELECT f.id, (SELECT id FROM done), f.position - 1, f.filename, f.storage_key, f.size, f.md5,
      f.content_type
    FROM unnest(${ids}::uuid[], ${files.map((f) => f.filename)}::text[],
      ${files.map((f) => f.storage_key)}::text[], ${files.map((f) => String(f.size))}::bigint[],
      ${files.map((f) => f.md5)}::text[], ${files.map((f) => f.content_type)}::text[])
      WITH ORDINALITY AS f(id, filename, storage_key, size, md5, content_type, position)`;

  return 'finished';
}

/** Booleans arrive as JSON booleans or, from loosely typed clients, as "true"/"false". */
function isTrue(value: unknown): boolean {
  return value === true || value === 'true';
}
