import { randomUUID } from 'node:crypto';

import {
  isProcessingOperation,
  listEnvelope,
  parseTask,
  serializeTask,
  OPERATIONS,
  type JobView,
  type TaskView,
} from '@convertd/api';
import { cancelTask, createTask, deleteTask, retryTask } from '@convertd/db';
import { AppError } from '@convertd/errors';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import type { Deps } from '../deps';
import { principal, requireCredits, requireScope } from '../plugins/auth';
import { rateLimit } from '../plugins/rate-limit';
import { applyOutcome } from '../services/effects';
import { checkEnginesServed } from '../services/engines';
import { isInlineImport, storeInlineImport, withStored } from '../services/imports';
import { uploadResult } from '../services/urls';
import { findJob, findTask, findTasks, inputFormatOf, isTerminal, isUuid } from '../services/views';
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

type WithId = FastifyRequest<{ Params: { id: string } }>;

export function registerTaskRoutes(app: FastifyInstance, deps: Deps, ctx: RouteContext): void {
  const read = { preHandler: requireScope(deps, 'task.read') };
  const write = { preHandler: requireScope(deps, 'task.write') };
  const limited = rateLimit(deps);
  const readLimited = { preHandler: [read.preHandler, limited] };
  const writeLimited = { preHandler: [write.preHandler, limited] };

  app.get('/v2/tasks', read, async (request, reply) => {
    const user = principal(request);
    const query = queryOf(request);
    const { page, perPage } = pageOf(query);
    const status = statusFilter(query);
    const jobId = filterOf(query, 'job_id');
    if (jobId !== undefined && !isUuid(jobId)) {
      return sendJson(
        reply,
        200,
        listEnvelope([], {
          origin: ctx.origin(request),
          path: '/v2/tasks',
          page,
          perPage,
          hasNext: false,
          query: linkQuery(query),
        }),
      );
    }

    const operation = filterOf(query, 'operation');
    const rows = await findTasks(
      deps.db,
      {
        userId: user.userId,
        ...(status ? { status } : {}),
        ...(jobId ? { jobId } : {}),
        ...(operation ? { operation } : {}),
      },
      { skip: (page - 1) * perPage, take: perPage + 1 },
    );
    const origin = ctx.origin(request);
    const urls = ctx.urls(request);
    const include = includesOf(query);
    const tasks = rows.slice(0, perPage);
    const data = await Promise.all(
      tasks.map(async (t) =>
        serializeTask(t, urls, { include, ...(await extrasOf(deps, t, include, user.userId)) }),
      ),
    );

    return sendJson(
      reply,
      200,
      listEnvelope(data, {
        origin,
        path: '/v2/tasks',
        page,
        perPage,
        hasNext: rows.length > perPage,
        query: linkQuery(query),
      }),
    );
  });

  const show = async (request: WithId, reply: FastifyReply, wait: boolean) => {
    const user = principal(request);
    const load = () => findTask(deps.db, request.params.id, user.userId);
    const task = wait
      ? await deps.waiters.wait(
          request.params.id,
          `task:${request.params.id}:${user.userId}`,
          load,
          (t) => isTerminal(t.status),
          ctx.abortOnClose(reply),
        )
      : await load();
    if (!task) {
      throw new AppError('NOT_FOUND');
    }

    const include = includesOf(queryOf(request));
    return serializeTask(task, ctx.urls(request), {
      include,
      ...(await extrasOf(deps, task, include, user.userId)),
    });
  };

  app.get('/v2/tasks/:id', readLimited, async (request: WithId, reply) =>
    sendData(reply, 200, await show(request, reply, request.isSync)),
  );
  app.get('/v2/tasks/:id/wait', read, async (request: WithId, reply) =>
    sendData(reply, 200, await show(request, reply, true)),
  );

  app.post('/v2/tasks/:id/cancel', write, async (request: WithId, reply) => {
    const user = principal(request);
    mustBeUuid(request.params.id);
    const outcome = await cancelTask(deps.db, request.params.id, user.userId, deps.route);
    await deps.events.control({ type: 'stop', taskIds: [request.params.id] });
    await applyOutcome(deps, outcome);

    return sendData(reply, 200, await show(request, reply, false));
  });

  app.post('/v2/tasks/:id/retry', writeLimited, async (request: WithId, reply) => {
    const user = principal(request);
    mustBeUuid(request.params.id);
    // A retry is a sandbox task when its original was (retryTask), whichever key asks for it.
    const original = await deps.db.task.findFirst({
      where: { id: request.params.id, userId: user.userId },
      select: { sandbox: true },
    });
    requireCredits({ sandbox: original?.sandbox ?? user.sandbox, credits: user.credits });
    const id = randomUUID();
    const outcome = await retryTask(
      deps.db,
      request.params.id,
      id,
      user.userId,
      deps.route,
      (operation) => (operation === 'import/upload' ? uploadResult(id) : undefined),
    );
    await applyOutcome(deps, outcome);
    const task = await findTask(deps.db, id, user.userId);

    return sendData(reply, 201, serializeTask(task!, ctx.urls(request)));
  });

  app.delete('/v2/tasks/:id', writeLimited, async (request: WithId, reply) => {
    const user = principal(request);
    mustBeUuid(request.params.id);
    const deletion = await deleteTask(deps.db, request.params.id, user.userId, deps.route);
    await applyOutcome(deps, deletion.outcome);
    await ctx.cleanUp(deletion);

    return reply.code(204).send();
  });

  for (const operation of OPERATIONS) {
    app.post(`/v2/${operation}`, writeLimited, async (request, reply) => {
      const user = principal(request);
      requireCredits(user);
      const input = parseTask(operation, request.body);
      if (isProcessingOperation(operation)) {
        const check = await checkEnginesServed(deps, [
          {
            at: '',
            payload: input.payload,
            operation,
            inputFormat: await inputFormatOf(deps.db, input.inputIds, user.userId),
          },
        ]);
        if (check.deprecated) {
          reply.header('deprecation', 'true');
        }
      }
      const id = randomUUID();
      const stored: string[] = [];
      const outcome = await withStored(deps, stored, async () =>
        createTask(
          deps.db,
          {
            id,
            userId: user.userId,
            name: input.name,
            operation,
            payload: input.payload as never,
            inputIds: input.inputIds,
            sandbox: user.sandbox,
            ...(operation === 'import/upload' ? { result: uploadResult(id) } : {}),
            ...(isInlineImport(operation)
              ? {
                  ended: await storeInlineImport(
                    deps,
                    id,
                    operation,
                    input.payload as Record<string, unknown>,
                    stored,
                  ),
                }
              : {}),
          },
          deps.route,
          deps.cipher,
        ),
      );
      await applyOutcome(deps, outcome);
      const task = await findTask(deps.db, id, user.userId);

      return sendData(reply, 201, serializeTask(task!, ctx.urls(request)));
    });
  }
}

async function extrasOf(deps: Deps, task: TaskView, include: ReadonlySet<string>, userId: number) {
  const extras: { retries?: TaskView[]; dependsOnTasks?: TaskView[]; job?: JobView } = {};
  if (include.has('retries')) {
    extras.retries = await findTasks(deps.db, { retryOfTaskId: task.id, userId });
  }
  if (include.has('depends_on_tasks')) {
    const inputs = await findTasks(deps.db, { id: { in: task.dependsOnTaskIds }, userId });
    extras.dependsOnTasks = task.dependsOnTaskIds.flatMap((id) =>
      inputs.filter((t) => t.id === id),
    );
  }
  if (include.has('job') && task.jobId) {
    const found = await findJob(deps.db, task.jobId, userId);
    if (found) {
      extras.job = found.job;
    }
  }

  return extras;
}

function mustBeUuid(id: string): void {
  if (!isUuid(id)) {
    throw new AppError('NOT_FOUND');
  }
}
