import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import { PassThrough, Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { AppError, isAppError } from '@convertd/errors';

import type { DownloadLink, ReadRange, Storage, StoredObject } from './storage';

export interface S3StorageOptions {
  bucket: string;
  region: string;
  endpoint?: string | undefined;
  accessKeyId?: string | undefined;
  secretAccessKey?: string | undefined;
  forcePathStyle: boolean;
}

/** Parts of a multipart upload; S3's minimum is 5 MiB. */
export const PART_SIZE = 8 * 1024 * 1024;
/** CopyObject copies at most 5 GiB in one request; larger objects are streamed through us. */
const MAX_COPY_BYTES = 5 * 1024 ** 3;
const KEY = /^[a-z0-9][a-z0-9/_-]*$/i;

/**
 * Every file in one bucket of an S3-compatible service, under the same keys as on disk, so that
 * gateways and workers on different machines share them. Uploads stream through a multipart
 * upload, which S3 makes visible only once complete.
 */
export class S3Storage implements Storage {
  private readonly client: S3Client;
  private readonly bucket: string;

  constructor(options: S3StorageOptions) {
    this.bucket = options.bucket;
    this.client = new S3Client({
      region: options.region,
      endpoint: options.endpoint,
      forcePathStyle: options.forcePathStyle,
      credentials:
        options.accessKeyId && options.secretAccessKey
          ? { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey }
          : undefined,
      // Plain checksums only when the API requires them: many S3-compatible servers reject
      // the aws-chunked trailers the SDK would otherwise send.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  /** Makes sure the bucket exists (a fresh MinIO has none). */
  async init(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch (err) {
      if (statusOf(err) !== 404) {
        throw storageError('The storage bucket cannot be reached.', err);
      }
      await this.client
        .send(new CreateBucketCommand({ Bucket: this.bucket }))
        .catch((cause: unknown) => {
          // Another gateway or worker starting at the same moment made it first.
          if ((cause as { name?: unknown } | null)?.name === 'BucketAlreadyOwnedByYou') {
            return;
          }
          throw storageError('The storage bucket does not exist and cannot be created.', cause);
        });
    }
  }

  async put(
    key: string,
    body: Readable,
    options: { maxBytes?: number } = {},
  ): Promise<StoredObject> {
    checkKey(key);
    const hash = createHash('md5');
    let size = 0;
    let refused: AppError | undefined;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        size += chunk.length;
        if (options.maxBytes !== undefined && size > options.maxBytes) {
          refused = new AppError('PAYLOAD_TOO_LARGE', {
            message: `The file is larger than ${options.maxBytes} bytes.`,
          });
          done(refused);
          return;
        }
        hash.update(chunk);
        done(null, chunk);
      },
    });
    // The SDK reads the PassThrough; an error of the source or the meter aborts the upload.
    const piped = new PassThrough();
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: key, Body: piped },
      partSize: PART_SIZE,
      queueSize: 2,
    });
    // Either side failing stops the other: an S3 error must not leave the source waiting, and
    // a source that fails (a client gone mid-upload) aborts the upload. The first failure is
    // the one to report.
    let first: { side: 'send' | 'feed'; err: unknown } | undefined;
    const sending = upload.done().catch((err: unknown) => {
      first ??= { side: 'send', err };
      piped.destroy(err instanceof Error ? err : new Error('upload failed'));
      throw err;
    });
    const feeding = pipeline(body, meter, piped).catch(async (err: unknown) => {
      first ??= { side: 'feed', err };
      await upload.abort().catch(() => undefined);
      throw err;
    });
    await Promise.allSettled([sending, feeding]);
    if (refused) {
      throw refused;
    }
    if (first?.side === 'send') {
      throw storageError('A file could not be written to storage.', first.err, key);
    }
    if (first) {
      throw first.err;
    }

    return { size, md5: hash.digest('hex') };
  }

  async putFile(key: string, file: string): Promise<StoredObject> {
    return this.put(key, createReadStream(file));
  }

  async read(key: string, range?: ReadRange): Promise<Readable> {
    checkKey(key);
    try {
      const out = await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Range: range ? `bytes=${range.start}-${range.end}` : undefined,
        }),
      );
      return out.Body as Readable;
    } catch (err) {
      throw statusOf(err) === 404
        ? storageError('A stored file is missing.', err, key)
        : storageError('A stored file could not be read.', err, key);
    }
  }

  async download(key: string, to: string): Promise<void> {
    const body = await this.read(key);
    try {
      await pipeline(body, createWriteStream(to));
    } catch (err) {
      await fs.rm(to, { force: true });
      throw storageError('A stored file could not be read.', err, key);
    }
  }

  async size(key: string): Promise<number | null> {
    checkKey(key);
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return head.ContentLength ?? null;
    } catch (err) {
      if (statusOf(err) === 404) {
        return null;
      }
      throw storageError('A stored file could not be read.', err, key);
    }
  }

  async copy(from: string, to: string): Promise<void> {
    checkKey(to);
    const size = await this.size(from);
    if (size === null) {
      throw storageError('A stored file is missing.', undefined, from);
    }
    if (size > MAX_COPY_BYTES) {
      await this.put(to, await this.read(from));
      return;
    }
    try {
      await this.client.send(
        new CopyObjectCommand({
          Bucket: this.bucket,
          Key: to,
          CopySource: `${this.bucket}/${encodeURIComponent(from).replace(/%2F/g, '/')}`,
        }),
      );
    } catch (err) {
      throw storageError('A stored file could not be copied.', err, from);
    }
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) {
      const batch = keys.slice(i, i + 1000);
      batch.forEach(checkKey);
      const out = await this.client
        .send(
          new DeleteObjectsCommand({
            Bucket: this.bucket,
            Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
          }),
        )
        .catch((err: unknown) => {
          throw storageError('Stored files could not be deleted.', err);
        });
      const failed = (out.Errors ?? []).filter((e) => e.Code !== 'NoSuchKey');
      if (failed.length > 0) {
        throw new AppError('STORAGE_ERROR', {
          message: 'Stored files could not be deleted.',
          details: { keys: failed.map((e) => e.Key), code: failed[0]?.Code },
        });
      }
    }
  }

  async ping(): Promise<boolean> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
      return true;
    } catch {
      return false;
    }
  }

  /** A URL of the bucket that serves the object for `expiresInSec`, named as the user's file. */
  async downloadUrl(key: string, link: DownloadLink): Promise<string> {
    checkKey(key);
    return getSignedUrl(
      this.client,
      new GetObjectCommand({
        Bucket: this.bucket,
        Key: key,
        ResponseContentDisposition: link.contentDisposition,
        ResponseContentType: link.contentType,
      }),
      { expiresIn: link.expiresInSec },
    );
  }

  close(): void {
    this.client.destroy();
  }
}

function checkKey(key: string): void {
  if (!KEY.test(key) || key.includes('..')) {
    throw new AppError('STORAGE_ERROR', { message: 'Invalid storage key.', details: { key } });
  }
}

function statusOf(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
}

/** The operator's problem, not the user's: details for the log, a plain message for the task. */
function storageError(message: string, cause: unknown, key?: string): AppError {
  if (isAppError(cause)) {
    return cause;
  }
  const name = (cause as { name?: unknown } | null)?.name;
  return new AppError('STORAGE_ERROR', {
    message,
    cause,
    details: { key, status: statusOf(cause), error: typeof name === 'string' ? name : undefined },
  });
}
