// `import/raw` and `import/base64` carry their bytes in the payload: the gateway stores them and
// creates the task already ended, so no queue trip is needed (the worker still runs retries).
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';

import { cleanFilename } from '@convertd/api';
import type { TaskEnd } from '@convertd/db';
import { isAppError } from '@convertd/errors';

import type { Deps } from '../deps';

/** True for the operations whose payload holds the whole file. */
export function isInlineImport(operation: string): boolean {
  return operation === 'import/raw' || operation === 'import/base64';
}

/**
 * Stores the file of an inline import under `tasks/<taskId>/…` and says how the task ended, as
 * the worker would have: finished with its file, or failed with the storage's code (a file over
 * MAX_UPLOAD_BYTES is PAYLOAD_TOO_LARGE). `stored` collects the keys written, for clean-up when
 * the task is not created after all.
 */
export async function storeInlineImport(
  deps: Pick<Deps, 'storage' | 'config'>,
  taskId: string,
  operation: string,
  payload: Record<string, unknown>,
  stored: string[],
): Promise<TaskEnd> {
  const bytes = Buffer.from(
    String(payload.file),
    operation === 'import/base64' ? 'base64' : 'utf8',
  );
  const fileId = randomUUID();
  const key = `tasks/${taskId}/${fileId}`;
  stored.push(key);
  try {
    const object = await deps.storage.put(key, Readable.from([bytes]), {
      maxBytes: deps.config.maxUploadBytes,
    });
    const filename = cleanFilename(
      typeof payload.filename === 'string' ? payload.filename : '',
      'file',
    );

    return {
      status: 'finished',
      result: { files: [{ filename, size: object.size, md5: object.md5 }] },
      files: [
        {
          id: fileId,
          filename,
          storageKey: key,
          size: BigInt(object.size),
          md5: object.md5,
          contentType: null,
        },
      ],
    };
  } catch (err) {
    if (!isAppError(err) || err.code === 'INTERNAL_ERROR') {
      throw err;
    }
    return { status: 'error', code: err.code, message: err.message };
  }
}

/** Runs `create`; when it fails, the files stored for it are deleted before the error goes on. */
export async function withStored<T>(
  deps: Pick<Deps, 'storage'>,
  stored: readonly string[],
  create: () => Promise<T>,
): Promise<T> {
  try {
    return await create();
  } catch (err) {
    await deps.storage.delete(stored).catch(() => undefined);
    throw err;
  }
}
