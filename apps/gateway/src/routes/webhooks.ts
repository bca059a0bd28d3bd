import { randomUUID } from 'node:crypto';

import { listEnvelope, serializeWebhook } from '@convertd/api';
import { AppError } from '@convertd/errors';
import { newSigningSecret, parseWebhookInput } from '@convertd/webhooks';
import type { FastifyInstance } from 'fastify';

import type { Deps } from '../deps';
import { principal, requireScope } from '../plugins/auth';
import { isUuid } from '../services/views';
import { filterOf, linkQuery, pageOf, queryOf, sendData, sendJson } from './common';
import type { RouteContext } from './context';

/** Webhooks one account may have (each job event is written once per webhook). */
export const MAX_WEBHOOKS = 100;

/** Account webhooks (API.md §2.8); deliveries are the outbox's business (packages/webhooks). */
export function registerWebhookRoutes(app: FastifyInstance, deps: Deps, ctx: RouteContext): void {
  const read = { preHandler: requireScope(deps, 'webhook.read') };
  const write = { preHandler: requireScope(deps, 'webhook.write') };

  app.post('/v2/webhooks', write, async (request, reply) => {
    const user = principal(request);
    const input = parseWebhookInput(request.body, deps.config.allowPrivateUrls);
    if ((await deps.db.webhook.count({ where: { userId: user.userId } })) >= MAX_WEBHOOKS) {
      throw new AppError('INVALID_DATA', {
        errors: { url: [`An account has at most ${MAX_WEBHOOKS} webhooks; delete one first.`] },
      });
    }
    const hook = await deps.db.webhook.create({
      data: {
        id: randomUUID(),
        userId: user.userId,
        url: input.url,
        events: input.events,
        signingSecret: newSigningSecret(),
      },
    });

    return sendData(reply, 201, serializeWebhook(hook, ctx.origin(request)));
  });

  app.get('/v2/users/me/webhooks', read, async (request, reply) => {
    const user = principal(request);
    const query = queryOf(request);
    const { page, perPage } = pageOf(query);
    const url = filterOf(query, 'url');
    const rows = await deps.db.webhook.findMany({
      where: { userId: user.userId, ...(url === undefined ? {} : { url }) },
      orderBy: [{ createdAt: 'desc' }, { id: 'asc' }],
      skip: (page - 1) * perPage,
      take: perPage + 1,
    });
    const origin = ctx.origin(request);

    return sendJson(
      reply,
      200,
      listEnvelope(
        rows.slice(0, perPage).map((hook) => serializeWebhook(hook, origin)),
        {
          origin,
          path: '/v2/users/me/webhooks',
          page,
          perPage,
          hasNext: rows.length > perPage,
          query: linkQuery(query),
        },
      ),
    );
  });

  app.delete<{ Params: { id: string } }>('/v2/webhooks/:id', write, async (request, reply) => {
    const user = principal(request);
    const deleted = isUuid(request.params.id)
      ? await deps.db.webhook.deleteMany({ where: { id: request.params.id, userId: user.userId } })
      : { count: 0 };
    if (deleted.count === 0) {
      throw new AppError('NOT_FOUND');
    }

    return reply.code(204).send();
  });
}
