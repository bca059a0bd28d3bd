import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';

import { AppError } from '@convertd/errors';
import { openUrl } from '@convertd/outbound';

import { cleanFilename } from '@convertd/api';
import type { OperationOutput, OperationRun } from './index';

/** `import/url`, `import/base64` and `import/raw`: one file into storage. */
export async function runImport({
  ctx,
  task,
  signal,
  stored,
}: OperationRun): Promise<OperationOutput> {
  const payload = task.payload as Record<string, unknown>;
  const fileId = randomUUID();
  const key = `tasks/${task.id}/${fileId}`;
  let body: Readable;
  let filename: string | undefined =
    typeof payload.filename === 'string' ? payload.filename : undefined;
  let contentType: string | null = null;

  switch (task.operation) {
    case 'import/url': {
      const remote = await openUrl(String(payload.url), {
        allowPrivate: ctx.config.allowPrivateUrls,
        headers: (payload.headers ?? {}) as Record<string, string>,
        maxBytes: ctx.config.maxUploadBytes,
        signal,
      });
      body = remote.body;
      filename ??= remote.filename;
      contentType = remote.contentType ?? null;
      break;
    }
    case 'import/base64':
      body = Readable.from([Buffer.from(String(payload.file), 'base64')]);
      break;
    case 'import/raw':
      body = Readable.from([Buffer.from(String(payload.file), 'utf8')]);
      break;
    default:
      throw new AppError('INVALID_DATA', { message: `Not an import: ${task.operation}` });
  }

  stored.push(key);
  const object = await ctx.storage.put(key, body, { maxBytes: ctx.config.maxUploadBytes });
  const name = cleanFilename(filename ?? '', 'file');

  return {
    files: [
      {
        id: fileId,
        filename: name,
        storageKey: key,
        size: BigInt(object.size),
        md5: object.md5,
        contentType,
      },
    ],
    result: { files: [{ filename: name, size: object.size, md5: object.md5 }] },
  };
}
