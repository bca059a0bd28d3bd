// `export/s3`: every input file streamed from storage into the bucket, in parts when large.
import type { PutObjectCommandInput } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { contentTypeOf, s3Acl } from '@convertd/api';
import type { InputFile } from '@convertd/db';
import { AppError } from '@convertd/errors';

import type { OperationOutput, OperationRun } from '../index';
import { openTaskS3, s3Failure, type TaskS3 } from './client';
import { objectKeys } from './keys';

/** Files above this go up in parts of this size (S3's smallest part). */
export const EXPORT_PART_SIZE = 5 * 1024 * 1024;

type Payload = Record<string, unknown>;

export async function runExportS3(run: OperationRun): Promise<OperationOutput> {
  const { ctx, task } = run;
  if (task.inputFiles.length === 0) {
    throw new AppError('NO_INPUT_FILES');
  }
  const payload = task.payload as Payload;
  const keys = objectKeys(
    { key: payload.key, keyPrefix: payload.key_prefix },
    task.inputFiles.map((f) => f.filename),
  );
  const s3 = await openTaskS3(payload, {
    allowPrivate: ctx.config.allowPrivateUrls,
    direction: 'export',
  });
  try {
    const listed = [];
    for (const [i, file] of task.inputFiles.entries()) {
      await upload(run, s3, file, keys[i]!);
      listed.push({ filename: file.filename, size: Number(file.size), key: keys[i]! });
    }

    // The files went to the bucket: the task itself keeps none.
    return { files: [], result: { files: listed } };
  } finally {
    s3.close();
  }
}

async function upload(run: OperationRun, s3: TaskS3, file: InputFile, key: string): Promise<void> {
  const { ctx, task, signal } = run;
  const payload = task.payload as Payload;
  const at = { direction: 'export' as const, bucket: s3.bucket, host: s3.host, key, signal };
  const body = await ctx.storage.read(file.storageKey);
  const params: PutObjectCommandInput = {
    Bucket: s3.bucket,
    Key: key,
    Body: body,
    ContentType:
      file.contentType && file.contentType !== 'application/octet-stream'
        ? file.contentType
        : contentTypeOf(file.filename),
    ACL: s3Acl(payload.acl) as PutObjectCommandInput['ACL'],
    CacheControl: text(payload.cache_control),
    ServerSideEncryption: text(
      payload.server_side_encryption,
    ) as PutObjectCommandInput['ServerSideEncryption'],
    Metadata: strings(payload.metadata),
    Tagging: tagging(payload.tagging),
  };
  const transfer = new Upload({
    client: s3.client,
    params,
    partSize: EXPORT_PART_SIZE,
    queueSize: 2,
  });
  // The deadline or a cancel stops the transfer and aborts a multipart upload at the bucket.
  const stop = (): void => {
    void transfer.abort().catch(() => undefined);
  };
  signal.addEventListener('abort', stop, { once: true });
  try {
    await transfer.done();
  } catch (err) {
    body.destroy();
    throw s3Failure(err, at);
  } finally {
    signal.removeEventListener('abort', stop);
  }
  signal.throwIfAborted();
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** `metadata` as S3 wants it: string values (numbers and booleans as written). */
function strings(value: unknown): Record<string, string> | undefined {
  if (value === null || typeof value !== 'object') {
    return undefined;
  }
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, String(v)]));
}

/** `tagging` as the x-amz-tagging header wants it: `k1=v1&k2=v2`, URL-encoded. */
function tagging(value: unknown): string | undefined {
  const tags = strings(value);
  return tags && Object.keys(tags).length > 0 ? new URLSearchParams(tags).toString() : undefined;
}
