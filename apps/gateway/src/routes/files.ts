// The two routes that work without Authorization, on signed URLs: the upload form of an
// `import/upload` task, and the downloads of `export/url` results.
import { randomUUID } from 'node:crypto';

import { cleanFilename, creditsFor, isHttpUrl, serializeTask } from '@convertd/api';
import { beginUpload, completeTask, revertUpload } from '@convertd/db';
import { AppError, isAppError } from '@convertd/errors';
import { holdUploadLease } from '@convertd/queue';
import { verifyPath } from '@convertd/storage';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import type { Deps } from '../deps';
import { applyOutcome } from '../services/effects';
import { findTask, isUuid } from '../services/views';
import { parseUpload } from '../upload/multipart';
import { contentDisposition, contentTypeOf, parseRange } from '../upload/http-file';
import { queryOf, sendData } from './common';
import type { RouteContext } from './context';

/** A presigned bucket URL is followed at once; it need not outlive that. */
const PRESIGNED_TTL_SEC = 900;

type UploadRequest = FastifyRequest<{ Params: { taskId: string } }>;
type DownloadRequest = FastifyRequest<{ Params: { taskId: string; fileId: string; name: string } }>;

export function registerFileRoutes(app: FastifyInstance, deps: Deps, ctx: RouteContext): void {
  const upload = async (request: UploadRequest, reply: FastifyReply) => {
    const { taskId } = request.params;
    const query = queryOf(request);
    if (
      !isUuid(taskId) ||
      !verifyPath(deps.urlSecret, `/upload/${taskId}`, query.expires, query.signature)
    ) {
      throw new AppError('INVALID_SIGNATURE');
    }

    const claim = await beginUpload(deps.db, taskId);
    if (!claim) {
      throw new AppError('CONFLICT', { message: 'This task is not waiting for an upload.' });
    }
    // While held, the sweep knows this upload is alive; if this process dies, the lease lapses
    // and the task goes back to waiting.
    const lease = holdUploadLease(deps.redis, deps.config.queuePrefix, taskId);
    await applyOutcome(deps, claim.outcome);

    const fileId = randomUUID();
    const key = `tasks/${taskId}/${fileId}`;
    const started = Date.now();
    // requestTimeout is off for the sync API's sake; a stalled upload must still end.
    request.raw.setTimeout(deps.config.uploadIdleMs, () => request.raw.destroy());
    try {
      const parsed = await parseUpload(request.raw, request.headers['content-type'], {
        maxFileBytes: deps.config.maxUploadBytes,
        onFile: (file) =>
          deps.storage.put(key, file.stream, { maxBytes: deps.config.maxUploadBytes }),
      });
      const stored = parsed.fileResult;
      const filename = cleanFilename(parsed.file.filename);
      const outcome = await completeTask(
        deps.db,
        taskId,
        claim.attempt,
        {
          result: { files: [{ filename, size: stored.size, md5: stored.md5 }] },
          files: [
            {
              id: fileId,
              filename,
              storageKey: key,
              size: BigInt(stored.size),
              md5: stored.md5,
              contentType: mediaType(parsed.file?.contentType),
            },
          ],
          credits: creditsFor(deps.config.credits, 'import/upload', Date.now() - started),
        },
        deps.route,
      );
      if (!outcome) {
        // Cancelled or deleted while the bytes were arriving.
        await deps.storage.delete([key]);
        throw new AppError('CONFLICT', { message: 'The task was cancelled during the upload.' });
      }
      await applyOutcome(deps, outcome);
    } catch (err) {
      await deps.storage.delete([key]).catch(() => undefined);
      const message = isAppError(err) ? err.message : 'The upload failed.';
      const reverted = await revertUpload(deps.db, taskId, claim.attempt, message).catch(
        () => null,
      );
      if (reverted) {
        await applyOutcome(deps, reverted);
      }
      // Whatever is left of the body is not ours to read; close the connection after answering.
      reply.header('connection', 'close');
      throw err;
    } finally {
      request.raw.setTimeout(0);
      await lease.release();
    }

    // A browser form upload asked to land somewhere afterwards (`redirect` of import/upload).
    const redirect = (claim.payload as { redirect?: unknown } | null)?.redirect;
    if (typeof redirect === 'string' && isHttpUrl(redirect)) {
      return reply.code(303).header('location', redirect).send();
    }

    const task = await findTask(deps.db, taskId, claim.userId);
    return sendData(reply, 201, serializeTask(task!, ctx.urls(request)));
  };
  // The handler reads the raw body itself, whatever its type: no parser may buffer (or misjudge
  // as bad JSON) a body whose signature has not been checked yet.
  void app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));
    scope.post('/upload/:taskId', upload);
  });

  const download = async (request: DownloadRequest, reply: FastifyReply, inline: boolean) => {
    const { taskId, fileId } = request.params;
    const query = queryOf(request);
    const signed = `/download/${taskId}/${fileId}${inline ? '/inline' : ''}`;
    if (
      !isUuid(taskId) ||
      !isUuid(fileId) ||
      !verifyPath(deps.urlSecret, signed, query.expires, query.signature)
    ) {
      throw new AppError('INVALID_SIGNATURE');
    }

    const [file] = await deps.db.$queryRaw<
      {
        filename: string;
        storageKey: string;
        size: bigint;
        md5: string | null;
        contentType: string | null;
      }[]
    >`SELECT filename, storage_key AS "storageKey", size, md5, content_type AS "contentType"
      FROM task_files WHERE id = ${fileId}::uuid AND task_id = ${taskId}::uuid`;
    if (!file) {
      throw new AppError('NOT_FOUND', { message: 'The file does not exist (any more).' });
    }

    const type =
      file.contentType && file.contentType !== 'application/octet-stream'
        ? file.contentType
        : contentTypeOf(file.filename);
    const disposition = contentDisposition(inline ? 'inline' : 'attachment', file.filename);
    // S3_PRESIGNED_DOWNLOADS: the bytes come from the bucket; the URL handed out stays ours.
    if (request.method === 'GET' && deps.config.s3.presignedDownloads && deps.storage.downloadUrl) {
      const location = await deps.storage.downloadUrl(file.storageKey, {
        contentDisposition: disposition,
        contentType: type,
        expiresInSec: PRESIGNED_TTL_SEC,
      });
      return reply
        .code(302)
        .header('cache-control', 'no-store')
        .header('location', location)
        .send();
    }

    const size = Number(file.size);
    const range = parseRange(request.headers.range, size);
    if (range === 'unsatisfiable') {
      reply.header('content-range', `bytes */${size}`);
      throw new AppError('BAD_REQUEST', {
        statusCode: 416,
        message: 'The requested range is not satisfiable.',
      });
    }

    reply
      .header('content-type', type)
      .header('content-disposition', disposition)
      .header('accept-ranges', 'bytes')
      .header('x-content-type-options', 'nosniff')
      // User files are served from our origin: never let one run script there.
      .header('content-security-policy', "sandbox; default-src 'none'")
      .header('cache-control', 'private, max-age=3600');
    if (file.md5) {
      reply.header('etag', `"${file.md5}"`);
    }
    if (range) {
      reply
        .code(206)
        .header('content-range', `bytes ${range.start}-${range.end}/${size}`)
        .header('content-length', range.end - range.start + 1);
    } else {
      reply.code(200).header('content-length', size);
    }
    if (request.method === 'HEAD') {
      return reply.send();
    }

    return reply.send(await deps.storage.read(file.storageKey, range ?? undefined));
  };

  // HEAD before GET: Fastify's implicit HEAD route would announce Content-Length: 0.
  for (const method of ['HEAD', 'GET'] as const) {
    app.route({
      method,
      url: '/download/:taskId/:fileId/:name',
      handler: (request: DownloadRequest, reply) => download(request, reply, false),
    });
    app.route({
      method,
      url: '/download/:taskId/:fileId/inline/:name',
      handler: (request: DownloadRequest, reply) => download(request, reply, true),
    });
  }
}

/** A part's Content-Type, kept only when it can be sent back as a header as it is. */
function mediaType(value: string | undefined): string | null {
  return value !== undefined && /^[\w.+-]+\/[\w.+-]+(\s*;[\x20-\x7e]*)?$/.test(value)
    ? value
    : null;
}
