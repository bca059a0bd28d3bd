import type { FastifyInstance } from 'fastify';

import type { Deps } from '../deps';

/** `/healthz`: the process lives. `/readyz`: Postgres, Redis and a worker answer. */
export function registerHealthRoutes(app: FastifyInstance, deps: Deps): void {
  app.get('/healthz', async (_request, reply) =>
    reply.type('application/json').send('{"status":"ok"}'),
  );

  app.get('/readyz', async (_request, reply) => {
    const [database, redis, workers] = await Promise.all([
      withTimeout(deps.db.$queryRaw`SELECT 1`.then(() => true)),
      withTimeout(deps.redis.ping().then((r) => r === 'PONG')),
      withTimeout(
        deps.redis
          .exists(`${deps.config.queuePrefix}:workers`)
          .then(async () => (await liveWorkers(deps)) > 0),
      ),
    ]);
    const ready = database && redis && workers;

    return reply
      .code(ready ? 200 : 503)
      .type('application/json')
      .send(
        JSON.stringify({
          status: ready ? 'ready' : 'not ready',
          checks: { database, redis, workers },
        }),
      );
  });
}

async function liveWorkers(deps: Deps): Promise<number> {
  const [, keys] = await deps.redis.scan(
    '0',
    'MATCH',
    `${deps.config.queuePrefix}:workers:*`,
    'COUNT',
    1000,
  );
  return keys.length;
}

async function withTimeout(check: Promise<boolean>, ms = 2000): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([check.catch(() => false), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
