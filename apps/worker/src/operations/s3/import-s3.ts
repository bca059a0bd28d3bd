// `import/s3`: one object (`key`) or every object under `key_prefix`, streamed into storage.
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { Readable } from 'node:stream';

import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { cleanFilename } from '@convertd/api';
import type { StoredFile } from '@convertd/db';
import { AppError } from '@convertd/errors';

import type { OperationOutput, OperationRun } from '../index';
import { openTaskS3, s3Failure, type TaskS3 } from './client';

/** What buckets say of objects stored without a type: no better than none. */
const GENERIC = new Set(['binary/octet-stream', 'application/octet-stream']);
const MEDIA_TYPE = /^[\w.+-]+\/[\w.+-]+(\s*;[\x20-\x7e]*)?$/;

/** Objects one prefix import may bring in. */
export const MAX_PREFIX_OBJECTS = 1000;

export async function runImportS3(run: OperationRun): Promise<OperationOutput> {
  const { ctx, task, signal } = run;
  const payload = task.payload as Record<string, unknown>;
  const s3 = await openTaskS3(payload, {
    allowPrivate: ctx.config.allowPrivateUrls,
    direction: 'import',
  });
  try {
    const single = typeof payload.key === 'string' && payload.key !== '';
    const keys = single ? [String(payload.key)] : await listKeys(s3, payload, signal);
    const files: StoredFile[] = [];
    for (const key of keys) {
      const asked = single && typeof payload.filename === 'string' ? payload.filename : '';
      files.push(await importObject(run, s3, key, asked || path.posix.basename(key)));
    }

    return {
      files,
      result: {
        files: files.map((f) => ({ filename: f.filename, size: Number(f.size), md5: f.md5 })),
      },
    };
  } finally {
    s3.close();
  }
}

/** Every object under the prefix, in the bucket's (lexicographic) order; folders skipped. */
async function listKeys(
  s3: TaskS3,
  payload: Record<string, unknown>,
  signal: AbortSignal,
): Promise<string[]> {
  const prefix = typeof payload.key_prefix === 'string' ? payload.key_prefix : '';
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.client
      .send(
        new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: prefix, ContinuationToken: token }),
        { abortSignal: signal },
      )
      .catch((err: unknown) => {
        throw s3Failure(err, { direction: 'import', bucket: s3.bucket, host: s3.host, signal });
      });
    for (const object of page.Contents ?? []) {
      if (object.Key && !object.Key.endsWith('/')) {
        keys.push(object.Key);
      }
    }
    if (keys.length > MAX_PREFIX_OBJECTS) {
      throw new AppError('IMPORT_FAILED', {
        message: `More than ${MAX_PREFIX_OBJECTS} objects start with the key prefix; import fewer at once.`,
      });
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  if (keys.length === 0) {
    throw new AppError('IMPORT_FAILED', {
      message: `No object of the bucket ${s3.bucket} starts with the key prefix "${prefix}".`,
    });
  }

  return keys;
}

async function importObject(
  { ctx, task, signal, stored }: OperationRun,
  s3: TaskS3,
  key: string,
  filename: string,
): Promise<StoredFile> {
  const at = { direction: 'import' as const, bucket: s3.bucket, host: s3.host, key, signal };
  const object = await s3.client
    .send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }), { abortSignal: signal })
    .catch((err: unknown) => {
      throw s3Failure(err, at);
    });
  const body = object.Body as Readable;
  const max = ctx.config.maxUploadBytes;
  if (object.ContentLength !== undefined && object.ContentLength > max) {
    body.destroy();
    throw new AppError('PAYLOAD_TOO_LARGE', {
      message: `The object ${key} is larger than the limit of ${max} bytes.`,
    });
  }
  const id = randomUUID();
  const storageKey = `tasks/${task.id}/${id}`;
  stored.push(storageKey);
  const saved = await ctx.storage.put(storageKey, body, { maxBytes: max }).catch((err: unknown) => {
    throw s3Failure(err, at);
  });
  // Kept only when it can be sent back as a header as it is (downloads of export/url).
  const type = object.ContentType;
  const contentType = type && !GENERIC.has(type) && MEDIA_TYPE.test(type) ? type : null;

  return {
    id,
    filename: cleanFilename(filename, 'file'),
    storageKey,
    size: BigInt(saved.size),
    md5: saved.md5,
    contentType,
  };
}
