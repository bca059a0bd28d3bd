// `GET /s/{signing key id}?job=…[&cache_key=…]&s=…` (API.md §6): no Authorization; the signature
// says which user's job to run. Answers 302 to the first export/url file once the job ends.
import { createHash } from 'node:crypto';

import { parseJob, serializeJob } from '@convertd/api';
import { findCachedSignedJobs, findSigningKey, recordSignedJob, signingKeyAad } from '@convertd/db';
import { AppError, CODES } from '@convertd/errors';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import type { Deps } from '../deps';
import { clientOrigin } from '../plugins/origin';
import { countRequest } from '../plugins/rate-limit';
import {
  decodeJobParam,
  hasValidSignature,
  parseJobJson,
  parseSignedRequest,
} from '../services/signed-url';
import { submitJob } from '../services/submit-job';
import { findJob, isTerminal, isUuid } from '../services/views';
import { firstExportUrl } from './jobs';
import type { RouteContext } from './context';

export function registerSignedUrlRoutes(app: FastifyInstance, deps: Deps, ctx: RouteContext): void {
  // No HEAD twin: a link checker's HEAD would start (and charge) a conversion.
  app.get('/s/:id', { exposeHeadRoute: false }, async (request, reply) => {
    const signed = parseSignedRequest(request.url);
    const key = signed && isUuid(signed.keyId) ? await findSigningKey(deps.db, signed.keyId) : null;
    if (!signed || !key) {
      throw new AppError('INVALID_SIGNATURE');
    }
    const secret = deps.cipher.openText(key.secret, signingKeyAad(key.id));
    const origins = [deps.config.publicUrl, clientOrigin(request, deps.config)].filter(
      (o): o is string => o !== undefined,
    );
    if (!hasValidSignature(signed, secret, origins)) {
      throw new AppError('INVALID_SIGNATURE');
    }
    // Every GET without a reusable cache_key runs a job: they count like API calls, per key.
    await countRequest(deps, reply, `${deps.config.queuePrefix}:ratelimit:signed:${key.id}`);
    if (signed.job === null) {
      throw new AppError('INVALID_DATA', { errors: { job: ['The job parameter is required.'] } });
    }

    if (signed.cacheKey?.includes('\u0000')) {
      throw new AppError('INVALID_DATA', {
        errors: { cache_key: ['The cache_key must not contain NUL characters.'] },
      });
    }

    const json = decodeJobParam(signed.job);
    const body = parseJobJson(json);
    const operations = parseJob(body).tasks.map((t) => t.operation);
    if (!operations.includes('export/url')) {
      throw new AppError('INVALID_DATA', {
        errors: { tasks: ['A signed URL job needs an export/url task.'] },
      });
    }
    // Nobody could upload to it (its form is only shown to the API), so the request would wait
    // until the client gave up, and the job forever.
    if (operations.includes('import/upload')) {
      throw new AppError('INVALID_DATA', {
        errors: { tasks: ['A signed URL job cannot wait for an import/upload.'] },
      });
    }
    const jobHash = createHash('sha256').update(json).digest('hex');
    if (signed.cacheKey !== null) {
      const cached = await reusableResult(deps, request, ctx, {
        signingKeyId: key.id,
        userId: key.userId,
        cacheKey: signed.cacheKey,
        jobHash,
      });
      if (cached) {
        return reply.code(302).header('location', cached).send();
      }
    }

    const owner = await deps.db.user.findUnique({
      where: { id: key.userId },
      select: { credits: true },
    });
    const { jobId } = await submitJob(
      deps,
      // On the sandbox API a signed URL runs a sandbox job: free, its imports whitelist-checked.
      { userId: key.userId, sandbox: request.isSandbox, credits: owner?.credits ?? 0 },
      body,
    );
    await recordSignedJob(deps.db, {
      jobId,
      signingKeyId: key.id,
      cacheKey: signed.cacheKey,
      jobHash,
    });
    const found = await deps.waiters.wait(
      jobId,
      `job:${jobId}:${key.userId}`,
      () => findJob(deps.db, jobId, key.userId),
      (f) => isTerminal(f.job.status),
      ctx.abortOnClose(reply),
    );
    if (!found || !isTerminal(found.job.status)) {
      throw new AppError('SERVICE_UNAVAILABLE');
    }

    return answer(reply, serializeJob(found.job, ctx.urls(request), found.tasks));
  });
}

/** 302 to the first exported file, or the failed task's code and message. */
function answer(reply: FastifyReply, job: Record<string, unknown>) {
  const url = firstExportUrl(job);
  if (job.status === 'finished' && url) {
    return reply.code(302).header('location', url).send();
  }

  const tasks = (job.tasks ?? []) as { status: string; code: string | null; message: string }[];
  const failed =
    tasks.find((t) => t.status === 'error' && t.code !== 'INPUT_TASK_FAILED') ??
    tasks.find((t) => t.status === 'error');
  const code = failed?.code ?? 'NO_INPUT_FILES';
  const known = (CODES as Record<string, { status: number; message: string } | undefined>)[code];

  return reply
    .code(known && known.status >= 400 ? known.status : 422)
    .type('application/json')
    .send(JSON.stringify({ message: failed?.message ?? known?.message ?? code, code }));
}

/** The export URL of a recent job of the same key, cache key and job whose files still exist. */
async function reusableResult(
  deps: Deps,
  request: FastifyRequest,
  ctx: RouteContext,
  input: { signingKeyId: string; userId: number; cacheKey: string; jobHash: string },
): Promise<string | null> {
  const since = new Date(Date.now() - deps.config.signedUrlCacheTtlSec * 1000);
  for (const jobId of await findCachedSignedJobs(deps.db, { ...input, since })) {
    const found = await findJob(deps.db, jobId, input.userId);
    const exported = found?.tasks.find(
      (t) => t.operation === 'export/url' && t.status === 'finished',
    );
    if (!found || !exported) {
      continue;
    }
    const files = await deps.db.taskFile.findMany({ where: { taskId: exported.id } });
    const sizes = await Promise.all(files.map((f) => deps.storage.size(f.storageKey)));
    if (files.length > 0 && sizes.every((size) => size !== null)) {
      return firstExportUrl(serializeJob(found.job, ctx.urls(request), found.tasks)) ?? null;
    }
  }

  return null;
}
