// What the imports from and exports to other people's storage share: which remote files to read
// or write, streaming them through our storage, the task's deadline on every remote call, the
// outbound policy, and failures that name the remote problem without a secret.
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { Readable } from 'node:stream';

import { cleanFilename, splitExtension } from '@convertd/api';
import type { Prisma, StoredFile } from '@convertd/db';
import { AppError, type ErrorCode } from '@convertd/errors';
import { resolveHost } from '@convertd/outbound';

import type { OperationOutput, OperationRun } from '../index';
import { printf } from '../naming';
import { innerAppError } from './errors';

/** One remote object or file: its full name there (key, blob name or path). */
export interface RemoteFile {
  name: string;
}

/** A connected remote store; every call ends when `signal` aborts. */
export interface RemoteStore {
  /** The files whose names start with `prefix` (SFTP: the regular files in that directory). */
  list(prefix: string, signal: AbortSignal): Promise<RemoteFile[]>;
  open(name: string, signal: AbortSignal): Promise<Readable>;
  write(name: string, body: Readable, size: number, signal: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

/** A service: how to connect, and what its errors mean. */
export interface RemoteService {
  /** Named in messages: "Azure Blob Storage", "SFTP", ... */
  label: string;
  /** Payload fields: the one file, and the prefix (or directory) of many. */
  single: string;
  many: string;
  /** `many` names a directory (SFTP), not a name prefix. */
  directory?: boolean;
  connect(run: OperationRun, signal: AbortSignal): Promise<RemoteStore>;
  /** A message about the remote problem, or undefined when the error is not recognised. */
  explain(err: unknown, name: string | undefined): string | undefined;
}

type Payload = Record<string, unknown>;

export function payloadOf(run: OperationRun): Payload {
  return run.task.payload;
}

/** A string field, trimmed; undefined when absent or blank. */
export function text(payload: Payload, field: string): string | undefined {
  const value = payload[field];

  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

/** Resolves `host` and applies the outbound policy before anything connects to it. */
export async function checkHost(run: OperationRun, host: string): Promise<void> {
  await resolveHost(host, { allowPrivate: run.ctx.config.allowPrivateUrls });
}

/** Settles with `promise`, or rejects with the abort reason once `signal` aborts. */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(signal.reason as Error);
  }

  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: Error) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

/** Reads the named file, or every file under the prefix, into our storage. */
export async function runRemoteImport(
  run: OperationRun,
  service: RemoteService,
): Promise<OperationOutput> {
  const { ctx, task, signal, stored } = run;
  const payload = payloadOf(run);
  const single = text(payload, service.single);
  const many = text(payload, service.many);
  const store = await guarded(service, 'IMPORT_FAILED', undefined, signal, () =>
    service.connect(run, signal),
  );
  const files: StoredFile[] = [];
  try {
    const names =
      single === undefined
        ? (
            await guarded(service, 'IMPORT_FAILED', many, signal, () =>
              store.list(many ?? '', signal),
            )
          ).map((f) => f.name)
        : [single];
    if (names.length === 0) {
      throw new AppError('IMPORT_FAILED', {
        message: `${service.label} has no files under ${quote(many ?? '')}.`,
      });
    }

    for (const name of names) {
      const id = randomUUID();
      const key = `tasks/${task.id}/${id}`;
      const object = await guarded(service, 'IMPORT_FAILED', name, signal, async () => {
        const body = await store.open(name, signal);
        stored.push(key);
        return ctx.storage.put(key, body, { maxBytes: ctx.config.maxUploadBytes });
      });
      const asked = names.length === 1 ? text(payload, 'filename') : undefined;
      files.push({
        id,
        filename: cleanFilename(asked ?? path.posix.basename(name), 'file'),
        storageKey: key,
        size: BigInt(object.size),
        md5: object.md5,
        contentType: null,
      });
    }
  } finally {
    await store.close().catch(() => undefined);
  }

  const listed = files.map((f) => ({ filename: f.filename, size: Number(f.size), md5: f.md5 }));

  return { files, result: { files: listed } };
}

/** Writes every input file to the remote, under the names `remoteNames` gives. */
export async function runRemoteExport(
  run: OperationRun,
  service: RemoteService,
): Promise<OperationOutput> {
  const { ctx, task, signal } = run;
  if (task.inputFiles.length === 0) {
    throw new AppError('NO_INPUT_FILES');
  }

  const payload = payloadOf(run);
  let prefix = text(payload, service.many);
  if (service.directory && prefix !== undefined && !prefix.endsWith('/')) {
    prefix += '/';
  }
  const targets = remoteNames(
    task.inputFiles.map((f) => f.filename),
    text(payload, service.single),
    prefix,
  );
  const store = await guarded(service, 'EXPORT_FAILED', undefined, signal, () =>
    service.connect(run, signal),
  );
  const listed: Prisma.InputJsonObject[] = [];
  try {
    for (const [i, input] of task.inputFiles.entries()) {
      const target = targets[i]!;
      await guarded(service, 'EXPORT_FAILED', target, signal, async () => {
        const body = await ctx.storage.read(input.storageKey);
        try {
          await store.write(target, body, Number(input.size), signal);
        } finally {
          body.destroy();
        }
      });
      listed.push({ filename: input.filename, size: Number(input.size), [service.single]: target });
    }
  } finally {
    await store.close().catch(() => undefined);
  }

  return { files: [], result: { files: listed } };
}

/**
 * The remote names of the exported files: `single` as given for one file, with its printf
 * placeholders (`out-%d.pdf`) or a number before the extension for several; else `prefix` plus
 * each file's own name.
 */
export function remoteNames(
  filenames: string[],
  single: string | undefined,
  prefix: string | undefined,
): string[] {
  return filenames.map((filename, i) => {
    if (single === undefined) {
      return `${prefix ?? ''}${filename}`;
    }
    if (/%0?\d*d/.test(single)) {
      return printf(single, i + 1);
    }
    if (filenames.length === 1) {
      return single;
    }
    const [stem, ext] = splitExtension(single);
    return `${stem}-${i + 1}${ext}`;
  });
}

/** Runs one remote step under the task's signal and turns its failure into a task error. */
async function guarded<T>(
  service: RemoteService,
  code: ErrorCode,
  name: string | undefined,
  signal: AbortSignal,
  step: () => Promise<T>,
): Promise<T> {
  try {
    return await untilAborted(step(), signal);
  } catch (err) {
    if (signal.aborted) {
      throw signal.reason as Error;
    }
    const own = innerAppError(err);
    if (own) {
      throw own;
    }
    const message = service.explain(err, name) ?? `${service.label} failed to answer the request.`;
    throw new AppError(code, { message, cause: err, details: { service: service.label } });
  }
}

export function quote(name: string): string {
  return JSON.stringify(name);
}
