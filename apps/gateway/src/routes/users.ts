import { serializeUser } from '@convertd/api';
import { AppError } from '@convertd/errors';
import type { FastifyInstance } from 'fastify';

import type { Deps } from '../deps';
import { principal, requireScope } from '../plugins/auth';
import { sendData } from './common';
import type { RouteContext } from './context';

export function registerUserRoutes(app: FastifyInstance, deps: Deps, ctx: RouteContext): void {
  app.get(
    '/v2/users/me',
    { preHandler: requireScope(deps, 'user.read') },
    async (request, reply) => {
      const user = await deps.db.user.findUnique({ where: { id: principal(request).userId } });
      if (!user) {
        throw new AppError('UNAUTHENTICATED');
      }

      return sendData(reply, 200, serializeUser(user, ctx.origin(request)));
    },
  );
}
