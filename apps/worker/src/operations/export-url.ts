import { randomUUID } from 'node:crypto';

import { AppError } from '@convertd/errors';

import type { OperationOutput, OperationRun } from './index';

/**
 * `export/url`: copies the input files to this task and lists a download path for each; the
 * gateway signs it each time the task is shown.
 */
export async function runExportUrl({ ctx, task, stored }: OperationRun): Promise<OperationOutput> {
  if (task.inputFiles.length === 0) {
    throw new AppError('NO_INPUT_FILES');
  }

  const payload = task.payload as Record<string, unknown>;
  const inline = payload.inline === true || payload.inline === 'true';
  const files = [];
  const listed = [];
  for (const input of task.inputFiles) {
    const id = randomUUID();
    const key = `tasks/${task.id}/${id}`;
    stored.push(key);
    await ctx.storage.copy(input.storageKey, key);
    files.push({ ...input, id, storageKey: key });
    listed.push({
      filename: input.filename,
      size: Number(input.size),
      url: `/download/${task.id}/${id}${inline ? '/inline' : ''}/${encodeURIComponent(input.filename)}`,
    });
  }

  // TODO(#3): archive_multiple_files (one zip instead of one URL per file).
  return { files, result: { files: listed }, credits: 0 };
}
