// Entry point of the gateway: main API on PORT, sync API on SYNC_PORT.
import { createLogger, exitOnStartupFailure, loadConfig, onShutdown } from '@convertd/config';
import { createDb, ensureBootstrapKey, ensureDatabase, migrate } from '@convertd/db';
import { pingRedis } from '@convertd/queue';

import { buildApp } from './app';
import { createDeps } from './deps';

const logger = createLogger('gateway');

async function main(): Promise<void> {
  const config = loadConfig();
  await ensureDatabase(config.databaseUrl);
  const { applied } = await migrate(config.databaseUrl);
  if (applied.length > 0) {
    logger.info({ applied }, 'migrations applied');
  }
  await pingRedis(config.redisUrl);
  if (config.bootstrapApiKey) {
    const db = createDb(config.databaseUrl, { max: 1 });
    await ensureBootstrapKey(db, config.bootstrapApiKey);
    await db.$disconnect();
  }

  const deps = await createDeps(config, logger);
  const main = buildApp(deps, { mode: 'main' });
  const sync = buildApp(deps, { mode: 'sync' });
  await main.listen({ port: config.port, host: config.host });
  await sync.listen({ port: config.syncPort, host: config.host });
  logger.info(
    {
      port: config.port,
      syncPort: config.syncPort,
      tls: deps.tls !== null,
      publicUrl: config.publicUrl ?? null,
    },
    'gateway ready',
  );

  onShutdown(async (signal) => {
    logger.info({ signal }, 'shutting down');
    deps.waiters.close();
    await Promise.allSettled([main.close(), sync.close()]);
    await deps.close();
  });
}

main().catch((err: unknown) => exitOnStartupFailure('gateway', logger, err));
