import { listEnvelope, serializeJob } from '@convertd/api';
import { deleteJob } from '@convertd/db';
import { AppError } from '@convertd/errors';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import type { Deps } from '../deps';
import { principal, requireScope } from '../plugins/auth';
import { rateLimit } from '../plugins/rate-limit';
import { applyOutcome } from '../services/effects';
import { submitJob } from '../services/submit-job';
import { findJob, isTerminal, isUuid, jobTasks } from '../services/views';
import {
  filterOf,
  includesOf,
  linkQuery,
  pageOf,
  queryOf,
  sendData,
  sendJson,
  statusFilter,
} from './common';
import type { RouteContext } from './context';

export function registerJobRoutes(app: FastifyInstance, deps: Deps, ctx: RouteContext): void {
  const read = { preHandler: requireScope(deps, 'task.read') };
  const write = { preHandler: requireScope(deps, 'task.write') };
  const limited = rateLimit(deps);
  const readLimited = { preHandler: [read.preHandler, limited] };
  const writeLimited = { preHandler: [write.preHandler, limited] };

  app.post('/v2/jobs', writeLimited, async (request, reply) => {
    const user = principal(request);
    const { jobId, deprecated } = await submitJob(deps, user, request.body);
    if (deprecated) {
      // RFC 9745: the engine version some task runs on is deprecated (its message says which).
      reply.header('deprecation', 'true');
    }

    // On the sync API, creating a job also waits for it (and may redirect to its first export).
    const load = () => findJob(deps.db, jobId, user.userId);
    const found = request.isSync
      ? await deps.waiters.wait(
          jobId,
          `job:${jobId}:${user.userId}`,
          load,
          (f) => isTerminal(f.job.status),
          ctx.abortOnClose(reply),
        )
      : await load();
    if (!found) {
      throw new AppError('NOT_FOUND');
    }

    const urls = ctx.urls(request);
    const job = serializeJob(found.job, urls, found.tasks);
    const exported = firstExportUrl(job);
    if (request.isSync && wantsRedirect(request.body) && exported) {
      return reply.code(302).header('location', exported).send();
    }

    return sendData(reply, 201, job);
  });

  app.get('/v2/jobs', read, async (request, reply) => {
    const user = principal(request);
    const query = queryOf(request);
    const { page, perPage } = pageOf(query);
    const status = statusFilter(query);

    const tag = filterOf(query, 'tag');
    const rows = await deps.db.job.findMany({
      where: { userId: user.userId, ...(status ? { status } : {}), ...(tag ? { tag } : {}) },
      orderBy: [{ createdAt: 'desc' }, { id: 'asc' }],
      skip: (page - 1) * perPage,
      take: perPage + 1,
    });
    const jobs = rows.slice(0, perPage);
    const origin = ctx.origin(request);
    const withTasks = includesOf(query).has('tasks')
      ? await jobTasks(
          deps.db,
          jobs.map((j) => j.id),
        )
      : null;
    const urls = ctx.urls(request);
    const data = jobs.map((j) => serializeJob(j, urls, withTasks?.get(j.id)));

    return sendJson(
      reply,
      200,
      listEnvelope(data, {
        origin,
        path: '/v2/jobs',
        page,
        perPage,
        hasNext: rows.length > perPage,
        query: linkQuery(query),
      }),
    );
  });

  const show = async (
    request: FastifyRequest<{ Params: { id: string } }>,
    reply: FastifyReply,
    wait: boolean,
  ) => {
    const user = principal(request);
    const load = () => findJob(deps.db, request.params.id, user.userId);
    const found = wait
      ? await deps.waiters.wait(
          request.params.id,
          `job:${request.params.id}:${user.userId}`,
          load,
          (f) => isTerminal(f.job.status),
          ctx.abortOnClose(reply),
        )
      : await load();
    if (!found) {
      throw new AppError('NOT_FOUND');
    }

    return serializeJob(found.job, ctx.urls(request), found.tasks);
  };

  app.get<{ Params: { id: string } }>('/v2/jobs/:id', readLimited, async (request, reply) =>
    sendData(reply, 200, await show(request, reply, request.isSync)),
  );
  app.get<{ Params: { id: string } }>('/v2/jobs/:id/wait', read, async (request, reply) =>
    sendData(reply, 200, await show(request, reply, true)),
  );

  app.delete<{ Params: { id: string } }>('/v2/jobs/:id', writeLimited, async (request, reply) => {
    const user = principal(request);
    if (!isUuid(request.params.id)) {
      throw new AppError('NOT_FOUND');
    }

    const deletion = await deleteJob(deps.db, request.params.id, user.userId, deps.route);
    await applyOutcome(deps, deletion.outcome);
    await ctx.cleanUp(deletion);

    return reply.code(204).send();
  });
}

function wantsRedirect(body: unknown): boolean {
  return (
    typeof body === 'object' && body !== null && (body as { redirect?: unknown }).redirect === true
  );
}

/** The URL of the first file of the first finished `export/url` task of a serialized job. */
export function firstExportUrl(job: Record<string, unknown>): string | undefined {
  const tasks = (job.tasks ?? []) as {
    operation: string;
    status: string;
    result?: { files?: { url?: string }[] } | null;
  }[];
  const exported = tasks.find((t) => t.operation === 'export/url' && t.status === 'finished');

  return exported?.result?.files?.[0]?.url;
}
