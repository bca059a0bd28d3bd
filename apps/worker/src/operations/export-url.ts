import { randomUUID } from 'node:crypto';

import { cleanFilename } from '@convertd/api';
import type { InputFile, StoredFile } from '@convertd/db';
import { archiveEntryNames, zipStream } from '@convertd/engines';
import { AppError } from '@convertd/errors';

import type { OperationOutput, OperationRun } from './index';

/**
 * `export/url`: copies the input files to this task and lists a download path for each; the
 * gateway signs it each time the task is shown. With `archive_multiple_files` and several files,
 * one zip of them all is stored and listed instead.
 */
export async function runExportUrl(run: OperationRun): Promise<OperationOutput> {
  const { ctx, task, stored } = run;
  if (task.inputFiles.length === 0) {
    throw new AppError('NO_INPUT_FILES');
  }

  const payload = task.payload as Record<string, unknown>;
  const inline = isTrue(payload.inline);
  const files: StoredFile[] = [];
  if (isTrue(payload.archive_multiple_files) && task.inputFiles.length > 1) {
    files.push(await storeZip(run, payload.filename));
  } else {
    for (const input of task.inputFiles) {
      const id = randomUUID();
      const key = `tasks/${task.id}/${id}`;
      stored.push(key);
      await ctx.storage.copy(input.storageKey, key);
      files.push({ ...input, id, storageKey: key });
    }
  }

  const listed = files.map((file) => ({
    filename: file.filename,
    size: Number(file.size),
    url: `/download/${task.id}/${file.id}${inline ? '/inline' : ''}/${encodeURIComponent(file.filename)}`,
  }));

  return { files, result: { files: listed } };
}

/** Every input file streamed from storage into one zip in storage; nothing touches the disk. */
async function storeZip(
  { ctx, task, stored, signal }: OperationRun,
  asked: unknown,
): Promise<StoredFile> {
  signal.throwIfAborted();
  const inputs: InputFile[] = task.inputFiles;
  const names = archiveEntryNames(inputs.map((input) => input.filename));
  const zip = zipStream(
    inputs.map((input, i) => ({
      name: names[i]!,
      size: Number(input.size),
      open: () => ctx.storage.read(input.storageKey),
    })),
  );
  // The runner aborts with the reason to report (a timeout or a cancel); storage.put rejects with it.
  const stop = (): void => {
    zip.destroy(signal.reason instanceof Error ? signal.reason : new AppError('ENGINE_CANCELLED'));
  };
  signal.addEventListener('abort', stop, { once: true });
  const id = randomUUID();
  const key = `tasks/${task.id}/${id}`;
  stored.push(key);
  try {
    const object = await ctx.storage.put(key, zip);
    const filename =
      typeof asked === 'string' && asked.trim() !== '' ? cleanFilename(asked) : 'archive.zip';

    return {
      id,
      filename,
      storageKey: key,
      size: BigInt(object.size),
      md5: object.md5,
      contentType: 'application/zip',
    };
  } finally {
    signal.removeEventListener('abort', stop);
  }
}

/** Booleans arrive as JSON booleans or, from loosely typed clients, as "true"/"false". */
function isTrue(value: unknown): boolean {
  return value === true || value === 'true';
}
